package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Path returns the browser binary: $CHROMIUM, else chromium on PATH. It
// skips t (fails it under CI) when there is none.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "/usr/bin/chromium", "chromium-browser"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found, and CI is set: install Debian's chromium package (apt-get install -y chromium)")
	}
	t.Skip("chromium not found: install Debian's chromium package (apt-get install -y chromium) to run the browser tests")
	return ""
}

// DumpDOM loads url and returns the DOM once the page has had budget of
// virtual time to run its scripts.
func DumpDOM(t testing.TB, url string, budget time.Duration) string {
	t.Helper()
	return string(Run(t, budget, "--dump-dom", url))
}

// Screenshot writes a PNG of url at the given window size to path.
func Screenshot(t testing.TB, url, path string, width, height int, budget time.Duration) {
	t.Helper()
	Run(t, budget, "--screenshot="+path, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height), "--hide-scrollbars", url)
}

// Run runs headless Chromium with extra arguments, in its own process group
// with a private profile, and kills the whole group when it ends or after a
// minute. Its flags keep it off the network: this machine reaches nothing
// but loopback, and Chromium's background connections would only fail.
func Run(t testing.TB, budget time.Duration, extra ...string) []byte {
	t.Helper()
	bin := Path(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad", "--user-data-dir=" + filepath.Join(dir, "profile"),
		"--virtual-time-budget=" + strconv.Itoa(int(budget/time.Millisecond)),
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	// A private HOME keeps Chromium's caches and crash dumps in the temp dir.
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_CACHE_HOME="+dir, "TZ=UTC", "LANG=en_US.UTF-8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		// Renderer and GPU helpers may outlive the browser process.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium %s: %v\nstderr:\n%s", strings.Join(extra, " "), err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

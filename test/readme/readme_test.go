package readme

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// block is one ```sh block of README.md.
type block struct {
	line int // of its first command
	text string
}

func shellBlocks(t *testing.T) []block {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	re := regexp.MustCompile("(?s)```sh\n(.*?)```")
	for _, m := range re.FindAllSubmatchIndex(data, -1) {
		out = append(out, block{line: strings.Count(string(data[:m[2]]), "\n") + 1, text: string(data[m[2]:m[3]])})
	}
	if len(out) == 0 {
		t.Fatal("README.md has no ```sh blocks")
	}
	return out
}

// kind says how a block is checked, from its first command.
func kind(b block) string {
	first := ""
	for l := range strings.SplitSeq(b.text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			first = l
			break
		}
	}
	switch {
	case strings.HasPrefix(first, "go run ./cmd/bridge "):
		return "run"
	case strings.Contains(b.text, "http://localhost:3000/"):
		return "run against bridge serve"
	case strings.HasPrefix(first, "make demo"), strings.HasPrefix(first, "make invoke"):
		return "covered by cmd/demo's TestDemo and TestInvokeReportsWithoutJudging"
	case strings.HasPrefix(first, "make run"):
		return "covered: the curl block runs against the same bridge serve"
	case strings.HasPrefix(first, "aws "), strings.HasPrefix(first, "sam "), strings.HasPrefix(first, "dlq_arn=$(aws "):
		return "needs AWS"
	}
	return ""
}

// command is one command of a block and the output the README shows for it:
// the comment lines right after it (a comment after a blank line describes
// the next command instead).
type command struct {
	text string
	want []string
}

func commands(b block) []command {
	var out []command
	var cur *command
	inOutput := false
	lines := strings.Split(b.text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			inOutput = false
		case strings.HasPrefix(l, "#"):
			if inOutput && cur != nil {
				cur.want = append(cur.want, strings.TrimPrefix(strings.TrimPrefix(l, "#"), " "))
			}
		default:
			text := l
			for strings.HasSuffix(text, "\\") && i+1 < len(lines) {
				i++
				text += "\n" + lines[i]
			}
			out = append(out, command{text: text})
			cur = &out[len(out)-1]
			inOutput = true
		}
	}
	return out
}

// matches reports whether got shows want: "..." stands for anything, and a
// trailing " ..." for the rest of the line (or nothing). Output that is
// itself a comment ("# route github ...") is shown once, not as "# # ...".
func matches(want, got string) bool {
	if c, ok := strings.CutPrefix(got, "# "); ok && matches(want, c) {
		return true
	}
	want = strings.TrimSuffix(want, " ...")
	parts := strings.Split(want, "...")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*")).MatchString(got)
}

const marker = "@@README-COMMAND-END@@"

// runBlock runs the commands of a block in one bash (variables carry over)
// from the module root and returns each command's output.
func runBlock(t *testing.T, cmds []command, replace func(string) string) []string {
	t.Helper()
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, c := range cmds {
		fmt.Fprintf(&script, "%s\necho\necho %s\n", replace(c.text), marker)
	}
	cmd := exec.CommandContext(t.Context(), "bash", "-c", script.String())
	cmd.Dir = "../.."
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("README block failed: %v\nscript:\n%s\nstdout:\n%s\nstderr:\n%s", err, script.String(), out, stderr.String())
	}
	parts := strings.Split(string(out), marker+"\n")
	if len(parts) != len(cmds)+1 {
		t.Fatalf("%d outputs for %d commands:\n%s", len(parts)-1, len(cmds), out)
	}
	return parts[:len(cmds)]
}

// checkOutput finds the README's expected lines, in order, in the output.
func checkOutput(t *testing.T, line int, c command, out string) {
	t.Helper()
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	j := 0
	for _, w := range c.want {
		for j < len(got) && !matches(w, got[j]) {
			j++
		}
		if j == len(got) {
			t.Errorf("README.md:%d: %s\nwant a line %q (in order) in the output:\n%s", line, c.text, w, out)
			return
		}
		j++
	}
}

func TestEveryShellBlockIsCheckedOrExplained(t *testing.T) {
	for _, b := range shellBlocks(t) {
		if kind(b) == "" {
			t.Errorf("README.md:%d: a shell block this test does not know: run it here, or say why it cannot run offline\n%s", b.line, b.text)
		}
	}
}

func TestBridgeBlocks(t *testing.T) {
	n := 0
	for _, b := range shellBlocks(t) {
		if kind(b) != "run" {
			continue
		}
		n++
		cmds := commands(b)
		outs := runBlock(t, cmds, func(s string) string { return s })
		for i, c := range cmds {
			if len(c.want) == 0 {
				t.Errorf("README.md:%d: %q shows no output to check", b.line, c.text)
			}
			checkOutput(t, b.line, c, outs[i])
		}
	}
	if n == 0 {
		t.Fatal("no `go run ./cmd/bridge` block in README.md")
	}
}

// TestMakeRunBlock starts bridge serve on a free port and runs the README's
// curl examples against it, as a reader of "make run" would.
func TestMakeRunBlock(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README's curl examples were not run", tool)
		}
	}
	var blocks []block
	for _, b := range shellBlocks(t) {
		if kind(b) == "run against bridge serve" {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		t.Fatal("no curl block against localhost:3000 in README.md")
	}

	bin := filepath.Join(t.TempDir(), "bridge")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.CommandContext(t.Context(), goBin, "build", "-o", bin, "./cmd/bridge")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/bridge: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	srv := exec.CommandContext(t.Context(), bin, "serve", "--addr", addr)
	srv.Dir = "../.."
	srv.Env = cleanEnv()
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if !sent && strings.Contains(sc.Text(), "/inbox") {
				ready <- true
				sent = true
			}
		}
		if !sent {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("bridge serve exited before it was ready")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("bridge serve did not print its inbox URL within 60 s")
	}

	for _, b := range blocks {
		cmds := commands(b)
		for i := range cmds {
			// -sS: no progress meter, but errors; the README's own flags stay.
			cmds[i].text = strings.Replace(cmds[i].text, "curl ", "curl -sS ", 1)
		}
		outs := runBlock(t, cmds, func(s string) string { return strings.ReplaceAll(s, "localhost:3000", addr) })
		checked := 0
		for i, c := range cmds {
			if len(c.want) > 0 {
				checked++
				checkOutput(t, b.line, c, outs[i])
			}
		}
		if checked == 0 {
			t.Errorf("README.md:%d: the curl block shows no output to check", b.line)
		}
	}
}

// cleanEnv drops TalkJS credentials, so bridge serve uses its emulator
// whatever the environment of the test holds.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TALKJS_") || strings.HasPrefix(kv, "BRIDGE_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

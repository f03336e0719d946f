package mapping

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// coldChildEnv makes the test binary a child of BenchmarkColdStart: it
// times Default and the first webhook through a route once, in a fresh
// process, prints the nanoseconds and exits. Only a fresh process pays what
// a Lambda cold start pays (first use of each code path, page faults,
// lazily parsed templates and filters); the in-process benchmarks run warm.
const coldChildEnv = "MAPPING_BENCH_COLD_CHILD"

func TestMain(m *testing.M) {
	if body := os.Getenv(coldChildEnv); body != "" {
		os.Exit(coldChild(body))
	}
	os.Exit(m.Run())
}

// coldChild maps the GitHub issue payload at bodyPath through the default
// github route, as the webhook function's first event does, and prints
// "<Default ns> <first Webhook ns> <process CPU ns>"; the CPU time, summed
// over threads from exec to after the webhook, includes the package inits
// (and the test binary's own, the same in every version).
func coldChild(bodyPath string) int {
	body, err := os.ReadFile(bodyPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	h := http.Header{"X-Github-Event": {"issues"}, "X-Github-Delivery": {"d-1"}}
	h.Set("X-Hub-Signature-256", "sha256="+hexMAC([]byte(testSecrets["github"]), body))
	secrets := lookup(testSecrets)

	t0 := time.Now()
	c, err := Default()
	t1 := time.Now()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	res, err := c.Webhook(context.Background(), Request{Route: "github", Headers: h, Body: body, Now: testNow}, secrets)
	t2 := time.Now()
	if err != nil || len(res.Sends) == 0 {
		fmt.Fprintln(os.Stderr, err, res)
		return 1
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Println(t1.Sub(t0).Nanoseconds(), t2.Sub(t1).Nanoseconds(), cpu.Nanoseconds())
	return 0
}

// BenchmarkColdStart runs one fresh process per iteration and reports the
// medians of what Default and the first Webhook through the github route
// cost there, and of the process's CPU time up to then (ns/op is mostly
// process start-up; read the custom metrics).
func BenchmarkColdStart(b *testing.B) {
	bodyPath := filepath.Join("..", "testdata", "github", "issues", "opened.payload.json")
	if _, err := os.Stat(bodyPath); err != nil {
		b.Fatal(err)
	}
	bodyPath, err := filepath.Abs(bodyPath)
	if err != nil {
		b.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	var def, first, cpu []float64
	for b.Loop() {
		cmd := exec.CommandContext(b.Context(), self)
		cmd.Env = append(os.Environ(), coldChildEnv+"="+bodyPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("child: %v: %s", err, stderr.Bytes())
		}
		f := strings.Fields(string(out))
		if len(f) != 3 {
			b.Fatalf("child printed %q", out)
		}
		d, err1 := strconv.ParseFloat(f[0], 64)
		w, err2 := strconv.ParseFloat(f[1], 64)
		c, err3 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			b.Fatalf("child printed %q", out)
		}
		def, first, cpu = append(def, d), append(first, w), append(cpu, c)
	}
	b.ReportMetric(median(def)/1e3, "default-µs")
	b.ReportMetric(median(first)/1e3, "first-webhook-µs")
	b.ReportMetric((median(def)+median(first))/1e3, "sum-µs")
	b.ReportMetric(median(cpu)/1e3, "process-cpu-µs")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

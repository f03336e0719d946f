package rietest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var hello struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if hello.dir != "" {
		os.RemoveAll(hello.dir)
	}
	os.Exit(code)
}

// helloBootstrap builds testdata/hello once per test process.
func helloBootstrap(t testing.TB) string {
	t.Helper()
	hello.once.Do(func() {
		hello.dir, hello.err = os.MkdirTemp("", "rietest-hello")
		if hello.err == nil {
			hello.path, hello.err = Build(t.Context(), "./testdata/hello", hello.dir)
		}
	})
	if hello.err != nil {
		t.Fatal(hello.err)
	}
	return hello.path
}

type helloAnswer struct {
	Echo      json.RawMessage `json:"echo"`
	EnvValue  string          `json:"envValue"`
	RequestID string          `json:"requestId"`
	PID       int             `json:"pid"`
	Deadline  time.Time       `json:"deadline"`
}

func invokeHello(t *testing.T, f *Function, event string) helloAnswer {
	t.Helper()
	body, err := f.Invoke(t.Context(), []byte(event))
	if err != nil {
		t.Fatalf("Invoke(%s): %v", event, err)
	}
	var a helloAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("Invoke(%s) answered %q: %v", event, body, err)
	}
	return a
}

func TestFunction(t *testing.T) {
	bootstrap := helloBootstrap(t)
	t.Setenv("RIETEST_HOST_ONLY", "leaked")
	const timeout = 4 * time.Second
	f := startT(t, bootstrap, Options{
		Env:     []string{"RIETEST_GREETING=hello=from env", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256"},
		Timeout: timeout,
	})

	sent := time.Now()
	first := invokeHello(t, f, `{"echo":{"n":1},"env":"RIETEST_GREETING","print":"printed by handler"}`)
	if string(first.Echo) != `{"n":1}` {
		t.Errorf("first echo = %s, want {\"n\":1}", first.Echo)
	}
	if first.EnvValue != "hello=from env" {
		t.Errorf("RIETEST_GREETING in function = %q, want %q", first.EnvValue, "hello=from env")
	}
	if first.RequestID == "" || first.PID == 0 {
		t.Errorf("first answer lacks request id or pid: %+v", first)
	}
	if left := first.Deadline.Sub(sent); left <= 0 || left > timeout+time.Second {
		t.Errorf("deadline %v after invoke, want within (0, %v]", left, timeout)
	}

	second := invokeHello(t, f, `{"echo":"two","env":"AWS_REGION"}`)
	if string(second.Echo) != `"two"` || second.EnvValue != "us-east-1" {
		t.Errorf("second answer = echo %s, AWS_REGION %q; want \"two\", us-east-1", second.Echo, second.EnvValue)
	}
	if second.RequestID == first.RequestID {
		t.Errorf("both invokes had request id %s", first.RequestID)
	}
	if second.PID != first.PID {
		t.Errorf("second invoke ran in pid %d, first in %d: want the warm process reused", second.PID, first.PID)
	}
	if leaked := invokeHello(t, f, `{"env":"RIETEST_HOST_ONLY"}`); leaked.EnvValue != "" {
		t.Errorf("host variable reached the function: %q", leaked.EnvValue)
	}

	body, err := f.Do(t.Context(), Invocation{Event: []byte(`{}`), RequestID: "chosen-id"})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	var chosen helloAnswer
	if err := json.Unmarshal(body, &chosen); err != nil || chosen.RequestID != "chosen-id" {
		t.Errorf("Do answered %s (%v); want request id chosen-id", body, err)
	}

	body, err = f.Invoke(t.Context(), []byte(`{"fail":"boom"}`))
	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("Invoke(fail) = %q, %v; want *FunctionError", body, err)
	}
	if fe.Type != "failure" || fe.Message != "boom" || fe.StatusCode != http.StatusOK {
		t.Errorf("FunctionError = %+v, want failure/boom/200", fe)
	}
	if after := invokeHello(t, f, `{}`); after.PID != first.PID {
		t.Errorf("after a handler error the function ran in pid %d, want warm pid %d", after.PID, first.PID)
	}

	reports := f.Reports()
	if len(reports) != 6 {
		t.Fatalf("got %d reports, want 6: %+v", len(reports), reports)
	}
	if reports[0].RequestID != first.RequestID || reports[1].RequestID != second.RequestID {
		t.Errorf("report request ids %s, %s; want %s, %s", reports[0].RequestID, reports[1].RequestID, first.RequestID, second.RequestID)
	}
	for i, r := range reports {
		if r.MemorySizeMB != 256 || r.Duration <= 0 || r.BilledDuration < r.Duration {
			t.Errorf("report %d = %+v, want 256 MB and a positive duration", i, r)
		}
	}
	if inits := f.Inits(); len(inits) != 1 || inits[0] <= 0 {
		t.Errorf("Inits() = %v, want one positive duration", inits)
	}
	logs := f.Logs()
	for _, want := range []string{"START RequestId: " + first.RequestID, "printed by handler\n", "END RequestId: " + second.RequestID} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}

	riePID := f.cmd.Process.Pid
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, pid := range []int{riePID, first.PID} {
		if alive(pid) {
			t.Errorf("pid %d still running after Close", pid)
		}
	}
	if _, err := f.Invoke(t.Context(), []byte(`{}`)); err == nil {
		t.Error("Invoke after Close succeeded")
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestRestart documents when the emulator starts a new bootstrap: after a
// timeout and after the runtime exits, never after a handler error.
func TestRestart(t *testing.T) {
	f := startT(t, helloBootstrap(t), Options{Timeout: time.Second})
	first := invokeHello(t, f, `{}`)

	_, err := f.Invoke(t.Context(), []byte(`{"sleep":"10s"}`))
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Fatalf("Invoke(sleep past timeout) error = %v, want Sandbox.Timedout", err)
	}
	afterTimeout := invokeHello(t, f, `{}`)
	if afterTimeout.PID == first.PID {
		t.Errorf("after a timeout the function still ran in pid %d", first.PID)
	}
	if alive(first.PID) {
		t.Errorf("timed-out bootstrap %d still running", first.PID)
	}

	_, err = f.Invoke(t.Context(), []byte(`{"exit":3}`))
	if !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" || fe.StatusCode != http.StatusBadGateway {
		t.Fatalf("Invoke(exit) error = %v, want Runtime.ExitError with 502", err)
	}
	afterExit := invokeHello(t, f, `{}`)
	if afterExit.PID == afterTimeout.PID {
		t.Errorf("after the runtime exited the function still ran in pid %d", afterExit.PID)
	}
	if inits := f.Inits(); len(inits) != 3 {
		t.Errorf("Inits() = %v, want 3 (first start and two restarts)", inits)
	}
	// The crashed invoke prints no REPORT; the others do.
	if n := len(f.Reports()); n != 4 {
		t.Errorf("got %d reports, want 4", n)
	}
}

func TestParallelFunctions(t *testing.T) {
	bootstrap := helloBootstrap(t)
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := startT(t, bootstrap, Options{Env: []string{"WHO=" + name}})
			for range 3 {
				if got := invokeHello(t, f, `{"env":"WHO"}`); got.EnvValue != name {
					t.Errorf("WHO = %q, want %q", got.EnvValue, name)
				}
			}
		})
	}
}

func TestCloseBeforeInvoke(t *testing.T) {
	var out bytes.Buffer
	f := startT(t, helloBootstrap(t), Options{Stdout: &out})
	pid := f.cmd.Process.Pid
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if alive(pid) {
		t.Errorf("emulator pid %d still running after Close", pid)
	}
	// Close waits for the output pipe to drain, so out is complete here.
	if !strings.Contains(out.String(), "(rapid) exec") || out.String() != f.Logs() {
		t.Errorf("Options.Stdout got %q, want the emulator's output %q", out.String(), f.Logs())
	}
}

func BenchmarkInvokeWarm(b *testing.B) {
	f := startT(b, helloBootstrap(b), Options{})
	event := []byte(`{"echo":{"n":1}}`)
	if _, err := f.Invoke(b.Context(), event); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.Invoke(b.Context(), event); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStartBadInput(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		bootstrap string
		opts      Options
		want      string
	}{
		{"empty path", "", Options{}, "empty bootstrap"},
		{"missing", filepath.Join(dir, "nope"), Options{}, "no such file"},
		{"directory", dir, Options{}, "not an executable"},
		{"not executable", notExec, Options{}, "not an executable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Start(t.Context(), tt.bootstrap, tt.opts)
			if err == nil {
				f.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestBuildBadInput(t *testing.T) {
	tests := []struct {
		name, pkg, want string
	}{
		{"empty package", "", "empty package"},
		{"missing package", "./testdata/nope", "testdata/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(t.Context(), tt.pkg, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build(%q) error = %v, want one mentioning %q", tt.pkg, err, tt.want)
			}
		})
	}
}

// startT starts a Function for a test or benchmark, fails it if that does not
// work, closes the Function when it ends and then, if it failed, logs
// everything the emulator and the function printed.
func startT(t testing.TB, bootstrap string, opts Options) *Function {
	t.Helper()
	f, err := Start(t.Context(), bootstrap, opts)
	if err != nil {
		t.Fatalf("rietest: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("rietest: output of %s:\n%s", bootstrap, f.Logs())
		}
	})
	return f
}

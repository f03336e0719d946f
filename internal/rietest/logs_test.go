package rietest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseReport(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Report
		ok   bool
	}{
		{
			name: "first invoke",
			line: "REPORT RequestId: 1154fb10-3893\tInit Duration: 0.33 ms\tDuration: 20.18 ms\tBilled Duration: 21 ms\tMemory Size: 3008 MB\tMax Memory Used: 3008 MB\t",
			want: Report{RequestID: "1154fb10-3893", InitDuration: 330 * time.Microsecond, Duration: 20180 * time.Microsecond,
				BilledDuration: 21 * time.Millisecond, MemorySizeMB: 3008, MaxMemoryUsedMB: 3008},
			ok: true,
		},
		{
			name: "warm invoke",
			line: "REPORT RequestId: abc\tDuration: 2000.00 ms\tBilled Duration: 2000 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t",
			want: Report{RequestID: "abc", Duration: 2 * time.Second, BilledDuration: 2 * time.Second, MemorySizeMB: 128, MaxMemoryUsedMB: 128},
			ok:   true,
		},
		{name: "unknown field ignored", line: "REPORT RequestId: x\tSurprise: 1 ms", want: Report{RequestID: "x"}, ok: true},
		{name: "garbled numbers", line: "REPORT RequestId: x\tDuration: fast\tMemory Size: lots", want: Report{RequestID: "x"}, ok: true},
		{name: "no request id", line: "REPORT RequestId: \tDuration: 1 ms"},
		{name: "START line", line: "START RequestId: x Version: $LATEST"},
		{name: "function output", line: "a REPORT RequestId: x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseReport(tt.line)
			if ok != tt.ok || got != tt.want {
				t.Errorf("parseReport = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseInitReport(t *testing.T) {
	tests := []struct {
		name string
		line string
		want time.Duration
		ok   bool
	}{
		{"rapid line", "25 Nov 2026 12:13:43,621 [INFO] (rapid) INIT REPORT(durationMs: 15.840000)", 15840 * time.Microsecond, true},
		{"init start", "25 Nov 2026 12:13:43,605 [INFO] (rapid) INIT START(type: on-demand, phase: init)", 0, false},
		{"unterminated", "(rapid) INIT REPORT(durationMs: 15.8", 0, false},
		{"not a number", "(rapid) INIT REPORT(durationMs: soon)", 0, false},
		{"negative", "(rapid) INIT REPORT(durationMs: -1)", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseInitReport(tt.line)
			if ok != tt.ok || got != tt.want {
				t.Errorf("parseInitReport = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLogSinkSplitsWrites(t *testing.T) {
	s := newLogSink(nil)
	line := "REPORT RequestId: r1\tDuration: 1.00 ms\t\n(rapid) INIT REPORT(durationMs: 2.0)\n"
	for i := range len(line) {
		s.Write([]byte{line[i]})
	}
	if r := s.Reports(); len(r) != 1 || r[0].RequestID != "r1" {
		t.Errorf("Reports() = %+v, want one for r1", r)
	}
	if in := s.Inits(); len(in) != 1 || in[0] != 2*time.Millisecond {
		t.Errorf("Inits() = %v, want [2ms]", in)
	}
	if !s.waitReport("r1", 0) {
		t.Error("waitReport(r1) = false")
	}
	if s.waitReport("r2", 10*time.Millisecond) {
		t.Error("waitReport(r2) = true for an absent report")
	}
	if s.String() != line {
		t.Errorf("String() = %q, want %q", s.String(), line)
	}
}

func TestAnswerError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   *FunctionError // nil: no FunctionError
		plain  bool           // another, non-function error
	}{
		{name: "result", status: 200, body: `{"ok":true}`},
		{name: "result with errorType and more", status: 200, body: `{"errorType":"x","id":1}`},
		{name: "scalar result", status: 200, body: `"errorMessage"`},
		{name: "empty result", status: 200, body: ``},
		{name: "handler error", status: 200, body: `{"errorMessage":"boom","errorType":"failure"}`,
			want: &FunctionError{Type: "failure", Message: "boom", StatusCode: 200}},
		{name: "panic with stack", status: 200, body: `{"errorMessage":"oops","errorType":"runtime.Error","stackTrace":[{"path":"a.go"}]}`,
			want: &FunctionError{Type: "runtime.Error", Message: "oops", StatusCode: 200}},
		{name: "timeout", status: 200, body: `Task timed out after 3.00 seconds`,
			want: &FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out after 3.00 seconds", StatusCode: 200}},
		{name: "runtime exit", status: 502, body: `{"errorType":"Runtime.ExitError","errorMessage":"exit status 3"}`,
			want: &FunctionError{Type: "Runtime.ExitError", Message: "exit status 3", StatusCode: 502}},
		{name: "refused", status: 400, body: ``, plain: true},
		{name: "wrong field type", status: 500, body: `{"errorType":7}`, plain: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := answerError(tt.status, []byte(tt.body))
			fe, isFE := err.(*FunctionError)
			switch {
			case tt.want != nil:
				if !isFE || *fe != *tt.want {
					t.Errorf("answerError = %v, want %+v", err, tt.want)
				}
			case tt.plain:
				if err == nil || isFE || !strings.Contains(err.Error(), fmt.Sprint(tt.status)) {
					t.Errorf("answerError = %v, want a plain error naming status %d", err, tt.status)
				}
			default:
				if err != nil {
					t.Errorf("answerError = %v, want nil", err)
				}
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		want    []string // entries that must be present
		wantErr string
	}{
		{name: "defaults", want: []string{"AWS_REGION=us-east-1", "AWS_LAMBDA_FUNCTION_NAME=rietest", "AWS_LAMBDA_FUNCTION_TIMEOUT=30"}},
		{name: "timeout rounds up", opts: Options{Timeout: 1500 * time.Millisecond}, want: []string{"AWS_LAMBDA_FUNCTION_TIMEOUT=2"}},
		{name: "env overrides default", opts: Options{Env: []string{"AWS_REGION=eu-west-1", "A=1", "A=2"}}, want: []string{"AWS_REGION=eu-west-1", "A=2"}},
		{name: "value with equals", opts: Options{Env: []string{"K=a=b"}}, want: []string{"K=a=b"}},
		{name: "no equals", opts: Options{Env: []string{"JUSTAKEY"}}, wantErr: `"JUSTAKEY" is not KEY=VALUE`},
		{name: "empty key hides value", opts: Options{Env: []string{"=secret"}}, wantErr: `"=…"`},
		{name: "negative timeout", opts: Options{Timeout: -time.Second}, wantErr: "negative timeout"},
		{name: "bad timeout variable", opts: Options{Env: []string{"AWS_LAMBDA_FUNCTION_TIMEOUT=1.5"}}, wantErr: "not a positive number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := environment(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("environment error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows a value", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, kv := range env {
				k, _, _ := strings.Cut(kv, "=")
				seen[k]++
				if k == "AWS_ACCESS_KEY_ID" || k == "AWS_SECRET_ACCESS_KEY" {
					t.Errorf("host credential %s passed on", k)
				}
			}
			for k, n := range seen {
				if n > 1 {
					t.Errorf("%s set %d times", k, n)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains("\n"+strings.Join(env, "\n")+"\n", "\n"+w+"\n") {
					t.Errorf("env %q lacks %q", env, w)
				}
			}
		})
	}
}

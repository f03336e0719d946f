package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
)

// Help is asked for, not a mistake: it goes to stdout and exits 0, for the
// command and for each subcommand, in one style ("usage: bridge <cmd> ...",
// a summary, then the flags).
func TestHelp(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"--help", []string{"--help"}, []string{"usage: bridge <command>", "validate", "render", "serve", "version"}},
		{"-h", []string{"-h"}, []string{"usage: bridge <command>"}},
		{"help", []string{"help"}, []string{"usage: bridge <command>"}},
		{"help render", []string{"help", "render"}, []string{"usage: bridge render --route NAME", "-route", "-H", "-o"}},
		{"validate --help", []string{"validate", "--help"}, []string{"usage: bridge validate", "-o"}},
		{"render --help", []string{"render", "--help"}, []string{"usage: bridge render", "-app-id", "-now", "-routes"}},
		{"render -h after flags", []string{"render", "--route", "github", "-h"}, []string{"usage: bridge render"}},
		{"default --help", []string{"default", "--help"}, []string{"usage: bridge default", "embedded routes file"}},
		{"serve --help", []string{"serve", "--help"}, []string{"usage: bridge serve", "-addr", "-routes"}},
		{"version --help", []string{"version", "--help"}, []string{"usage: bridge version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCmd(tt.args...)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// A wrong flag is a usage error: exit 2, the error and the usage on stderr,
// nothing on stdout.
func TestUnknownFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"top level", []string{"--nope"}, []string{`unknown flag "--nope"`, "usage: bridge <command>"}},
		{"validate", []string{"validate", "--nope"}, []string{"flag provided but not defined: -nope", "usage: bridge validate"}},
		{"render", []string{"render", "--route", "github", "--nope", "p.json"}, []string{"flag provided but not defined: -nope", "usage: bridge render"}},
		{"serve", []string{"serve", "-x"}, []string{"flag provided but not defined: -x", "usage: bridge serve"}},
		{"default", []string{"default", "--nope"}, []string{"flag provided but not defined", "usage: bridge default"}},
		{"bad -o", []string{"validate", "-o", "yaml"}, []string{`want text or json, got "yaml"`}},
		{"default with an argument", []string{"default", "x"}, []string{"takes no arguments", "usage: bridge default"}},
		{"help for no such command", []string{"help", "deploy"}, []string{`unknown command "deploy"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCmd(tt.args...)
			if code != exitUsage || out != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing on stdout", code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		code, out, stderr := runCmd(args...)
		// A test binary's build info has no module version or VCS data
		// of its own, but always the Go version.
		if code != exitOK || !strings.HasPrefix(out, "bridge ") || !strings.Contains(out, "go1.") || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 0 and \"bridge <version> (..., go1.N)\"", args, code, out, stderr)
		}
	}
}

func TestValidateJSON(t *testing.T) {
	code, out, _ := runCmd("validate", "-o", "json")
	var ok validateResult
	if err := json.Unmarshal([]byte(out), &ok); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	def, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	if !ok.OK || !slices.Equal(ok.Routes, def.Routes()) || !slices.Contains(ok.Routes, "github") || len(ok.Reminders) == 0 || ok.MaxTextLength == 0 {
		t.Errorf("validate -o json = %+v", ok)
	}

	bad := writeFile(t, "bad.yaml", badRoutes)
	code, out, stderr := runCmd("validate", bad, "-o", "json")
	var res validateResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitError {
		t.Fatalf("exit %d, %v: %s (stderr %s)", code, err, out, stderr)
	}
	if res.OK || res.File != bad || len(res.Problems) != 2 || res.Problems[0].Line != 6 || res.Problems[0].Field != "routes.r.actions[0].message.text" {
		t.Errorf("problems = %+v", res)
	}
}

func TestRenderJSON(t *testing.T) {
	p := filepath.Join("..", "..", "testdata", "github", "issues", "opened.payload.json")
	code, out, stderr := runCmd("render", "-o", "json", "--route", "github", "-H", "X-GitHub-Event: issues", "-H", "X-GitHub-Delivery: d-1", "--app-id", "tApp", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Route, Event string
		Handled      bool
		Requests     []struct {
			Method, Path string
			Body         json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var got []string
	for _, r := range res.Requests {
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{"PUT /v1/tApp/users/github", "PUT /v1/tApp/conversations/github-codertocat-hello-world-2dd472678382", "POST /v1/tApp/conversations/github-codertocat-hello-world-2dd472678382/messages"}
	if res.Route != "github" || res.Event != "issues.opened" || !res.Handled || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("render -o json = %+v, requests %v; want %v", res, got, want)
	}
	// The body's hash, not X-GitHub-Delivery, which GitHub does not sign.
	if last := res.Requests[len(res.Requests)-1]; !strings.Contains(string(last.Body), `"idempotencyKey":"github:sha256-`) && !strings.Contains(string(last.Body), `"idempotencyKey": "github:sha256-`) {
		t.Errorf("messages body lacks the idempotency key: %s", last.Body)
	}

	// Not handled: still JSON, with why.
	routes := writeFile(t, "r.yaml", okRoutes)
	payload := writeFile(t, "p.json", `{"kind":"note","n":1,"room":"a"}`)
	code, out, _ = runCmd("render", "-o", "json", "--routes", routes, "--route", "r", payload)
	var none renderResult
	if err := json.Unmarshal([]byte(out), &none); err != nil || code != exitOK || none.Handled || len(none.Requests) != 0 || len(none.Skipped) == 0 {
		t.Errorf("exit %d, %v: %s", code, err, out)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

const badRoutes = `routes:
  r:
    verify: {preset: github}
    actions:
      - conversation: {id: x}
        message: {text: '{{ .payload.a '}
      - when: 'payload.x ==='
        conversation: {id: x}
        message: {text: ok}
`

const okRoutes = `routes:
  r:
    verify: none
    event: {field: kind}
    actions:
      - on: [note]
        when: payload.n > 1
        conversation: {id: 'c:{{ .payload.room }}', subject: 'Room {{ .payload.room }}', participants: [bot]}
        users: {bot: {name: Bot}}
        message: {type: UserMessage, sender: bot, text: 'n={{ .payload.n }} <{{ .payload.room }}>'}
`

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no args", nil, "usage:"},
		{"unknown command", []string{"deploy"}, `unknown command "deploy"`},
		{"validate two files", []string{"validate", "a", "b"}, "usage:"},
		{"render without route", []string{"render", "p.json"}, "need --route"},
		{"render without payload", []string{"render", "--route", "github"}, "need --route"},
		{"render bad header", []string{"render", "--route", "github", "-H", "nocolon", "p.json"}, "want 'Name: value'"},
		{"render bad now", []string{"render", "--route", "github", "--now", "yesterday", "p.json"}, "--now"},
		{"render unknown flag", []string{"render", "--nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	def, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	names := def.Routes()
	if len(names) < 17 {
		t.Errorf("the embedded routes file has %d routes: %v", len(names), names)
	}
	code, out, _ := runCmd("validate")
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("ok: %d route(s) [%s]", len(names), strings.Join(names, ", "))) {
		t.Errorf("validate default: %d %q", code, out)
	}
	code, out, _ = runCmd("validate", writeFile(t, "ok.yaml", okRoutes))
	if code != exitOK || !strings.Contains(out, "ok: 1 route(s) [r]") {
		t.Errorf("validate ok: %d %q", code, out)
	}
	bad := writeFile(t, "bad.yaml", badRoutes)
	code, _, stderr := runCmd("validate", bad)
	if code != exitError {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{bad + ":6: routes.r.actions[0].message.text: template: unclosed action", bad + ":7: routes.r.actions[1].when: filter:", "2 problem(s)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	code, _, stderr = runCmd("validate", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != exitError || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: %d %q", code, stderr)
	}
}

func TestRenderFixture(t *testing.T) {
	p := filepath.Join("..", "..", "testdata", "github", "issues", "opened.payload.json")
	code, out, stderr := runCmd("render", "--route", "github", "-H", "X-GitHub-Event: issues", "-H", "X-GitHub-Delivery: d-1", "--app-id", "tApp", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"# route github, event issues.opened (signature verification skipped)",
		"PUT /v1/tApp/users/github\n",
		"PUT /v1/tApp/conversations/github-codertocat-hello-world-2dd472678382\n",
		"POST /v1/tApp/conversations/github-codertocat-hello-world-2dd472678382/messages\n",
		// The body's hash, not X-GitHub-Delivery, which GitHub does not sign.
		`"idempotencyKey": "github:sha256-`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The messages body is the exact JSON array the API takes.
	_, after, _ := strings.Cut(out, "/messages\n")
	end := strings.Index(after, "\n]\n")
	var msgs []map[string]any
	if err := json.Unmarshal([]byte(after[:end+2]), &msgs); err != nil || len(msgs) != 1 || msgs[0]["type"] != "UserMessage" {
		t.Errorf("messages body %q: %v", after[:end+2], err)
	}
}

func TestRenderCustomRoutes(t *testing.T) {
	routes := writeFile(t, "r.yaml", okRoutes)
	payload := writeFile(t, "p.json", `{"kind":"note","n":2,"room":"a b"}`)
	// Flags after the payload work too.
	code, out, stderr := runCmd("render", payload, "--routes", routes, "--route", "r", "--now", "2026-01-02T03:04:05Z")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"PUT /v1/{appId}/conversations/c:a%20b\n", `"text": "n=2 <a b>"`, `"subject": "Room a b"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRenderNothingSent(t *testing.T) {
	routes := writeFile(t, "r.yaml", okRoutes)
	payload := writeFile(t, "p.json", `{"kind":"note","n":1,"room":"a"}`)
	code, out, _ := runCmd("render", "--routes", routes, "--route", "r", payload)
	if code != exitOK || !strings.Contains(out, "nothing would be sent") || !strings.Contains(out, `when "payload.n > 1" is false`) {
		t.Errorf("exit %d, out %q", code, out)
	}
}

func TestRenderErrors(t *testing.T) {
	routes := writeFile(t, "r.yaml", okRoutes)
	tests := []struct {
		name, payload string
		args          []string
		want          string
	}{
		{"not json", `{`, []string{"--routes", routes, "--route", "r"}, "invalid payload: body is not JSON"},
		{"missing field", `{"kind":"note","n":5}`, []string{"--routes", routes, "--route", "r"}, `map has no entry for key "room"`},
		{"no such route", `{}`, []string{"--route", "no-such-route"}, `no route "no-such-route"`},
		{"bad routes file", `{}`, []string{"--routes", writeFile(t, "bad.yaml", badRoutes), "--route", "r"}, "2 problem(s)"},
		{"missing payload file", "", []string{"--route", "github"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "absent.json")
			if tt.payload != "" {
				p = writeFile(t, "p.json", tt.payload)
			}
			code, _, stderr := runCmd(append([]string{"render"}, append(tt.args, p)...)...)
			if code != exitError || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestDefaultCommand(t *testing.T) {
	code, out, _ := runCmd("default")
	if code != exitOK || !strings.Contains(out, "routes:") {
		t.Fatalf("exit %d", code)
	}
	code, _, stderr := runCmd("validate", writeFile(t, "routes.yaml", out))
	if code != exitOK {
		t.Errorf("printed default does not validate: %s", stderr)
	}
}

// With real TalkJS credentials, serve applies the functions' rules to them
// before it listens: the key goes with every request, so never over plain
// http to another machine, and a key that is not one is named, not echoed.
func TestServeChecksRealTalkJSSettings(t *testing.T) {
	tests := []struct {
		name, key, url, want string
	}{
		{name: "plain http off this machine", key: "sk_test_serve_0123456789", url: "http://talkjs.example.com", want: "must use https"},
		{name: "not a key", key: "not-a-key-0123456789", url: "", want: "TALKJS_SECRET_KEY is not a TalkJS secret key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TALKJS_APP_ID", "tServe")
			t.Setenv("TALKJS_SECRET_KEY", tt.key)
			t.Setenv("TALKJS_API_URL", tt.url)
			code, _, stderr := runCmd("serve", "--addr", "127.0.0.1:0")
			if code != exitError || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, tt.key) {
				t.Errorf("serve = %d, stderr %q; want %d naming %q without the key", code, stderr, exitError, tt.want)
			}
		})
	}
}

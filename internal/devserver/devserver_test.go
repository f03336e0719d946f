package devserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/browsertest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/devserver"
	"github.com/talkjs-bridge/talkjs-bridge/internal/inbox"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

func start(t *testing.T) (*devserver.Server, *httptest.Server) {
	t.Helper()
	s, err := devserver.New(devserver.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// curl posts body with headers the way a user trying the dev server would,
// and returns the status.
func curl(t *testing.T, url string, h http.Header, body []byte) int {
	t.Helper()
	args := []string{"-sS", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", "@-"}
	for k, vs := range h {
		for _, v := range vs {
			args = append(args, "-H", k+": "+v)
		}
	}
	if _, err := exec.LookPath("curl"); err != nil {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", url, bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", append(args, url)...)
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %s: %v", url, err)
	}
	var code int
	if err := json.Unmarshal(out, &code); err != nil {
		t.Fatalf("curl status %q: %v", out, err)
	}
	return code
}

func githubIssue(t *testing.T, secret string) (http.Header, []byte) {
	t.Helper()
	body, err := os.ReadFile("../../testdata/github/issues/opened.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	h, err := verify.Sign(verify.Config{Preset: verify.PresetGitHub}, []byte(secret), "", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	h.Set("X-GitHub-Event", "issues")
	h.Set("X-GitHub-Delivery", "dev-1")
	h.Set("Content-Type", "application/json")
	return h, body
}

func TestEndpoints(t *testing.T) {
	s, srv := start(t)
	h, body := githubIssue(t, democreds.WebhookSecrets()["github"])
	if code := curl(t, srv.URL+"/webhooks/github", h, body); code != 200 {
		t.Fatalf("signed webhook: %d", code)
	}
	bad, _ := githubIssue(t, "wrong")
	if code := curl(t, srv.URL+"/webhooks/github", bad, body); code != 401 {
		t.Errorf("badly signed webhook: %d, want 401", code)
	}
	cmd := []byte(`{"conversationId":"hello","conversation":{"subject":"Hello","custom":{"source":"github"}},"message":{"type":"SystemMessage","text":"Hello from the queue"}}`)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	if code := curl(t, srv.URL+"/queue", jsonHeader, cmd); code != 200 {
		t.Errorf("queue: %d", code)
	}
	if code := curl(t, srv.URL+"/reminders/standup", jsonHeader, nil); code != 200 {
		t.Errorf("reminder: %d", code)
	}
	if code := curl(t, srv.URL+"/reminders/nope", jsonHeader, nil); code != 400 {
		t.Errorf("unknown reminder: %d, want 400", code)
	}
	var texts []string
	for _, c := range s.Emulator.Conversations() {
		for _, m := range s.Emulator.Messages(c.ID) {
			texts = append(texts, m.Text)
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"Spelling error in the README file", "Hello from the queue", "Standup in 5 minutes"} {
		if !strings.Contains(all, want) {
			t.Errorf("TalkJS holds no message with %q; it holds:\n%s", want, all)
		}
	}
}

// TestInboxShowsWebhook is the first thing a user does: send a webhook with
// curl and watch it appear on the inbox page.
func TestInboxShowsWebhook(t *testing.T) {
	browsertest.Path(t)
	_, srv := start(t)
	h, body := githubIssue(t, democreds.WebhookSecrets()["github"])
	if code := curl(t, srv.URL+"/webhooks/github", h, body); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	dom := browsertest.DumpDOM(t, srv.URL+"/inbox", 5*time.Second)
	for _, want := range []string{"Spelling error in the README file", "GitHub"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the inbox page does not show %q", want)
		}
	}
}

// getSnapshot reads the inbox's JSON as the page does.
func getSnapshot(t *testing.T, url string) inbox.Snapshot {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url+"/inbox/api/conversations", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s inbox.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET inbox api: %d, %v", resp.StatusCode, err)
	}
	return s
}

// TestInboxListsFailures: what the bridge turned away shows on /inbox with
// the reason, newest first, next to what it delivered.
func TestInboxListsFailures(t *testing.T) {
	_, srv := start(t)
	secret := democreds.WebhookSecrets()["github"]
	good, body := githubIssue(t, secret)
	bad, _ := githubIssue(t, "wrong")
	broken := []byte(`{"action":"opened","issue":`)
	brokenHdr, err := verify.Sign(verify.Config{Preset: verify.PresetGitHub}, []byte(secret), "", time.Now(), broken)
	if err != nil {
		t.Fatal(err)
	}
	brokenHdr.Set("X-GitHub-Event", "issues")
	brokenHdr.Set("X-GitHub-Delivery", "dev-broken")
	brokenHdr.Set("Content-Type", "application/json")

	steps := []struct {
		name string
		path string
		h    http.Header
		body []byte
		want int
	}{
		{"delivered", "/webhooks/github", good, body, 200},
		{"bad signature", "/webhooks/github", bad, body, 401},
		{"unknown route", "/webhooks/nope", good, body, 404},
		{"unmappable payload", "/webhooks/github", brokenHdr, broken, 400},
		{"rejected queue record", "/queue", http.Header{"Content-Type": {"application/json"}}, []byte(`{"conversationId":"x","message":{"type":"Shout","text":"hi"}}`), 200},
	}
	for _, st := range steps {
		if code := curl(t, srv.URL+st.path, st.h, st.body); code != st.want {
			t.Fatalf("%s: status %d, want %d", st.name, code, st.want)
		}
	}

	s := getSnapshot(t, srv.URL)
	type row struct {
		kind, route string
		status      int
		reasonHas   string
	}
	want := []row{ // newest first
		{inbox.KindRejected, "", 0, "Shout"},
		{inbox.KindRefused, "github", 400, "payload"},
		{inbox.KindRefused, "nope", 404, "nope"},
		{inbox.KindRefused, "github", 401, "signature"},
	}
	if len(s.Failures) != len(want) {
		t.Fatalf("inbox lists %d failures, want %d: %+v", len(s.Failures), len(want), s.Failures)
	}
	for i, w := range want {
		f := s.Failures[i]
		text := f.Error + " " + f.Reason
		if f.Kind != w.kind || f.Route != w.route || f.Status != w.status || !strings.Contains(strings.ToLower(text), strings.ToLower(w.reasonHas)) || f.At == 0 {
			t.Errorf("failure %d = %+v, want kind %s route %q status %d and a reason mentioning %q", i, f, w.kind, w.route, w.status, w.reasonHas)
		}
	}
	if s.Failures[0].ID == "" {
		t.Error("the rejected record has no message id")
	}
	// A 401 answer keeps its detail from the sender; the local inbox shows
	// the logged one, which names the header that did not verify.
	if r := s.Failures[3].Reason; !strings.Contains(r, "X-Hub-Signature-256") {
		t.Errorf("the bad signature's reason %q does not say which check failed", r)
	}
	if t.Failed() {
		b, _ := json.MarshalIndent(s.Failures, "", "  ")
		t.Logf("failures:\n%s", b)
	}
	if len(s.Conversations) != 1 {
		t.Errorf("inbox shows %d conversations, want the delivered one only", len(s.Conversations))
	}
}

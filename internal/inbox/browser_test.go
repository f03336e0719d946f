package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/browsertest"
)

// These tests drive the page in Debian's headless Chromium through
// browsertest.

// post sends a JSON body to url with curl when it is on PATH, as a user
// trying the dev server would, and with net/http otherwise.
func post(t *testing.T, url string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if curl, err := exec.LookPath("curl"); err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, curl, "-fsS", "--noproxy", "*", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-", url)
		cmd.Stdin = bytes.NewReader(b)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("curl POST %s: %v: %s", url, err, out)
		}
		return
	}
	t.Log("curl not on PATH; posting with net/http")
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("POST %s: %s", url, resp.Status)
	}
}

// matchAll fails the test for each pattern not found in dom.
func matchAll(t *testing.T, dom string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(dom) {
			t.Errorf("DOM does not match %s", p)
		}
	}
}

func TestBrowserShowsWebhook(t *testing.T) {
	browsertest.Path(t)
	e := newEnv(t)
	post(t, e.srv.URL+"/send", sendRequest{
		Conversation: "github-acme-widgets-42", Subject: "acme/widgets#42 Crash on save",
		Users: map[string]string{"github-bot": "GitHub", "alice": "Alice"},
		Type:  "SystemMessage", Text: "Issue opened by @octocat",
	})
	post(t, e.srv.URL+"/send", sendRequest{Conversation: "github-acme-widgets-42", Type: "UserMessage", Sender: "github-bot",
		Text: `Stack trace attached <img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script> <actionbutton:retry>Retry</actionbutton>`})

	// The second poll happens about a second after the page has rendered the
	// first answer; a webhook sent just before it answers must show up.
	const later = "Labelled bug by alice"
	e.setOnAPI(func(hit int) {
		if hit == 2 {
			post(t, e.srv.URL+"/send", sendRequest{Conversation: "github-acme-widgets-42", Type: "UserMessage", Sender: "alice", Text: later})
		}
	})
	dom := browsertest.DumpDOM(t, e.srv.URL+"/inbox", 5*time.Second)

	if n := e.hits(); n < 3 {
		t.Errorf("the page asked for conversations %d times in 5s of virtual time; want it to keep polling", n)
	}
	matchAll(t, dom,
		`<section class="conv" data-id="github-acme-widgets-42">`,
		`<h2>acme/widgets#42 Crash on save</h2>`,
		`<li title="alice">Alice</li><li title="github-bot">GitHub</li>`,
		`<li class="msg system"><span class="tag">system</span><span class="text">Issue opened by @octocat</span>`,
		`<li class="msg user" data-sender="github-bot"><div class="bubble"><div class="sender"[^>]*>GitHub</div><div class="text">Stack trace attached &lt;img`,
		`class="sender"[^>]*>Alice</div><div class="text">`+later+`</div>`,
		`<div id="empty" class="empty" hidden="">`,
		`<span id="status" class="status live">live · updated`,
	)
	// Payload text is shown, not run: no element came from it.
	for _, bad := range []string{`<img src="x"`, `<script>document.title`, `<actionbutton`, `<title>pwned`} {
		if strings.Contains(dom, bad) {
			t.Errorf("DOM contains %q: message text became markup", bad)
		}
	}
	first, last := strings.Index(dom, "Issue opened by @octocat"), strings.Index(dom, later)
	if first < 0 || last < first {
		t.Errorf("messages out of order: first at %d, later at %d; want newest last", first, last)
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", tail(dom, 6000))
	}
}

func TestBrowserEmptyState(t *testing.T) {
	browsertest.Path(t)
	e := newEnv(t)
	dom := browsertest.DumpDOM(t, e.srv.URL+"/inbox/", 5*time.Second)
	matchAll(t, dom,
		`<div id="empty" class="empty">\s*<p class="big">No conversations yet — send a webhook</p>`,
		`<p id="loading" class="note" hidden="">`,
		`<div id="conversations" class="grid"></div>`,
	)
	if t.Failed() {
		t.Logf("DOM:\n%s", tail(dom, 4000))
	}
}

// tail keeps the end of a long DOM dump, where the messages are.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

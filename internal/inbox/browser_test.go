package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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

// TestScreenshot writes a screenshot of the page with demo content to the path
// in INBOX_SCREENSHOT (docs/inbox.png is made with
// INBOX_SCREENSHOT=$PWD/docs/inbox.png go test ./inbox -run Screenshot).
func TestScreenshot(t *testing.T) {
	path := os.Getenv("INBOX_SCREENSHOT")
	if path == "" {
		t.Skip("set INBOX_SCREENSHOT=/abs/path.png to write a screenshot")
	}
	browsertest.Path(t)
	path, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	clock := time.Date(2026, 11, 25, 8, 5, 0, 0, time.UTC)
	step := func(d time.Duration) { clock = clock.Add(d) }
	e.emu.SetClock(func() time.Time { return clock })
	for _, d := range demo {
		step(d.after)
		post(t, e.srv.URL+"/send", d.req)
	}
	browsertest.Screenshot(t, e.srv.URL+"/inbox", path, 1000, 700, 5*time.Second)
	info, err := os.Stat(path)
	if err != nil || info.Size() < 10_000 {
		t.Fatalf("screenshot %s: %v, %d bytes", path, err, func() int64 {
			if info == nil {
				return 0
			}
			return info.Size()
		}())
	}
	t.Logf("wrote %s (%d bytes)", path, info.Size())
}

var demo = []struct {
	after time.Duration
	req   sendRequest
}{
	{0, sendRequest{
		Conversation: "order-1042", Subject: "Order #1042 · 2 items",
		Users:  map[string]string{"shop-bot": "Acme Shop", "jamie": "Jamie Lee"},
		Custom: map[string]string{"source": "shopify", "total": "€58.40"},
		Type:   "SystemMessage", Text: "Order #1042 placed · €58.40 · paid by card",
	}},
	{2 * time.Minute, sendRequest{Conversation: "order-1042", Type: "UserMessage", Sender: "shop-bot",
		Text: "Thanks for your order, Jamie! We'll let you know when it ships."}},
	{50 * time.Minute, sendRequest{Conversation: "order-1042", Type: "SystemMessage", Text: "Shipped with DHL · tracking 00340434161094042557"}},
	{time.Minute, sendRequest{Conversation: "order-1042", Type: "UserMessage", Sender: "jamie", Text: "Great, thank you!"}},
	{9 * time.Minute, sendRequest{
		Conversation: "github-acme-widgets-issue-42", Subject: "acme/widgets #42 · Crash when saving a draft",
		Users:  map[string]string{"github-bot": "GitHub", "maria": "Maria Lopez", "sam": "Sam Okafor"},
		Custom: map[string]string{"source": "github", "repo": "acme/widgets"},
		Type:   "SystemMessage", Text: "Issue #42 opened by @octocat",
	}},
	{time.Second, sendRequest{Conversation: "github-acme-widgets-issue-42", Type: "UserMessage", Sender: "github-bot",
		Text: "@octocat opened an issue: Saving a draft with an empty title crashes the editor.\nhttps://github.com/acme/widgets/issues/42"}},
	{3 * time.Minute, sendRequest{Conversation: "github-acme-widgets-issue-42", Type: "UserMessage", Sender: "maria",
		Text: "I can reproduce this on main. Taking it."}},
	{20 * time.Second, sendRequest{Conversation: "github-acme-widgets-issue-42", Type: "SystemMessage", Text: "Label added: bug · assigned to @maria"}},
	{12 * time.Minute, sendRequest{Conversation: "github-acme-widgets-issue-42", Type: "UserMessage", Sender: "github-bot",
		Text: "Pull request #57 \"Guard empty draft titles\" references this issue."}},
}

// tail keeps the end of a long DOM dump, where the messages are.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

package devserver_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/browsertest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/devserver"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

// demoAlert is an Alertmanager notification as the README's curl example
// sends it, with two alerts and the external URL Alertmanager adds.
const demoAlert = `{"version":"4","receiver":"ops","status":"firing","groupKey":"{}:{alertname=\"HighMemory\"}",` +
	`"groupLabels":{"alertname":"HighMemory"},"externalURL":"http://alertmanager.example:9093",` +
	`"alerts":[{"status":"firing","labels":{"alertname":"HighMemory","severity":"critical","instance":"db-1:9100"},"annotations":{"summary":"Memory above 95% for 10m"}},` +
	`{"status":"firing","labels":{"alertname":"HighMemory","severity":"warning","instance":"web-2:9100"},"annotations":{"summary":"Memory above 85%"}}]}`

// sendDemo sends what `make run`'s curl examples send, and what goes
// wrong most often: a GitHub issue, an Alertmanager alert, a queue command
// with TalkJS markup, a webhook signed with the wrong secret and a queue
// record that can never be delivered.
func sendDemo(t *testing.T, s *devserver.Server, url string) {
	t.Helper()
	// Messages a few minutes apart, ending about now, when the refusals
	// happen. The emulator reads the clock from its own goroutine.
	var clock atomic.Int64
	at := func(ago time.Duration) { clock.Store(time.Now().Add(-ago).UnixMilli()) }
	s.Emulator.SetClock(func() time.Time { return time.UnixMilli(clock.Load()) })
	at(14 * time.Minute)
	secrets := democreds.WebhookSecrets()

	h, body := githubIssue(t, secrets["github"])
	if code := curl(t, url+"/webhooks/github", h, body); code != 200 {
		t.Fatalf("GitHub issue: %d", code)
	}
	comment, err := os.ReadFile("../../testdata/github/issue_comment/created.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := verify.Sign(verify.Config{Preset: verify.PresetGitHub}, []byte(secrets["github"]), "", time.Now(), comment)
	if err != nil {
		t.Fatal(err)
	}
	ch.Set("X-GitHub-Event", "issue_comment")
	ch.Set("X-GitHub-Delivery", "dev-2")
	ch.Set("Content-Type", "application/json")
	at(9 * time.Minute)
	if code := curl(t, url+"/webhooks/github", ch, comment); code != 200 {
		t.Fatalf("GitHub comment: %d", code)
	}

	ah := http.Header{"Authorization": {"Bearer " + secrets["alertmanager"]}, "Content-Type": {"application/json"}}
	at(6 * time.Minute)
	if code := curl(t, url+"/webhooks/alertmanager", ah, []byte(demoAlert)); code != 200 {
		t.Fatalf("Alertmanager alert: %d", code)
	}

	cmd := `{"conversationId":"deploys","conversation":{"subject":"Deploys · *web*","custom":{"source":"ci"}},` +
		`"message":{"type":"SystemMessage","text":"Deploy of *v1.4.2* to _production_ finished in ` + "```4m 12s```" +
		`: <https://ci.example.com/runs/812|build log>, ~rollback~ not needed"}}`
	at(2 * time.Minute)
	if code := curl(t, url+"/queue", http.Header{"Content-Type": {"application/json"}}, []byte(cmd)); code != 200 {
		t.Fatalf("queue command: %d", code)
	}

	bad, _ := githubIssue(t, "not-the-secret")
	if code := curl(t, url+"/webhooks/github", bad, body); code != 401 {
		t.Fatalf("badly signed webhook: %d, want 401", code)
	}
	if code := curl(t, url+"/queue", http.Header{"Content-Type": {"application/json"}}, []byte(`{"conversationId":"deploys","message":{"type":"Shout","text":"hi"}}`)); code != 200 {
		t.Fatalf("bad queue record: %d", code)
	}
}

// TestBrowserInboxRendersMarkup checks in a real browser that TalkJS markup
// in a delivered message becomes bold text and links, that payload HTML
// stays text, and that refused and rejected deliveries are listed.
func TestBrowserInboxRendersMarkup(t *testing.T) {
	browsertest.Path(t)
	s, srv := start(t)
	sendDemo(t, s, srv.URL)
	hostile := `{"conversationId":"deploys","message":{"type":"SystemMessage","text":"*<img src=x onerror=alert(1)>* <javascript:alert(2)|click>"}}`
	if code := curl(t, srv.URL+"/queue", http.Header{"Content-Type": {"application/json"}}, []byte(hostile)); code != 200 {
		t.Fatalf("hostile command: %d", code)
	}
	dom := browsertest.DumpDOM(t, srv.URL+"/inbox", 5*time.Second)
	for _, p := range []string{
		`<strong>🔥 FIRING</strong>|🔥 <strong>FIRING</strong>`,
		`<li>CRITICAL HighMemory on db-1:9100: Memory above 95% for 10m</li>`,
		`<a href="http://alertmanager.example:9093" target="_blank" rel="noopener noreferrer nofollow">http://alertmanager.example:9093</a>`,
		`<strong>Issue #1 opened</strong> by Codertocat`,
		`<a href="https://github.com/Codertocat/Hello-World/issues/1"[^>]*>https://github.com/Codertocat/Hello-World/issues/1</a>`,
		`Deploy of <strong>v1.4.2</strong> to <em>production</em> finished in <code>4m 12s</code>: <a href="https://ci.example.com/runs/812"[^>]*>build log</a>, <s>rollback</s> not needed`,
		`<h2>Deploys · <strong>web</strong></h2>`,
		`<strong>&lt;img src=x onerror=alert\(1\)&gt;</strong> &lt;javascript:alert\(2\)\|click&gt;`,
		`<section id="failures" class="failures">`,
		`<li class="failure rejected"><span class="kind">rejected</span><span class="what">message local-\d+</span><span class="error">would go to the rejects queue</span>`,
		`<li class="failure refused"><span class="kind">refused 401</span><span class="what">/webhooks/github</span><span class="error">signature not verified</span>`,
	} {
		if !regexp.MustCompile(p).MatchString(dom) {
			t.Errorf("DOM does not match %s", p)
		}
	}
	for _, bad := range []string{`<img src="x"`, `href="javascript:`} {
		if strings.Contains(dom, bad) {
			t.Errorf("DOM contains %q: message text became markup", bad)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// TestScreenshot writes docs/inbox.png, what `make run` shows after the demo
// events, to the path in INBOX_SCREENSHOT:
//
//	INBOX_SCREENSHOT=$PWD/docs/inbox.png go test ./internal/devserver -run Screenshot
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
	s, srv := start(t)
	sendDemo(t, s, srv.URL)
	browsertest.Screenshot(t, srv.URL+"/inbox", path, 1100, 900, 5*time.Second)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() < 10_000 {
		t.Fatalf("screenshot %s has only %d bytes", path, info.Size())
	}
	t.Logf("wrote %s (%d bytes)", path, info.Size())
}

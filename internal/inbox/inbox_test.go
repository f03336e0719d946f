package inbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

func texts(c Conversation) []string {
	var out []string
	for _, m := range c.Messages {
		out = append(out, m.Text)
	}
	return out
}

func ids(s Snapshot) []string {
	var out []string
	for _, c := range s.Conversations {
		out = append(out, c.ID)
	}
	return out
}

func TestConversationsJSONShape(t *testing.T) {
	e := newEnv(t)
	e.mustSend(t, sendRequest{
		Conversation: "gh-42", Subject: "Crash on save", Custom: map[string]string{"repo": "acme/widgets"},
		Users: map[string]string{"bot": "GitHub", "alice": "Alice"},
		Type:  "SystemMessage", Text: "Issue opened",
	})
	e.mustSend(t, sendRequest{Conversation: "gh-42", Type: "UserMessage", Sender: "bot", Text: "hello"})

	resp, body := e.get(t, "/inbox/api/conversations")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	// The wire names are the API the page depends on: check them raw.
	var raw struct {
		Conversations []map[string]json.RawMessage `json:"conversations"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Conversations) != 1 {
		t.Fatalf("got %d conversations, want 1: %s", len(raw.Conversations), body)
	}
	for _, k := range []string{"id", "subject", "participants", "custom", "createdAt", "lastActivity", "messages"} {
		if _, ok := raw.Conversations[0][k]; !ok {
			t.Errorf("conversation has no %q: %s", k, body)
		}
	}
	var msgs []map[string]any
	if err := json.Unmarshal(raw.Conversations[0]["messages"], &msgs); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}
	for _, k := range []string{"id", "type", "senderId", "senderName", "text", "createdAt"} {
		if _, ok := msgs[1][k]; !ok {
			t.Errorf("user message has no %q: %v", k, msgs[1])
		}
	}

	s := e.snapshot(t)
	c := s.Conversations[0]
	want := Conversation{ID: "gh-42", Subject: "Crash on save", Custom: map[string]string{"repo": "acme/widgets"},
		Participants: []Participant{{ID: "alice", Name: "Alice"}, {ID: "bot", Name: "GitHub"}}}
	if c.ID != want.ID || c.Subject != want.Subject || c.Custom["repo"] != "acme/widgets" || !slices.Equal(c.Participants, want.Participants) {
		t.Errorf("conversation = %+v, want %+v", c, want)
	}
	sys, user := c.Messages[0], c.Messages[1]
	if sys.Type != talkjs.SystemMessage || sys.SenderID != "" || sys.SenderName != "" || sys.Text != "Issue opened" {
		t.Errorf("system message = %+v", sys)
	}
	if user.Type != talkjs.UserMessage || user.SenderID != "bot" || user.SenderName != "GitHub" || user.Text != "hello" || user.ID == "" || user.CreatedAt == 0 {
		t.Errorf("user message = %+v", user)
	}
	if c.LastActivity != user.CreatedAt {
		t.Errorf("lastActivity = %d, want the last message's %d", c.LastActivity, user.CreatedAt)
	}
}

func TestOrdering(t *testing.T) {
	e := newEnv(t)
	clock := time.UnixMilli(1_700_000_000_000)
	e.emu.SetClock(func() time.Time { clock = clock.Add(time.Second); return clock })

	e.mustSend(t, sendRequest{Conversation: "old", Type: "SystemMessage", Text: "old-1"})
	e.mustSend(t, sendRequest{Conversation: "new", Type: "SystemMessage", Text: "new-1"})
	e.mustSend(t, sendRequest{Conversation: "quiet"}) // created last, no messages
	if got, want := ids(e.snapshot(t)), []string{"quiet", "new", "old"}; !slices.Equal(got, want) {
		t.Errorf("before: order = %v, want %v", got, want)
	}
	// A message makes the oldest conversation the most recently active.
	e.mustSend(t, sendRequest{Conversation: "old", Type: "SystemMessage", Text: "old-2"})
	e.mustSend(t, sendRequest{Conversation: "old", Type: "SystemMessage", Text: "old-3"})
	s := e.snapshot(t)
	if got, want := ids(s), []string{"old", "quiet", "new"}; !slices.Equal(got, want) {
		t.Errorf("after: order = %v, want %v", got, want)
	}
	if got, want := texts(s.Conversations[0]), []string{"old-1", "old-2", "old-3"}; !slices.Equal(got, want) {
		t.Errorf("messages = %v, want oldest first %v", got, want)
	}
	if s.Conversations[1].Messages == nil {
		t.Error("a conversation without messages has messages null, want []")
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t, WithMaxConversations(2), WithMaxMessages(3))
	for _, c := range []string{"a", "b", "c"} {
		for i := range 5 {
			e.mustSend(t, sendRequest{Conversation: c, Type: "SystemMessage", Text: c + string(rune('0'+i))})
		}
	}
	s := e.snapshot(t)
	if got, want := ids(s), []string{"c", "b"}; !slices.Equal(got, want) {
		t.Errorf("conversations = %v, want %v", got, want)
	}
	if !s.MoreConversations {
		t.Error("moreConversations = false with 3 conversations and a limit of 2")
	}
	if got, want := texts(s.Conversations[0]), []string{"c2", "c3", "c4"}; !slices.Equal(got, want) {
		t.Errorf("messages = %v, want the last 3 oldest first %v", got, want)
	}
}

func TestHostileTextIsData(t *testing.T) {
	hostile := []string{
		`<script>alert(1)</script>`,
		`<actionbutton:x>Click</actionbutton>`,
		`<img src=x onerror="alert(2)"> & "quotes" 'single'`,
		"</script><script>alert(3)</script>",
	}
	e := newEnv(t)
	e.mustSend(t, sendRequest{Conversation: "x", Subject: "<b>subject</b>", Users: map[string]string{"u": "<i>name</i>"}})
	for _, h := range hostile {
		e.mustSend(t, sendRequest{Conversation: "x", Type: "UserMessage", Sender: "u", Text: h})
	}
	resp, body := e.get(t, "/inbox/api/conversations")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, bad := range []string{"<script", "<actionbutton", "<img", "<b>", "<i>"} {
		if strings.Contains(string(body), bad) {
			t.Errorf("JSON contains raw %q; want it escaped: %s", bad, body)
		}
	}
	var s Snapshot
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	c := s.Conversations[0]
	if got := texts(c); !slices.Equal(got, hostile) {
		t.Errorf("texts = %q, want them unchanged %q", got, hostile)
	}
	if c.Subject != "<b>subject</b>" || c.Messages[0].SenderName != "<i>name</i>" {
		t.Errorf("subject %q, sender %q: want unchanged", c.Subject, c.Messages[0].SenderName)
	}
}

func TestPageIsSafe(t *testing.T) {
	tsrv, _ := talkjstest.NewServer(`t<b>"app"</b>`, testKey)
	defer tsrv.Close()
	client, err := talkjs.NewClient(`t<b>"app"</b>`, talkjs.StaticKey(testKey), talkjs.WithBaseURL(tsrv.URL))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	New(client).ServeHTTP(rec, httptest.NewRequest("GET", "/inbox", nil))
	page := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /inbox: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(page, `app <code>t&lt;b&gt;&#34;app&#34;&lt;/b&gt;</code>`) {
		t.Error("page does not show the app id escaped")
	}
	if strings.Contains(page, "<b>") {
		t.Error("page contains the app id's markup unescaped")
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(pageScript, bad) {
			t.Errorf("page script uses %s; data must go in with textContent", bad)
		}
	}
	for _, ext := range []string{"http://", "https://", "//cdn", "src=\"", "<link"} {
		if strings.Contains(page, ext) {
			t.Errorf("page refers to an external asset (%q)", ext)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src '" + cspHash(pageScript) + "'", "style-src '" + cspHash(pageStyle) + "'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if !strings.Contains(page, "<script>"+pageScript+"</script>") || !strings.Contains(page, "<style>"+pageStyle+"</style>") {
		t.Error("inline script or style differs from what the CSP hash covers")
	}
}

func TestEmptyState(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(t, "/inbox/api/conversations")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got, want := string(body), `{"conversations":[],"moreConversations":false}`; got != want {
		t.Errorf("empty inbox = %s, want %s", got, want)
	}
	_, page := e.get(t, "/inbox")
	if !strings.Contains(string(page), `<div id="empty" class="empty" hidden>`) || !strings.Contains(string(page), "No conversations yet — send a webhook") {
		t.Error("page has no (initially hidden) empty state")
	}
}

func TestETag(t *testing.T) {
	e := newEnv(t)
	e.mustSend(t, sendRequest{Conversation: "c", Type: "SystemMessage", Text: "one"})
	resp, _ := e.get(t, "/inbox/api/conversations")
	tag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || tag == "" {
		t.Fatalf("first GET: %d, ETag %q", resp.StatusCode, tag)
	}
	for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
		resp, body := e.get(t, "/inbox/api/conversations", "If-None-Match", inm)
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match %s: %d with %d bytes, want 304 and none", inm, resp.StatusCode, len(body))
		}
	}
	if resp, _ := e.get(t, "/inbox/api/conversations", "If-None-Match", `"stale"`); resp.StatusCode != http.StatusOK {
		t.Errorf("stale If-None-Match: %d, want 200", resp.StatusCode)
	}
	e.mustSend(t, sendRequest{Conversation: "c", Type: "SystemMessage", Text: "two"})
	resp, _ = e.get(t, "/inbox/api/conversations", "If-None-Match", tag)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == tag {
		t.Errorf("after a new message: %d, ETag %q (old %q); want 200 and a new tag", resp.StatusCode, resp.Header.Get("ETag"), tag)
	}
}

// An unchanged inbox must cost one TalkJS call per poll, however many
// conversations it shows: that is what keeps polling every second cheap
// against real TalkJS.
func TestPollCost(t *testing.T) {
	e := newEnv(t)
	for _, c := range []string{"a", "b", "c"} {
		e.mustSend(t, sendRequest{Conversation: c, Users: map[string]string{"u": "U"}, Type: "UserMessage", Sender: "u", Text: c})
	}
	calls := func() int {
		t.Helper()
		before := e.emu.Counts().Requests
		e.snapshot(t)
		return e.emu.Counts().Requests - before
	}
	if n := calls(); n != 1+3+1 {
		t.Errorf("first poll: %d TalkJS calls, want 5 (list, 3 message listings, 1 user)", n)
	}
	if n := calls(); n != 1 {
		t.Errorf("unchanged poll: %d TalkJS calls, want 1", n)
	}
	e.mustSend(t, sendRequest{Conversation: "b", Type: "SystemMessage", Text: "b2"})
	if n := calls(); n != 2 {
		t.Errorf("poll after one message: %d TalkJS calls, want 2 (list, messages of b)", n)
	}
	// Cached messages are refetched after a while, to catch edits of older ones.
	now := time.Now().Add(refetchAfter + userTTL)
	e.h.now = func() time.Time { return now }
	if n := calls(); n != 1+3+1 {
		t.Errorf("poll after the cache expired: %d TalkJS calls, want 5", n)
	}
}

func TestRouting(t *testing.T) {
	tsrv, _ := talkjstest.NewServer(testAppID, testKey)
	defer tsrv.Close()
	client, err := talkjs.NewClient(testAppID, talkjs.StaticKey(testKey), talkjs.WithBaseURL(tsrv.URL))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		h      http.Handler
		method string
		path   string
		want   int
		ctype  string
	}{
		{"page", New(client), "GET", "/inbox", 200, "text/html; charset=utf-8"},
		{"page with slash", New(client), "GET", "/inbox/", 200, "text/html; charset=utf-8"},
		{"head page", New(client), "HEAD", "/inbox", 200, "text/html; charset=utf-8"},
		{"api", New(client), "GET", "/inbox/api/conversations", 200, "application/json"},
		{"unknown path", New(client), "GET", "/inbox/nope", 404, ""},
		{"outside prefix", New(client), "GET", "/other", 404, ""},
		{"post", New(client), "POST", "/inbox/api/conversations", 405, ""},
		{"custom prefix", New(client, WithPrefix("/dev/inbox/")), "GET", "/dev/inbox/api/conversations", 200, "application/json"},
		{"custom prefix old path", New(client, WithPrefix("/dev/inbox")), "GET", "/inbox", 404, ""},
		{"stripped", http.StripPrefix("/inbox", New(client, WithPrefix(""))), "GET", "/inbox", 200, "text/html; charset=utf-8"},
		{"stripped api", http.StripPrefix("/inbox", New(client, WithPrefix(""))), "GET", "/inbox/api/conversations", 200, "application/json"},
		{"nil source", New(nil), "GET", "/inbox/api/conversations", 500, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), tt.method, tt.path, nil))
			if rec.Code != tt.want {
				t.Fatalf("%s %s = %d, want %d: %s", tt.method, tt.path, rec.Code, tt.want, rec.Body)
			}
			if tt.ctype != "" && rec.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", rec.Header().Get("Content-Type"), tt.ctype)
			}
			if tt.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD answered %d body bytes", rec.Body.Len())
			}
		})
	}
}

func TestSourceError(t *testing.T) {
	e := newEnv(t)
	e.emu.AddFault(talkjstest.Fault{Status: 503})
	resp, body := e.get(t, "/inbox/api/conversations")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502: %s", resp.StatusCode, body)
	}
	var got struct{ Error string }
	if err := json.Unmarshal(body, &got); err != nil || !strings.Contains(got.Error, "list conversations") || !strings.Contains(got.Error, "503") {
		t.Errorf("error body %s (%v): want one naming the listing and the status", body, err)
	}
	if strings.Contains(string(body), testKey) {
		t.Error("error body contains the secret key")
	}
	e.emu.ClearFaults()
	if resp, _ := e.get(t, "/inbox/api/conversations"); resp.StatusCode != http.StatusOK {
		t.Errorf("after the outage: %d, want 200", resp.StatusCode)
	}
}

func TestUnknownSender(t *testing.T) {
	e := newEnv(t)
	e.mustSend(t, sendRequest{Conversation: "c", Users: map[string]string{"known": "Known"}})
	// TalkJS lets a user who was never created join; the page then shows the id.
	if err := e.client.JoinConversation(t.Context(), "c", "ghost", talkjs.Participation{}); err != nil {
		t.Fatal(err)
	}
	c := e.snapshot(t).Conversations[0]
	if got, want := c.Participants, []Participant{{ID: "ghost"}, {ID: "known", Name: "Known"}}; !slices.Equal(got, want) {
		t.Errorf("participants = %+v, want %+v", got, want)
	}
}

func TestOptionsClamp(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want func(*handler) bool
	}{
		{"zero conversations means default", WithMaxConversations(0), func(h *handler) bool { return h.maxConvs == DefaultMaxConversations }},
		{"huge conversations capped", WithMaxConversations(1e6), func(h *handler) bool { return h.maxConvs == maxConversationsCap }},
		{"negative messages means default", WithMaxMessages(-1), func(h *handler) bool { return h.maxMsgs == DefaultMaxMessages }},
		{"tiny poll raised", WithPollInterval(time.Millisecond), func(h *handler) bool { return h.poll == minPollInterval }},
		{"zero poll means default", WithPollInterval(0), func(h *handler) bool { return h.poll == DefaultPollInterval }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h := New(nil, tt.opt).(*handler); !tt.want(h) {
				t.Errorf("handler = %+v", h)
			}
		})
	}
	h := New(nil, WithPollInterval(1500*time.Millisecond)).(*handler)
	if !strings.Contains(string(h.page), `data-poll-ms="1500"`) {
		t.Error("page does not carry the poll interval")
	}
}

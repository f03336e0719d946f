package devserver_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
)

// TestWebPagesKeptOut is issue 14.3: a page on another site made the dev
// server create a user and post a message through /queue (any Content-Type
// and Origin were accepted), and a DNS-rebinding page could read every
// conversation from /inbox/api. Requests must name a loopback host, come
// from no other site, and post JSON to the endpoints that act.
func TestWebPagesKeptOut(t *testing.T) {
	s, _ := start(t)
	ok := `{"conversationId":"guard","conversation":{"subject":"Guard"},"message":{"type":"SystemMessage","text":"accepted"}}`
	cmd := strings.Replace(ok, "accepted", "from a page", 1)
	tests := []struct {
		name, method, target, host string
		header                     http.Header
		body                       string
		status                     int
	}{
		{"queue from curl", "POST", "/queue", "localhost:3000", http.Header{"Content-Type": {"application/json"}}, ok, 200},
		{"queue on 127.0.0.1", "POST", "/queue", "127.0.0.1:3000", http.Header{"Content-Type": {"application/json; charset=utf-8"}}, ok, 200},
		{"queue on [::1]", "POST", "/queue", "[::1]:3000", http.Header{"Content-Type": {"application/json"}}, ok, 200},
		{"queue as a form post", "POST", "/queue", "localhost:3000", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, cmd, 415},
		{"queue as text/plain", "POST", "/queue", "localhost:3000", http.Header{"Content-Type": {"text/plain"}}, cmd, 415},
		{"queue without a content type", "POST", "/queue", "localhost:3000", http.Header{}, cmd, 415},
		{"queue from another site", "POST", "/queue", "localhost:3000", http.Header{"Content-Type": {"application/json"}, "Origin": {"https://evil.example"}}, cmd, 403},
		{"queue from another port", "POST", "/queue", "localhost:3000", http.Header{"Content-Type": {"application/json"}, "Origin": {"http://localhost:8080"}}, cmd, 403},
		{"queue from a sandboxed frame", "POST", "/queue", "localhost:3000", http.Header{"Content-Type": {"application/json"}, "Origin": {"null"}}, cmd, 403},
		{"queue marked cross-site", "POST", "/queue", "localhost:3000", http.Header{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"cross-site"}}, cmd, 403},
		{"queue from its own page", "POST", "/queue", "localhost:3000", http.Header{"Content-Type": {"application/json"}, "Origin": {"http://localhost:3000"}, "Sec-Fetch-Site": {"same-origin"}}, ok, 200},
		{"queue under a rebound name", "POST", "/queue", "evil.example:3000", http.Header{"Content-Type": {"application/json"}}, cmd, 403},
		{"reminder as a form post", "POST", "/reminders/standup", "localhost:3000", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "", 415},
		{"reminder from another site", "POST", "/reminders/standup", "localhost:3000", http.Header{"Content-Type": {"application/json"}, "Origin": {"https://evil.example"}}, "", 403},
		{"inbox api under a rebound name", "GET", "/inbox/api/conversations", "evil.example:3000", http.Header{}, "", 403},
		{"inbox api with a rebound name and no port", "GET", "/inbox/api/conversations", "rebind.evil.example", http.Header{}, "", 403},
		{"inbox api from another site", "GET", "/inbox/api/conversations", "localhost:3000", http.Header{"Sec-Fetch-Site": {"cross-site"}}, "", 403},
		{"inbox page", "GET", "/inbox", "localhost:3000", http.Header{}, "", 200},
		{"emulator under a rebound name", "GET", "/talkjs/v1/" + democreds.AppID + "/conversations", "evil.example", http.Header{"Authorization": {"Bearer x"}}, "", 403},
		{"webhook from a browser page", "POST", "/webhooks/github", "localhost:3000", http.Header{"Origin": {"https://evil.example"}, "Content-Type": {"text/plain"}}, "{}", 403},
		// Signed webhooks keep what senders send, through a tunnel too:
		// unsigned, this one fails the signature check, not the guard.
		{"webhook through a tunnel", "POST", "/webhooks/github", "abc.tunnel.example", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "payload=%7B%7D", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.target, strings.NewReader(tt.body))
			req.Host = tt.host
			for k, v := range tt.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tt.status)
			}
		})
	}
	// Nothing a refused request asked for happened; what was accepted did.
	var texts []string
	for _, m := range s.Emulator.Messages("guard") {
		texts = append(texts, m.Text)
	}
	if len(texts) != 4 || slices.Contains(texts, "from a page") {
		t.Errorf("conversation guard holds %q, want the 4 accepted posts only", texts)
	}
}

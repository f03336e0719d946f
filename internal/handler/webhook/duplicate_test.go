package webhook_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// TestDuplicateSignatureHeaders is issue 14.8: an event holding two copies
// of the signature header under names that differ only in case answered 200
// or 401 depending on map order. Two different copies are now always 401;
// two equal ones are one header.
func TestDuplicateSignatureHeaders(t *testing.T) {
	s, _, _ := newServer(t)
	body := fixture(t, "github", "issues", "opened.payload.json")
	good := githubHeaders(t, "issues", "d-dup", body).Get("X-Hub-Signature-256")
	bad := "sha256=" + "00000000000000000000000000000000000000000000000000000000000000ff"
	v1 := func(headers map[string]string, multi map[string][]string) []byte {
		ev := map[string]any{"httpMethod": "POST", "path": "/webhooks/github", "headers": headers, "multiValueHeaders": multi, "body": string(body)}
		b, _ := json.Marshal(ev)
		return b
	}
	v2 := func(headers map[string]string) []byte {
		ev := map[string]any{"version": "2.0", "rawPath": "/webhooks/github", "requestContext": map[string]any{"http": map[string]any{"method": "POST"}}, "headers": headers, "body": string(body)}
		b, _ := json.Marshal(ev)
		return b
	}
	base := map[string]string{"X-GitHub-Event": "issues", "Content-Type": "application/json"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		event  []byte
		status int
	}{
		{"v1 headers, two spellings, different", v1(with(map[string]string{"X-Hub-Signature-256": good, "x-hub-signature-256": bad}), nil), 401},
		{"v1 headers, two spellings, swapped", v1(with(map[string]string{"X-Hub-Signature-256": bad, "x-hub-signature-256": good}), nil), 401},
		{"v1 multi-value, two spellings", v1(base, map[string][]string{"X-GitHub-Event": {"issues"}, "X-Hub-Signature-256": {good}, "x-hub-signature-256": {bad}}), 401},
		{"v1 multi-value and headers, two spellings", v1(with(map[string]string{"X-Hub-Signature-256": good, "x-hub-signature-256": bad}), map[string][]string{"X-GitHub-Event": {"issues"}, "X-Hub-Signature-256": {good}}), 401},
		{"v1 multi-value and headers, same spelling", v1(with(map[string]string{"X-Hub-Signature-256": good}), map[string][]string{"X-GitHub-Event": {"issues"}, "X-Hub-Signature-256": {good}}), 200},
		{"v1 multi-value, two values", v1(base, map[string][]string{"X-GitHub-Event": {"issues"}, "X-Hub-Signature-256": {good, bad}}), 401},
		{"v2, two spellings", v2(with(map[string]string{"x-hub-signature-256": good, "X-Hub-Signature-256": bad})), 401},
		{"v2, comma-joined", v2(with(map[string]string{"x-hub-signature-256": good + "," + bad})), 401},
		{"v1 headers, two spellings, equal", v1(with(map[string]string{"X-Hub-Signature-256": good, "x-hub-signature-256": good}), nil), 200},
		{"v2, two spellings, equal", v2(with(map[string]string{"x-hub-signature-256": good, "X-Hub-Signature-256": good})), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The defect was map order: ask often enough to see both orders.
			for i := range 30 {
				out, err := s.Handle(t.Context(), tt.event)
				if err != nil {
					t.Fatal(err)
				}
				var a struct {
					StatusCode int `json:"statusCode"`
				}
				if err := json.Unmarshal(out, &a); err != nil {
					t.Fatal(err)
				}
				if a.StatusCode != tt.status {
					t.Fatalf("attempt %d: status %d, want %d (%s)", i, a.StatusCode, tt.status, out)
				}
			}
		})
	}
}

// TestFailureAnswersHideTalkJS is issue 14.8: the answers to a webhook's
// sender named the TalkJS URL and the app id (in the request path) when
// TalkJS failed. They say what TalkJS answered, and the log keeps the rest.
func TestFailureAnswersHideTalkJS(t *testing.T) {
	body := fixture(t, "github", "issues", "opened.payload.json")
	tests := []struct {
		name   string
		fault  talkjstest.Fault
		status int
		says   string
	}{
		{"TalkJS 500", talkjstest.Fault{Status: 500}, 502, "TalkJS answered 500"},
		{"TalkJS unreachable", talkjstest.Fault{Drop: true}, 503, "could not be reached"},
		{"TalkJS 429", talkjstest.Fault{Status: 429, RetryAfter: time.Hour}, 503, "TalkJS answered 429"},
		{"TalkJS refuses", talkjstest.Fault{Status: 403}, 422, "TalkJS answered 403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, emu, srv := newServer(t)
			emu.AddFault(tt.fault)
			resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "github", Headers: githubHeaders(t, "issues", "d-hide", body), Body: body})
			if resp.Status != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.Status, resp.Body, tt.status)
			}
			got := string(resp.Body)
			if !strings.Contains(got, tt.says) {
				t.Errorf("answer %s does not say %q", got, tt.says)
			}
			for _, secret := range []string{appID, srv.URL, strings.TrimPrefix(srv.URL, "http://"), "/v1/"} {
				if strings.Contains(got, secret) {
					t.Errorf("answer %s reveals %q", got, secret)
				}
			}
		})
	}
}

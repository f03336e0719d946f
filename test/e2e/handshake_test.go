package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

// TestHandshakesThroughBootstrap sends handshakes to the real webhook
// bootstrap: Slack's url_verification (signed, from testdata) is answered
// with the challenge, and a GitHub organization ping (no repository) with
// 200; neither reaches TalkJS.
func TestHandshakesThroughBootstrap(t *testing.T) {
	slackBody, err := os.ReadFile(filepath.Join("..", "..", "testdata", "senders", "slack", "url_verification.json"))
	if err != nil {
		t.Fatal(err)
	}
	slackWant, err := os.ReadFile(filepath.Join("..", "..", "testdata", "senders", "slack", "url_verification.expected_response.txt"))
	if err != nil {
		t.Fatal(err)
	}
	orgPing := `{"zen":"Design for failure.","hook_id":42,"hook":{"type":"Organization","id":42},"organization":{"login":"octo-org"},"sender":{"login":"octocat"}}`
	tests := []struct {
		name     string
		event    []byte
		wantBody string
	}{
		{"slack url_verification", signedEvent(t, "slack", verify.Config{Preset: verify.PresetSlack}, string(slackBody), nil), string(slackWant)},
		{"github organization ping", signedEvent(t, "github", verify.Config{Preset: verify.PresetGitHub}, orgPing, map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": "e2e-org-ping"}), `{"handshake":"github","sent":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			a := callWebhook(t, tt.event)
			if a.StatusCode != 200 || a.Body != tt.wantBody {
				t.Errorf("answer %d %q, want 200 %q", a.StatusCode, a.Body, tt.wantBody)
			}
			if n := stack.TalkJS.Counts().Requests; n != 0 {
				t.Errorf("a handshake made %d TalkJS requests", n)
			}
		})
	}
	t.Run("slack url_verification unsigned", func(t *testing.T) {
		reset(t)
		ev := signedEvent(t, "slack", verify.Config{Preset: verify.PresetSlack}, string(slackBody), nil)
		var v1 events.APIGatewayProxyRequest
		if err := json.Unmarshal(ev, &v1); err != nil {
			t.Fatal(err)
		}
		delete(v1.Headers, "X-Slack-Signature")
		delete(v1.MultiValueHeaders, "X-Slack-Signature")
		b, _ := json.Marshal(v1)
		if a := callWebhook(t, b); a.StatusCode != 401 {
			t.Errorf("unsigned url_verification answered %d %q, want 401", a.StatusCode, a.Body)
		}
	})
}

// signedEvent is a REST API (v1) event for POST /webhooks/<route>, signed
// with the demo secret of the route.
func signedEvent(t *testing.T, route string, vc verify.Config, body string, extra map[string]string) []byte {
	t.Helper()
	h, err := verify.Sign(vc, []byte(democreds.WebhookSecrets()[route]), "", time.Now(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/webhooks/" + route, Resource: "/webhooks/{route}",
		PathParameters:    map[string]string{"route": route},
		Headers:           map[string]string{"Content-Type": "application/json"},
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}},
		Body:              body,
	}
	for k, v := range extra {
		h.Set(k, v)
	}
	for k := range h {
		ev.Headers[k], ev.MultiValueHeaders[k] = h.Get(k), []string{h.Get(k)}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

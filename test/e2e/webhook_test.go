package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
)

// TestWebhookStatuses checks the status table of DESIGN.md through the real
// binary, with TalkJS faults where the status depends on TalkJS. The codes
// for TalkJS failures are those internal/handler/webhook documents: 502 when TalkJS
// answered 5xx, 503 when it could not be reached or answered 429, 422 when it
// refused the message (4xx).
func TestWebhookStatuses(t *testing.T) {
	staleStripe, err := os.ReadFile(filepath.Join(eventsDir, "webhook-stripe.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		event  []byte
		fault  *talkjstest.Fault
		status int
		sent   bool
	}{
		{name: "good signature", event: loadEvent(t, "webhook-github-issue-rest.json"), status: 200, sent: true},
		{name: "good signature via HTTP API", event: loadEvent(t, "webhook-github-issue-httpapi.json"), status: 200, sent: true},
		{name: "bad signature", event: loadEvent(t, "webhook-bad-signature.json"), status: 401},
		{name: "stale Stripe timestamp", event: staleStripe, status: 401},
		{name: "unknown route", event: loadEvent(t, "webhook-unknown-route.json"), status: 404},
		{name: "event no action handles", event: githubEvent(t, "star", "POST", `{"action":"created","repository":{"full_name":"Codertocat/Hello-World"}}`), status: 202},
		{name: "payload missing what the templates need", event: githubEvent(t, "issues", "POST", `{"action":"opened"}`), status: 400},
		{name: "body over 1 MiB", event: githubEvent(t, "issues", "POST", `{"action":"opened","pad":"`+strings.Repeat("x", 1<<20)+`"}`), status: 413},
		{name: "not a POST", event: githubEvent(t, "issues", "GET", `{"action":"opened"}`), status: 405},
		{name: "TalkJS 500", event: loadEvent(t, "webhook-github-issue-rest.json"), fault: &talkjstest.Fault{ConversationID: githubConv, Status: 500}, status: 502},
		{name: "TalkJS 503", event: loadEvent(t, "webhook-alertmanager.json"), fault: &talkjstest.Fault{ConversationID: alertsConv, Status: 503}, status: 502},
		{name: "TalkJS 429", event: loadEvent(t, "webhook-stripe.json"), fault: &talkjstest.Fault{ConversationID: stripeConv, Status: 429, RetryAfter: time.Hour}, status: 503},
		{name: "TalkJS unreachable", event: loadEvent(t, "webhook-github-issue-rest.json"), fault: &talkjstest.Fault{Drop: true}, status: 503},
		{name: "TalkJS refuses", event: loadEvent(t, "webhook-github-issue-rest.json"), fault: &talkjstest.Fault{ConversationID: githubConv, Status: 403}, status: 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			if tt.fault != nil {
				stack.TalkJS.AddFault(*tt.fault)
			}
			a := callWebhook(t, tt.event)
			if a.StatusCode != tt.status {
				t.Errorf("status %d (%s), want %d", a.StatusCode, a.Body, tt.status)
			}
			stored := stack.TalkJS.Counts().MessagesStored
			if tt.sent != (stored == 1) || stored > 1 {
				t.Errorf("%d messages stored, want sent=%v", stored, tt.sent)
			}
			if tt.fault == nil && !tt.sent && stack.TalkJS.Counts().Requests != 0 {
				t.Errorf("a refused webhook reached TalkJS")
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(a.Body), &body); err != nil {
				t.Errorf("answer body %q is not JSON: %v", a.Body, err)
			}
		})
	}
}

// githubEvent is the REST API sample with another GitHub event, method and
// body, signed with the demo secret as GitHub would.
func githubEvent(t *testing.T, event, method, body string) []byte {
	t.Helper()
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(loadEvent(t, "webhook-github-issue-rest.json"), &ev); err != nil {
		t.Fatal(err)
	}
	h, err := verify.Sign(verify.Config{Preset: verify.PresetGitHub, Secrets: []string{"github"}}, []byte(democreds.WebhookSecrets()["github"]), "", time.Now(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ev.Body, ev.HTTPMethod = body, method
	ev.Headers["X-GitHub-Event"], ev.MultiValueHeaders["X-GitHub-Event"] = event, []string{event}
	sig := h.Get("X-Hub-Signature-256")
	ev.Headers["X-Hub-Signature-256"], ev.MultiValueHeaders["X-Hub-Signature-256"] = sig, []string{sig}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWebhookSameEventTwice checks that a redelivered webhook (same
// delivery id) adds no message, while another delivery of the same issue
// (the HTTP API sample has its own X-GitHub-Delivery) adds one.
func TestWebhookSameEventTwice(t *testing.T) {
	reset(t)
	rest := loadEvent(t, "webhook-github-issue-rest.json")
	first := wantSent(t, invoke(t, localrun.Webhook, rest), githubConv)
	second := wantSent(t, invoke(t, localrun.Webhook, rest), githubConv)
	if n := len(stack.TalkJS.Messages(githubConv)); n != 1 {
		t.Fatalf("%s has %d messages after a redelivery, want 1", githubConv, n)
	}
	if got, want := second.Sent[0].MessageIDs, first.Sent[0].MessageIDs; len(got) != 1 || got[0] != want[0] {
		t.Errorf("redelivery answered ids %q, want the first delivery's %q", got, want)
	}
	if c := stack.TalkJS.Counts(); c.IdempotentReplays != 1 {
		t.Errorf("idempotent replays = %d, want 1", c.IdempotentReplays)
	}
	wantSent(t, invoke(t, localrun.Webhook, loadEvent(t, "webhook-github-issue-httpapi.json")), githubConv)
	if n := len(stack.TalkJS.Messages(githubConv)); n != 2 {
		t.Errorf("%s has %d messages after another delivery, want 2", githubConv, n)
	}
}

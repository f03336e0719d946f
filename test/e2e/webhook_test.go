package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
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
			// The sender learns what TalkJS answered, not where TalkJS
			// is or which app (issue 14.8); the log has both.
			for _, hidden := range []string{stack.AppID, stack.TalkJSURL, strings.TrimPrefix(stack.TalkJSURL, "http://")} {
				if strings.Contains(a.Body, hidden) {
					t.Errorf("answer %s reveals %q", a.Body, hidden)
				}
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

// TestWebhookSameEventTwice checks that a redelivered webhook adds no
// message, and that neither does the same body arriving through another
// front door with another X-GitHub-Delivery (the HTTP API sample carries the
// REST sample's body and signature): GitHub's signature covers the body,
// not the delivery header, so the key comes from the body (issue 14.1).
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
	if n := len(stack.TalkJS.Messages(githubConv)); n != 1 {
		t.Errorf("%s has %d messages after the same body with another delivery id, want 1", githubConv, n)
	}
}

// TestWebhookReplayNewDeliveryHeader is issue 14.1 through the real
// bootstrap: a body signed once and replayed with delivery-id headers the
// signature does not cover is one message. GitHub: three X-GitHub-Delivery
// values. Standard Webhooks: an added X-GitHub-Delivery must not replace
// the signed webhook-id. Shopify: a new X-Shopify-Webhook-Id, or an added
// X-GitHub-Delivery, the same.
func TestWebhookReplayNewDeliveryHeader(t *testing.T) {
	secrets := democreds.WebhookSecrets()
	shopifyBody := `{"id":820982911946154508,"name":"#9999","total_price":"10.00","currency":"USD"}`
	genericBody := `{"type":"note","conversationId":"replay-generic","text":"signed once"}`
	tests := []struct {
		name    string
		conv    string
		event   func(t *testing.T, extra map[string]string) []byte
		replays []map[string]string
		// keyHas, when set, must be part of the stored message's key.
		keyHas string
	}{
		{
			name: "github", conv: githubConv,
			event: func(t *testing.T, extra map[string]string) []byte {
				return restEvent(t, loadEvent(t, "webhook-github-issue-rest.json"), extra)
			},
			replays: []map[string]string{{"X-GitHub-Delivery": "d-1"}, {"X-GitHub-Delivery": "d-2"}, {"X-GitHub-Delivery": "d-3"}, {"webhook-id": "msg_forged"}},
		},
		{
			name: "standard webhooks", conv: "replay-generic",
			event: func(t *testing.T, extra map[string]string) []byte {
				h, err := verify.Sign(verify.Config{Preset: verify.PresetStandardWebhooks}, []byte(secrets["generic"]), "msg_signed_once", time.Now(), []byte(genericBody))
				if err != nil {
					t.Fatal(err)
				}
				return httpAPIEvent(t, "generic", h, genericBody, extra)
			},
			replays: []map[string]string{{}, {"X-GitHub-Delivery": "d-1"}, {"X-GitHub-Delivery": "d-2", "X-Shopify-Webhook-Id": "s-1"}},
			keyHas:  "msg_signed_once",
		},
		{
			name: "shopify", conv: "",
			event: func(t *testing.T, extra map[string]string) []byte {
				h, err := verify.Sign(verify.Config{Preset: verify.PresetShopify}, []byte(secrets["shopify"]), "", time.Now(), []byte(shopifyBody))
				if err != nil {
					t.Fatal(err)
				}
				h.Set("X-Shopify-Topic", "orders/create")
				h.Set("X-Shopify-Shop-Domain", "replay.myshopify.com")
				return httpAPIEvent(t, "shopify", h, shopifyBody, extra)
			},
			replays: []map[string]string{{"X-Shopify-Webhook-Id": "s-1"}, {"X-Shopify-Webhook-Id": "s-2"}, {"X-Shopify-Webhook-Id": "s-2", "X-GitHub-Delivery": "d-1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset(t)
			if tt.conv == "replay-generic" {
				// The generic route sends to a conversation that exists.
				c, err := stack.Client()
				if err != nil {
					t.Fatal(err)
				}
				if err := c.UpsertConversation(t.Context(), tt.conv, talkjs.ConversationUpdate{}); err != nil {
					t.Fatal(err)
				}
			}
			var conv string
			for i, extra := range tt.replays {
				a := callWebhook(t, tt.event(t, extra))
				if a.StatusCode != 200 {
					t.Fatalf("replay %d (%v): status %d (%s), want 200", i, extra, a.StatusCode, a.Body)
				}
				var s sentAnswer
				if err := json.Unmarshal([]byte(a.Body), &s); err != nil || len(s.Sent) != 1 {
					t.Fatalf("replay %d: answer %s", i, a.Body)
				}
				conv = s.Sent[0].ConversationID
			}
			if tt.conv != "" && conv != tt.conv {
				t.Errorf("sent to %s, want %s", conv, tt.conv)
			}
			msgs := stack.TalkJS.Messages(conv)
			if len(msgs) != 1 {
				t.Fatalf("%s has %d messages after %d replays of one signed body, want 1: %q", conv, len(msgs), len(tt.replays), texts(conv))
			}
			if tt.keyHas != "" && !strings.Contains(msgs[0].IdempotencyKey, tt.keyHas) {
				t.Errorf("key %q does not come from the signed id %q", msgs[0].IdempotencyKey, tt.keyHas)
			}
		})
	}
}

// restEvent returns a REST API (v1) event with extra headers set in both
// of its header maps; the body and signature are left as they are.
func restEvent(t *testing.T, raw []byte, extra map[string]string) []byte {
	t.Helper()
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		ev.Headers[k], ev.MultiValueHeaders[k] = v, []string{v}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// httpAPIEvent returns an HTTP API (v2) event for route with headers h
// (lower-cased, as API Gateway passes them) plus extra.
func httpAPIEvent(t *testing.T, route string, h http.Header, body string, extra map[string]string) []byte {
	t.Helper()
	headers := map[string]string{"content-type": "application/json"}
	for k := range h {
		headers[strings.ToLower(k)] = h.Get(k)
	}
	for k, v := range extra {
		headers[strings.ToLower(k)] = v
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/webhooks/" + route, Headers: headers, Body: body,
		PathParameters: map[string]string{"route": route},
	}
	ev.RequestContext.HTTP.Method = "POST"
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

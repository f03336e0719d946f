package webhook_test

import (
	"net/http"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

const talkjsWebhookSecret = "talkjs-test-webhook-key"

// TestTalkJSRoute: the talkjs route copies a person's message into the
// support inbox, never reacts to the bridge's own message (loop guard), and
// answers 200 rather than 202 when it sends nothing, since TalkJS retries
// every other answer.
func TestTalkJSRoute(t *testing.T) {
	s, emu, _ := newServer(t)
	s.Secrets = onlySecret("talkjs", talkjsWebhookSecret)
	routes := s.Routes
	vc, _ := routes.VerifyConfig("talkjs")
	deliver := func(body []byte) webhook.Response {
		h, err := verify.Sign(vc, []byte(talkjsWebhookSecret), "", now, body)
		if err != nil {
			t.Fatal(err)
		}
		h.Set("Content-Type", "application/json")
		return s.Serve(t.Context(), webhook.Request{Method: http.MethodPost, Route: "talkjs", Headers: h, Body: body})
	}

	person := fixture(t, "senders", "talkjs", "message.sent.json")
	if r := deliver(person); r.Status != http.StatusOK {
		t.Fatalf("a person's message: %d %s", r.Status, r.Body)
	}
	msgs := emu.Messages("support-inbox")
	if len(msgs) != 1 || msgs[0].Type != "UserMessage" || msgs[0].SenderID != "talkjs-bridge" {
		t.Fatalf("support inbox holds %+v, want one UserMessage from the bridge bot", msgs)
	}

	own := fixture(t, "senders", "talkjs", "message.sent.from-bridge.json")
	r := deliver(own)
	if r.Status != http.StatusOK {
		t.Errorf("the bridge's own message answered %d (%s), want 200: TalkJS retries anything else", r.Status, r.Body)
	}
	if n := len(emu.Messages("support-inbox")); n != 1 {
		t.Errorf("the bridge answered its own message: the inbox holds %d messages", n)
	}
}

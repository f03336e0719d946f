package webhook_test

import (
	"encoding/json"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

// TestTwilioPublicURL: Twilio signs the URL it posts to; the webhook takes
// it from the event (domain, stage, path, query), or from PublicBaseURL
// behind a custom domain, and an inbound SMS (a form) reaches its
// conversation.
func TestTwilioPublicURL(t *testing.T) {
	const token = "twilio-test-auth-token"
	form := fixture(t, "senders", "twilio", "sms-received.form")
	event := func(domain, rawPath string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{
			"version": "2.0", "rawPath": rawPath, "rawQueryString": "",
			"headers":        map[string]string{"content-type": "application/x-www-form-urlencoded"},
			"requestContext": map[string]any{"domainName": domain, "stage": "prod", "http": map[string]string{"method": "POST"}},
			"body":           string(form),
		})
		return b
	}
	cases := []struct {
		name      string
		base      string // Server.PublicBaseURL
		signedURL string // the URL Twilio was given
		event     json.RawMessage
		want      int
	}{
		{"api gateway url", "", "https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhooks/twilio",
			event("abc123.execute-api.us-east-1.amazonaws.com", "/prod/webhooks/twilio"), 200},
		{"custom domain", "https://hooks.example.com/chat", "https://hooks.example.com/chat/webhooks/twilio",
			event("abc123.execute-api.us-east-1.amazonaws.com", "/prod/webhooks/twilio"), 200},
		{"custom domain not configured", "", "https://hooks.example.com/chat/webhooks/twilio",
			event("abc123.execute-api.us-east-1.amazonaws.com", "/prod/webhooks/twilio"), 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, emu, _ := newServer(t)
			s.Secrets, s.PublicBaseURL = onlySecret("twilio", token), tc.base
			h, err := verify.SignTwilio([]byte(token), tc.signedURL, form)
			if err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			must(t, json.Unmarshal(tc.event, &ev))
			ev["headers"].(map[string]any)["x-twilio-signature"] = h.Get("X-Twilio-Signature")
			raw, _ := json.Marshal(ev)
			out, err := s.Handle(t.Context(), raw)
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			must(t, json.Unmarshal(out, &resp))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, resp.Body, tc.want)
			}
			if tc.want == 200 {
				msgs := emu.Messages("sms-19253920364-dce6e84f756d")
				if len(msgs) != 1 || msgs[0].SenderID != "twilio-bot" {
					t.Errorf("messages %+v, want one from twilio-bot", msgs)
				}
			}
		})
	}
}

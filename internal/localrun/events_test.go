package localrun

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
)

// gwEvent is the part of an API Gateway event the tests read.
type gwEvent struct {
	Body            string              `json:"body"`
	IsBase64Encoded bool                `json:"isBase64Encoded"`
	Headers         map[string]string   `json:"headers"`
	MultiValue      map[string][]string `json:"multiValueHeaders"`
}

func decodeEvent(t *testing.T, b []byte) gwEvent {
	t.Helper()
	var e gwEvent
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("event: %v", err)
	}
	return e
}

// verifies reports whether the event's signature is accepted at now by a
// verifier for preset with secret.
func verifies(t *testing.T, e gwEvent, c verify.Config, secret string, now time.Time) error {
	t.Helper()
	v, err := verify.New(c, [][]byte{[]byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return now }
	h := make(http.Header)
	for k, vs := range e.MultiValue {
		for _, x := range vs {
			h.Add(k, x)
		}
	}
	for k, x := range e.Headers {
		if len(h.Values(k)) == 0 {
			h.Set(k, x)
		}
	}
	body := []byte(e.Body)
	if e.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(e.Body); err != nil {
			t.Fatal(err)
		}
	}
	return v.Verify(h, body)
}

// standardWebhooksEvent is an HTTP API (v2) event for the generic route,
// signed the Standard Webhooks way at `at` with the demo secret.
func standardWebhooksEvent(t *testing.T, at time.Time, secret string) []byte {
	t.Helper()
	body := []byte(`{"type":"note","conversationId":"ops","text":"hello"}`)
	c := verify.Config{Preset: verify.PresetStandardWebhooks, Secrets: []string{"generic"}}
	h, err := verify.Sign(c, []byte(secret), "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", at, body)
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{"content-type": "application/json"}
	for k, vs := range h {
		headers[strings.ToLower(k)] = vs[0]
	}
	ev := map[string]any{
		"version": "2.0", "rawPath": "/webhooks/generic", "headers": headers, "isBase64Encoded": true,
		"body":           base64.StdEncoding.EncodeToString(body),
		"pathParameters": map[string]string{"route": "generic"},
		"requestContext": map[string]any{"http": map[string]string{"method": "POST"}},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResignEvent(t *testing.T) {
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	committed := time.Unix(1795597200, 0)
	stripe := verify.Config{Preset: verify.PresetStripe, Secrets: []string{"stripe"}}
	generic := verify.Config{Preset: verify.PresetStandardWebhooks, Secrets: []string{"generic"}}
	paddle := verify.Config{Preset: verify.PresetPaddle, Secrets: []string{"paddle"}}
	slack := verify.Config{Preset: verify.PresetSlack, Secrets: []string{"slack"}}
	talkjsPreset := verify.Config{Preset: verify.PresetTalkJS, Secrets: []string{"talkjs"}}
	wrongSecrets := map[string]string{"stripe": "whsec_not_the_demo_one", "github": "x", "generic": "whsec_eA=="}

	tests := []struct {
		name    string
		event   []byte
		secrets map[string]string
		// resigned: the result verifies at now with check/secret.
		resigned bool
		check    verify.Config
		secret   string
		// unchanged: the result is byte for byte the input.
		unchanged bool
		wantErr   string
	}{
		{name: "stale Stripe event", event: read("webhook-stripe.json"), secrets: democreds.WebhookSecrets(), resigned: true, check: stripe, secret: democreds.WebhookSecrets()["stripe"]},
		{name: "Standard Webhooks via HTTP API, base64 body", event: standardWebhooksEvent(t, committed, democreds.WebhookSecrets()["generic"]), secrets: democreds.WebhookSecrets(), resigned: true, check: generic, secret: democreds.WebhookSecrets()["generic"]},
		{name: "stale Paddle event", event: read("webhook-paddle.json"), secrets: democreds.WebhookSecrets(), resigned: true, check: paddle, secret: democreds.WebhookSecrets()["paddle"]},
		{name: "stale Slack event", event: read("webhook-slack.json"), secrets: democreds.WebhookSecrets(), resigned: true, check: slack, secret: democreds.WebhookSecrets()["slack"]},
		{name: "stale TalkJS event", event: read("webhook-talkjs.json"), secrets: democreds.WebhookSecrets(), resigned: true, check: talkjsPreset, secret: democreds.WebhookSecrets()["talkjs"]},
		{name: "stale Standard Webhooks sample", event: read("webhook-generic.json"), secrets: democreds.WebhookSecrets(), resigned: true, check: generic, secret: democreds.WebhookSecrets()["generic"]},
		{name: "Twilio signs no timestamp", event: read("webhook-twilio.json"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "Grafana without a timestamp header", event: read("webhook-grafana.json"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "Stripe event not signed with our secret stays bad", event: read("webhook-stripe.json"), secrets: wrongSecrets, unchanged: true},
		{name: "GitHub signs no timestamp", event: read("webhook-github-issue-rest.json"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "bad GitHub signature", event: read("webhook-bad-signature.json"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "bearer token", event: read("webhook-alertmanager.json"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "unknown route", event: read("webhook-unknown-route.json"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "SQS batch", event: read("queue-commands.json"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "schedule input", event: read("schedule-inline.json"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "not JSON", event: []byte("hello"), secrets: democreds.WebhookSecrets(), unchanged: true},
		{name: "no secret to sign with", event: read("webhook-stripe.json"), secrets: map[string]string{"github": "x"}, wantErr: `no webhook secret for stripe`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ResignEvent(tt.event, routes, tt.secrets, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.unchanged {
				if !bytes.Equal(out, tt.event) {
					t.Errorf("event changed:\n%s", out)
				}
				return
			}
			in, got := decodeEvent(t, tt.event), decodeEvent(t, out)
			if err := verifies(t, in, tt.check, tt.secret, now); !errors.Is(err, verify.ErrTimestampTooOld) {
				t.Fatalf("the input should be stale at now, got %v", err)
			}
			if err := verifies(t, got, tt.check, tt.secret, now); err != nil {
				t.Errorf("re-signed event does not verify at now: %v", err)
			}
			if got.Body != in.Body || got.IsBase64Encoded != in.IsBase64Encoded {
				t.Error("body changed")
			}
			if len(got.Headers) != len(in.Headers) {
				t.Errorf("headers %v, want the same names as %v", got.Headers, in.Headers)
			}
			for k, vs := range got.MultiValue {
				if got.Headers[k] != vs[0] {
					t.Errorf("header %s: headers says %q, multiValueHeaders %q", k, got.Headers[k], vs)
				}
			}
			// Everything but the headers is as it was.
			var a, b map[string]any
			_ = json.Unmarshal(tt.event, &a)
			_ = json.Unmarshal(out, &b)
			for _, m := range []map[string]any{a, b} {
				delete(m, "headers")
				delete(m, "multiValueHeaders")
			}
			if !reflect.DeepEqual(a, b) {
				t.Error("fields other than the headers changed")
			}
		})
	}
}

func TestLoadEvent(t *testing.T) {
	b, err := LoadEvent(filepath.Join("..", "..", "events", "webhook-stripe.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := verify.Config{Preset: verify.PresetStripe, Secrets: []string{"stripe"}}
	if err := verifies(t, decodeEvent(t, b), c, democreds.WebhookSecrets()["stripe"], time.Now()); err != nil {
		t.Errorf("loaded Stripe event does not verify now: %v", err)
	}
	if _, err := LoadEvent(filepath.Join("..", "..", "events", "no-such-event.json")); err == nil || !strings.Contains(err.Error(), "no-such-event.json") {
		t.Errorf("missing file: err = %v, want one naming the file", err)
	}
}

func TestFunctionFor(t *testing.T) {
	tests := map[string]string{
		"webhook-stripe.json":           Webhook,
		"events/queue-fifo.json":        Queue,
		"/x/events/schedule-rule.json":  Schedule,
		"README.md":                     "",
		"webhooks-typo.json":            "",
		"scheduler-not-a-function.json": "",
	}
	for in, want := range tests {
		if got := FunctionFor(in); got != want {
			t.Errorf("FunctionFor(%q) = %q, want %q", in, got, want)
		}
	}
}

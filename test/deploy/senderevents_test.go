package deploy

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

var update = flag.Bool("update", false, "rewrite the sender events in events/ from testdata/")

// senderEvent says how events/webhook-<route>.json is made from a payload
// in testdata/: its delivery headers (a .headers file, or the capture's own
// for a wrapped {headers, body} file) and the User-Agent the sender uses.
type senderEvent struct {
	route, payload, headers, userAgent, contentType, deliveryID string
	wrapped                                                     bool
}

var senderEvents = []senderEvent{
	{route: "gitlab", payload: "senders/gitlab/push.json", headers: "senders/gitlab/push.headers", userAgent: "GitLab/17.1.0-pre"},
	{route: "bitbucket", payload: "senders/bitbucket/pull-request-created.json", headers: "senders/bitbucket/pull-request-created.headers", userAgent: "Bitbucket-Webhooks/2.0"},
	{route: "circleci", payload: "senders/circleci/workflow-completed.json", headers: "senders/circleci/workflow-completed.headers", userAgent: "CircleCI-Webhook/1.0"},
	{route: "sentry", payload: "senders/sentry/event_alert.json", headers: "senders/sentry/event_alert.headers", userAgent: "sentry"},
	{route: "pagerduty", payload: "senders/pagerduty/incident.priority_updated.json", userAgent: "PagerDuty-Webhook/V3.0"},
	{route: "grafana", payload: "senders/grafana/firing.json", userAgent: "Grafana"},
	{route: "uptime-kuma", payload: "senders/uptime-kuma/down.json", userAgent: "Uptime-Kuma/1.23.0"},
	{route: "paddle", payload: "senders/paddle/transaction.completed.json", userAgent: "Paddle"},
	{route: "postmark", payload: "senders/postmark/Bounce.json", userAgent: "Postmark"},
	{route: "twilio", payload: "senders/twilio/sms-received.form", headers: "senders/twilio/sms-received.headers", userAgent: "TwilioProxy/1.1", contentType: "application/x-www-form-urlencoded"},
	{route: "slack", payload: "other/slack/reaction_added.json", userAgent: "Slackbot 1.0 (+https://api.slack.com/robots)"},
	{route: "talkjs", payload: "senders/talkjs/message.sent.json", userAgent: "TalkJS"},
	{route: "generic", payload: "other/standard-webhooks/contact.created.full-payload.json", userAgent: "Svix-Webhooks/1.0", deliveryID: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"},
	{route: "shopify", payload: "other/shopify/orders.create.json", userAgent: "Shopify-Captain-Hook", wrapped: true},
}

// sampleHost is the API's domain in every sample event: Twilio's signature
// covers https://<Host><requestContext.path>.
const sampleHost = "abc123defg.execute-api.us-east-1.amazonaws.com"

// TestSenderEventsFromTestdata rebuilds each sender's sample event from its
// payload in testdata/ and compares it with the committed file, so the
// samples stay real payloads signed with the demo secrets. Signatures with a
// timestamp are made at t=1795597200 (localrun.LoadEvent signs them again at
// delivery). -update rewrites the files.
func TestSenderEventsFromTestdata(t *testing.T) {
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile("../../events/webhook-stripe.json")
	if err != nil {
		t.Fatal(err)
	}
	for i, se := range senderEvents {
		t.Run(se.route, func(t *testing.T) {
			got := buildSenderEvent(t, routes, tmpl, i, se)
			path := filepath.Join("..", "..", "events", "webhook-"+se.route+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./test/deploy -run SenderEvents -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what testdata/%s makes (go test ./test/deploy -run SenderEvents -update rewrites it)", path, se.payload)
			}
		})
	}
}

func buildSenderEvent(t *testing.T, routes *mapping.Routes, tmpl []byte, i int, se senderEvent) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", se.payload))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if se.wrapped {
		var w struct {
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		}
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatal(err)
		}
		body = w.Body
		for k, v := range w.Headers {
			switch strings.ToLower(k) {
			case "x-shopify-hmac-sha256", "content-length", "user-agent", "content-type", "host":
				continue // signed again below; set below
			}
			h.Set(k, v)
		}
	}
	body = bytes.TrimRight(body, "\n")
	if se.route == "generic" {
		// The generic route posts into the conversation the body names,
		// which must exist: the Alertmanager sample's, replayed earlier.
		body = append([]byte("{\n  \"conversationId\": \"alerts-teams_proxy-5b110c6a924d\",\n"), bytes.TrimPrefix(body, []byte("{\n"))...)
	}
	if se.headers != "" {
		hb, err := os.ReadFile(filepath.Join("..", "..", "testdata", se.headers))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(hb), "\n") {
			k, v, ok := strings.Cut(line, ":")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			// The captured token is redacted; the demo's is set below.
			if !ok || strings.EqualFold(k, "X-Gitlab-Token") || strings.EqualFold(k, "Content-Type") || strings.EqualFold(k, "User-Agent") {
				continue
			}
			h.Set(k, v)
		}
	}
	ct := se.contentType
	if ct == "" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	h.Set("Host", sampleHost)
	h.Set("User-Agent", se.userAgent)
	h.Set("X-Forwarded-For", "198.51.100.7")
	h.Set("X-Forwarded-Port", "443")
	h.Set("X-Forwarded-Proto", "https")
	h.Set("X-Amzn-Trace-Id", fmt.Sprintf("Root=1-6925a0f0-5a1c6a7e3b2d4f6e8a9b%04d", i))

	vc, ok := routes.VerifyConfig(se.route)
	if !ok {
		t.Fatalf("no route %q in the default routes file", se.route)
	}
	secret := []byte(democreds.WebhookSecrets()[vc.Secrets[0]])
	var sh http.Header
	switch vc.Preset {
	case verify.PresetTwilio:
		sh, err = verify.SignTwilio(secret, "https://"+sampleHost+"/prod/webhooks/"+se.route, body)
	case verify.PresetGrafana:
		// Grafana sends a timestamp only when one is configured, and the
		// ready route checks the body alone (verify.Sign always adds one).
		m := hmac.New(sha256.New, secret)
		m.Write(body)
		sh = http.Header{"X-Grafana-Alerting-Signature": {hex.EncodeToString(m.Sum(nil))}}
	default:
		sh, err = verify.Sign(vc, secret, se.deliveryID, time.Unix(1795597200, 0), body)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range sh {
		h[k] = vs
	}

	var ev map[string]any
	if err := json.Unmarshal(tmpl, &ev); err != nil {
		t.Fatal(err)
	}
	ev["body"] = string(body)
	hs, mv := map[string]string{}, map[string][]string{}
	for k := range h {
		hs[k], mv[k] = h.Get(k), []string{h.Get(k)}
	}
	ev["headers"], ev["multiValueHeaders"] = hs, mv
	ev["path"] = "/webhooks/" + se.route
	ev["pathParameters"] = map[string]string{"route": se.route}
	rc := ev["requestContext"].(map[string]any)
	rc["path"] = "/prod/webhooks/" + se.route
	rc["requestId"] = fmt.Sprintf("5f0c7a1e-c9d1-11f0-b0e6-0a1b2c3d%04d", i+100)
	id := rc["identity"].(map[string]any)
	id["sourceIp"] = "198.51.100.7"
	id["userAgent"] = se.userAgent
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ev); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// handshakeRoutes has one route per handshake, each with its sender's
// preset (zoom and twitch imply their handshake); zoom-hmac checks that a
// route verified another way still answers Zoom's check, with its first
// secret.
const handshakeRoutes = `
routes:
  slack:
    verify: slack
    event: {field: type}
    actions:
      - conversation: {id: slack, subject: Slack}
        message: {text: '{{ .event }}'}
  zoom:
    verify: {preset: zoom, secrets: [zoom-old, zoom]}
    actions:
      - conversation: {id: zoom}
        message: {text: '{{ .payload.event }}'}
  zoom-hmac:
    verify: {preset: hmac, secrets: [zoom], header: x-zm-signature, prefix: "v0=", signed: "v0:{timestamp}:{body}", timestampHeader: x-zm-request-timestamp}
    handshake: zoom
    actions:
      - conversation: {id: zoom}
        message: {text: '{{ .payload.event }}'}
  twitch:
    verify: twitch
    actions:
      - conversation: {id: twitch}
        message: {text: twitch}
  graph:
    verify: none
    handshake: graph
    actions:
      - conversation: {id: graph}
        message: {text: graph}
  eventgrid:
    verify: bearer
    handshake: eventgrid
    actions:
      - conversation: {id: eventgrid}
        message: {text: eventgrid}
  github:
    verify: github
    event: {header: X-GitHub-Event}
    actions:
      - conversation: {id: github}
        message: {text: '{{ .event }}'}
`

var handshakeSecrets = map[string]string{
	"slack": "slack-test-signing", "zoom": "zoom-test-token", "zoom-old": "zoom-old-test-token", "twitch": "twitch-test-secret",
	"eventgrid": "eventgrid-test-token", "github": githubSecret,
}

func handshakeServer(t *testing.T) (*webhook.Server, *talkjstest.Emulator) {
	t.Helper()
	srv, emu := talkjstest.NewServer(appID, key)
	t.Cleanup(srv.Close)
	c, err := talkjs.NewClient(appID, talkjs.StaticKey(key), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := mapping.Parse([]byte(handshakeRoutes), "handshake.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secrets := func(_ context.Context, name string) (string, error) {
		if s, ok := handshakeSecrets[name]; ok {
			return s, nil
		}
		return "", fmt.Errorf("no secret %q", name)
	}
	return &webhook.Server{Routes: routes, TalkJS: c, Secrets: secrets, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, emu
}

// signed signs body the way route's verify block says, with its test secret.
func signed(t *testing.T, s *webhook.Server, route string, body []byte) http.Header {
	t.Helper()
	vc, ok := s.Routes.VerifyConfig(route)
	if !ok {
		t.Fatalf("no route %s", route)
	}
	h, err := verify.Sign(vc, []byte(handshakeSecrets[vc.Secrets[len(vc.Secrets)-1]]), "", now, body)
	if err != nil {
		t.Fatal(err)
	}
	h.Set("Content-Type", "application/json")
	return h
}

func TestHandshakes(t *testing.T) {
	s, emu := handshakeServer(t)
	slackBody := fixture(t, "senders", "slack", "url_verification.json")
	slackWant := string(fixture(t, "senders", "slack", "url_verification.expected_response.txt"))
	zoomBody := []byte(`{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`)
	zm := hmac.New(sha256.New, []byte(handshakeSecrets["zoom"]))
	zm.Write([]byte("qgg8vlvZRS6UYooatFL8Aw"))
	zoomWant := `{"encryptedToken":"` + hex.EncodeToString(zm.Sum(nil)) + `","plainToken":"qgg8vlvZRS6UYooatFL8Aw"}`
	twitchBody := []byte(`{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","type":"channel.follow","version":"2","status":"webhook_callback_verification_pending"}}`)
	egBody := []byte(`[{"id":"2d1781af-3a4c-4d7c-bd0c-e34b19da4e66","topic":"/subscriptions/xxx","subject":"","data":{"validationCode":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6","validationUrl":"https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/x/validate?id=y"},"eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","eventTime":"2018-01-25T22:12:19.4556811Z","metadataVersion":"1","dataVersion":"1"}]`)
	orgPing := []byte(`{"zen":"Keep it logically awesome.","hook_id":123,"hook":{"type":"Organization","id":123},"organization":{"login":"octo-org"},"sender":{"login":"octocat"}}`)

	with := func(h http.Header, kv ...string) http.Header {
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	cases := []struct {
		name       string
		route      string
		headers    http.Header
		query      url.Values
		body       []byte
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"slack url_verification", "slack", signed(t, s, "slack", slackBody), nil, slackBody, 200, "text/plain; charset=utf-8", slackWant},
		{"slack unsigned", "slack", http.Header{"Content-Type": {"application/json"}}, nil, slackBody, 401, "application/json", ""},
		{"zoom endpoint.url_validation", "zoom", signed(t, s, "zoom", zoomBody), nil, zoomBody, 200, "application/json", zoomWant},
		{"zoom unsigned", "zoom", http.Header{}, nil, zoomBody, 401, "application/json", ""},
		{"zoom on an hmac route", "zoom-hmac", signed(t, s, "zoom-hmac", zoomBody), nil, zoomBody, 200, "application/json", zoomWant},
		{"twitch verification", "twitch", with(signed(t, s, "twitch", twitchBody), "Twitch-Eventsub-Message-Type", "webhook_callback_verification"), nil, twitchBody, 200, "text/plain; charset=utf-8", "pogchamp-kappa-360noscope-vohiyo"},
		{"twitch revocation", "twitch", with(signed(t, s, "twitch", twitchBody), "Twitch-Eventsub-Message-Type", "revocation"), nil, twitchBody, 200, "application/json", `{"handshake":"twitch","sent":[]}`},
		{"twitch unsigned", "twitch", http.Header{"Twitch-Eventsub-Message-Type": {"webhook_callback_verification"}}, nil, twitchBody, 401, "application/json", ""},
		{"graph validationToken", "graph", http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, url.Values{"validationToken": {"Validation: Testing client application reachability for subscription Request-Id: 4d6c3a5e"}}, nil, 200, "text/plain; charset=utf-8", "Validation: Testing client application reachability for subscription Request-Id: 4d6c3a5e"},
		{"eventgrid SubscriptionValidation", "eventgrid", with(signed(t, s, "eventgrid", egBody), "aeg-event-type", "SubscriptionValidation"), nil, egBody, 200, "application/json", `{"validationResponse":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}`},
		{"eventgrid without token", "eventgrid", http.Header{"Aeg-Event-Type": {"SubscriptionValidation"}}, nil, egBody, 401, "application/json", ""},
		{"github org ping", "github", with(signed(t, s, "github", orgPing), "X-GitHub-Event", "ping", "X-GitHub-Delivery", "d-1"), nil, orgPing, 200, "application/json", `{"handshake":"github","sent":[]}`},
		{"github ping unsigned", "github", http.Header{"X-Github-Event": {"ping"}}, nil, orgPing, 401, "application/json", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.Serve(t.Context(), webhook.Request{Method: http.MethodPost, Route: tc.route, Headers: tc.headers, Body: tc.body, Query: tc.query})
			if resp.Status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.Status, tc.wantStatus, resp.Body)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
			if tc.wantBody != "" && string(resp.Body) != tc.wantBody {
				t.Errorf("body %q, want %q", resp.Body, tc.wantBody)
			}
		})
	}
	if n := len(emu.Requests()); n != 0 {
		t.Errorf("handshakes made %d TalkJS requests, want none", n)
	}
}

// TestHandshakeNotAMessage: an ordinary event on a route with a handshake
// is still mapped; only the handshake is answered at the door.
func TestHandshakeNotAMessage(t *testing.T) {
	s, emu := handshakeServer(t)
	body := []byte(`{"type":"event_callback","event":{"type":"app_mention"}}`)
	resp := s.Serve(t.Context(), webhook.Request{Method: http.MethodPost, Route: "slack", Headers: signed(t, s, "slack", body), Body: body})
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	if msgs := emu.Messages("slack"); len(msgs) != 1 || msgs[0].Text != "event_callback" {
		t.Errorf("messages %+v, want one saying event_callback", msgs)
	}
}

// TestGraphQueryThroughEvents: the validationToken query parameter reaches
// the handler from each Lambda event shape, decoded.
func TestGraphQueryThroughEvents(t *testing.T) {
	s, _ := handshakeServer(t)
	const token = "Validation: Testing client application reachability"
	enc := url.QueryEscape(token)
	cases := []struct {
		name  string
		event string
	}{
		{"rest api v1", `{"httpMethod":"POST","path":"/webhooks/graph","queryStringParameters":{"validationToken":"` + token + `"},"multiValueQueryStringParameters":{"validationToken":["` + token + `"]},"headers":{"Content-Type":"text/plain"},"body":""}`},
		{"http api v2", `{"version":"2.0","rawPath":"/webhooks/graph","rawQueryString":"validationToken=` + enc + `","queryStringParameters":{"validationToken":"` + token + `"},"requestContext":{"http":{"method":"POST"}},"headers":{"content-type":"text/plain"},"body":""}`},
		{"function url", `{"version":"2.0","rawPath":"/webhooks/graph","rawQueryString":"validationToken=` + enc + `","requestContext":{"http":{"method":"POST"}},"headers":{},"body":""}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := s.Handle(t.Context(), json.RawMessage(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			var resp struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Body       string            `json:"body"`
			}
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Body != token || resp.Headers["Content-Type"] != "text/plain; charset=utf-8" {
				t.Errorf("got %d %q %q, want 200 text/plain %q", resp.StatusCode, resp.Headers["Content-Type"], resp.Body, token)
			}
		})
	}
}

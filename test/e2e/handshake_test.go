package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/config"
	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
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

// handshakeRoutes are routes the embedded routes file does not have, one
// per remaining handshake, each verified as its sender signs (Graph signs
// nothing); the webhook bootstrap reads them from BRIDGE_CONFIG.
const handshakeRoutes = `
routes:
  zoom:
    verify: {preset: zoom, secrets: [zoom]}
    actions:
      - conversation: {id: zoom, subject: Zoom}
        message: {text: '{{ .payload.event }}'}
  twitch:
    verify: {preset: twitch, secrets: [twitch]}
    actions:
      - conversation: {id: twitch, subject: Twitch}
        message: {text: twitch}
  graph:
    verify: none
    handshake: graph
    actions:
      - conversation: {id: graph, subject: Graph}
        message: {text: graph}
  eventgrid:
    verify: {preset: bearer, secrets: [eventgrid]}
    handshake: eventgrid
    actions:
      - conversation: {id: eventgrid, subject: Event Grid}
        message: {text: eventgrid}
`

// handshakeSecrets are the secrets of handshakeRoutes, in the demo shape
// make test's output scan looks for.
var handshakeSecrets = map[string]string{
	"zoom":      "demo-zoom-secret",
	"twitch":    "demo-twitch-secret",
	"eventgrid": "demo-eventgrid-token",
}

// TestSenderHandshakesThroughBootstrap answers Zoom's
// endpoint.url_validation, Twitch's webhook_callback_verification,
// Microsoft Graph's validationToken and Azure Event Grid's
// SubscriptionValidationEvent through the real webhook bootstrap, with a
// routes file of its own, and checks each answer exactly (status, content
// type, body) and that none reached TalkJS; unsigned ones are refused.
func TestSenderHandshakesThroughBootstrap(t *testing.T) {
	dir := t.TempDir()
	routesFile := filepath.Join(dir, "routes.yaml")
	if err := os.WriteFile(routesFile, []byte(handshakeRoutes), 0o600); err != nil {
		t.Fatal(err)
	}
	hooks := democreds.WebhookSecrets()
	maps.Copy(hooks, handshakeSecrets)
	s, err := localrun.Start(t.Context(), localrun.Options{
		BuildDir: buildDir, Prebuilt: true, Functions: []string{localrun.Webhook},
		WebhookSecrets: hooks, Env: []string{config.EnvRoutesFile + "=" + routesFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})

	// Zoom's documented example token; the answer's encryptedToken is the
	// hex HMAC-SHA256 of it keyed with the route's secret.
	const plainToken = "qgg8vlvZRS6UYooatFL8Aw"
	zoomBody := `{"payload":{"plainToken":"` + plainToken + `"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`
	zm := hmac.New(sha256.New, []byte(handshakeSecrets["zoom"]))
	zm.Write([]byte(plainToken))
	zoomWant := `{"encryptedToken":"` + hex.EncodeToString(zm.Sum(nil)) + `","plainToken":"` + plainToken + `"}`
	// Twitch's documented verification request.
	twitchBody := `{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"2","cost":1,"condition":{"broadcaster_user_id":"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"}}`
	twitchHeaders := map[string]string{"Twitch-Eventsub-Message-Type": "webhook_callback_verification", "Twitch-Eventsub-Subscription-Type": "channel.follow"}
	// Graph sends the token URL-encoded in the query; the answer is the
	// decoded token.
	const graphToken = "Validation: Testing client application reachability for subscription Request-Id: 25b6f8a7-1a39-4f0e-9c1b-6f5e3a2d1c0b"
	// Event Grid's documented SubscriptionValidationEvent.
	egBody := `[{"id":"2d1781af-3a4c-4d7c-bd0c-e34b19da4e66","topic":"/subscriptions/xx/resourceGroups/rg/providers/Microsoft.EventGrid/topics/t","subject":"","data":{"validationCode":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6","validationUrl":"https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/estest/validate?id=512d38b6-c7b8-40c8-89fe-f46f9e9622b6&t=2018-04-26T20:30:54.4538837Z&apiVersion=2018-05-01-preview&token=1A1A1A1A"},"eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","eventTime":"2018-01-25T22:12:19.4556811Z","metadataVersion":"1","dataVersion":"1"}]`
	egHeaders := map[string]string{"Aeg-Event-Type": "SubscriptionValidation"}

	const text, js = "text/plain; charset=utf-8", "application/json"
	tests := []struct {
		name       string
		event      []byte
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"zoom endpoint.url_validation", handshakeEvent(t, "zoom", zoomBody, nil, true), 200, js, zoomWant},
		{"zoom unsigned", handshakeEvent(t, "zoom", zoomBody, nil, false), 401, js, ""},
		{"twitch webhook_callback_verification", handshakeEvent(t, "twitch", twitchBody, twitchHeaders, true), 200, text, "pogchamp-kappa-360noscope-vohiyo"},
		{"twitch unsigned", handshakeEvent(t, "twitch", twitchBody, twitchHeaders, false), 401, js, ""},
		{"graph validationToken (REST API)", graphEventV1(t, graphToken), 200, text, graphToken},
		{"graph validationToken (HTTP API)", graphEventV2(t, graphToken), 200, text, graphToken},
		{"eventgrid SubscriptionValidationEvent", handshakeEvent(t, "eventgrid", egBody, egHeaders, true), 200, js, `{"validationResponse":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}`},
		{"eventgrid without its token", handshakeEvent(t, "eventgrid", egBody, egHeaders, false), 401, js, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Reset()
			out, err := s.Invoke(t.Context(), localrun.Webhook, tt.event)
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			var a struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Body       string            `json:"body"`
			}
			if err := json.Unmarshal(out, &a); err != nil {
				t.Fatalf("answer %s: %v", out, err)
			}
			if a.StatusCode != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", a.StatusCode, a.Body, tt.wantStatus)
			}
			if got := a.Headers["Content-Type"]; got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if tt.wantBody != "" && a.Body != tt.wantBody {
				t.Errorf("body %q, want %q", a.Body, tt.wantBody)
			}
			if n := s.TalkJS.Counts().Requests; n != 0 {
				t.Errorf("a handshake made %d TalkJS requests", n)
			}
		})
	}
}

// handshakeEvent is a REST API (v1) event for POST /webhooks/<route> with
// body and extra headers, signed with the route's handshakeSecrets entry
// under its verify block when sign is set.
func handshakeEvent(t *testing.T, route, body string, extra map[string]string, sign bool) []byte {
	t.Helper()
	routes, err := mapping.Parse([]byte(handshakeRoutes), "handshake.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vc, ok := routes.VerifyConfig(route)
	if !ok {
		t.Fatalf("no route %q", route)
	}
	h := http.Header{}
	if sign {
		if h, err = verify.Sign(vc, []byte(handshakeSecrets[route]), "", time.Now(), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	h.Set("Content-Type", "application/json")
	for k, v := range extra {
		h.Set(k, v)
	}
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/webhooks/" + route, Resource: "/webhooks/{route}",
		PathParameters: map[string]string{"route": route},
		Headers:        map[string]string{}, MultiValueHeaders: map[string][]string{},
		Body: body,
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

// graphEventV1 is Graph's validation request through a REST API: API
// Gateway hands the query parameters over decoded.
func graphEventV1(t *testing.T, token string) []byte {
	t.Helper()
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/webhooks/graph", Resource: "/webhooks/{route}",
		PathParameters:                  map[string]string{"route": "graph"},
		QueryStringParameters:           map[string]string{"validationToken": token},
		MultiValueQueryStringParameters: map[string][]string{"validationToken": {token}},
		Headers:                         map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		MultiValueHeaders:               map[string][]string{"Content-Type": {"text/plain; charset=utf-8"}},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// graphEventV2 is the same request through an HTTP API: the raw query
// string is as Graph sent it, URL-encoded.
func graphEventV2(t *testing.T, token string) []byte {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /webhooks/{route}", RawPath: "/webhooks/graph",
		RawQueryString:        "validationToken=" + url.QueryEscape(token),
		QueryStringParameters: map[string]string{"validationToken": token},
		PathParameters:        map[string]string{"route": "graph"},
		Headers:               map[string]string{"content-type": "text/plain; charset=utf-8"},
	}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.HTTP.Path = "/webhooks/graph"
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

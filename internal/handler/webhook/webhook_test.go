package webhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

const (
	appID        = "tWebhookTest"
	key          = "sk_test_webhook_0123456789"
	githubSecret = "test-github-secret"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fixture reads a payload kept in the repository's testdata.
func fixture(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "..", "..", "testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newServer(t *testing.T) (*webhook.Server, *talkjstest.Emulator, *httptest.Server) {
	t.Helper()
	srv, emu := talkjstest.NewServer(appID, key)
	t.Cleanup(srv.Close)
	c, err := talkjs.NewClient(appID, talkjs.StaticKey(key), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	secrets := func(_ context.Context, name string) (string, error) {
		if name == "github" {
			return githubSecret, nil
		}
		return "", fmt.Errorf("%w: no secret %q", mapping.ErrSecretUnavailable, name)
	}
	s := &webhook.Server{Routes: routes, TalkJS: c, Secrets: secrets, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return s, emu, srv
}

// onlySecret is a secret lookup that knows one webhook secret.
func onlySecret(name, value string) mapping.SecretLookup {
	return func(_ context.Context, n string) (string, error) {
		if n == name {
			return value, nil
		}
		return "", fmt.Errorf("%w: no secret %q", mapping.ErrSecretUnavailable, n)
	}
}

func githubHeaders(t *testing.T, event, delivery string, body []byte) http.Header {
	t.Helper()
	h, err := verify.Sign(verify.Config{Preset: verify.PresetGitHub}, []byte(githubSecret), delivery, now, body)
	if err != nil {
		t.Fatal(err)
	}
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", delivery)
	h.Set("Content-Type", "application/json")
	return h
}

func TestServeStatuses(t *testing.T) {
	issue := fixture(t, "github", "issues", "opened.payload.json")
	ping := fixture(t, "github", "ping", "payload.json")
	tests := []struct {
		name   string
		route  string
		header func() http.Header
		body   []byte
		fault  *talkjstest.Fault
		want   int
	}{
		{"signed issue is sent", "github", func() http.Header { return githubHeaders(t, "issues", "d-1", issue) }, issue, nil, 200},
		{"bad signature", "github", func() http.Header {
			h := githubHeaders(t, "issues", "d-1", issue)
			h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
			return h
		}, issue, nil, 401},
		{"missing signature", "github", func() http.Header {
			h := githubHeaders(t, "issues", "d-1", issue)
			h.Del("X-Hub-Signature-256")
			return h
		}, issue, nil, 401},
		{"signature over another body", "github", func() http.Header { return githubHeaders(t, "issues", "d-1", ping) }, issue, nil, 401},
		{"unknown route", "nope", func() http.Header { return githubHeaders(t, "issues", "d-1", issue) }, issue, nil, 404},
		{"event the route does not handle", "github", func() http.Header { return githubHeaders(t, "watch", "d-2", ping) }, ping, nil, 202},
		{"not JSON", "github", func() http.Header { return githubHeaders(t, "issues", "d-3", []byte("{nope")) }, []byte("{nope"), nil, 400},
		{"body over the limit", "github", func() http.Header { return http.Header{} }, bytes.Repeat([]byte("a"), webhook.DefaultMaxBody+1), nil, 413},
		{"TalkJS 5xx", "github", func() http.Header { return githubHeaders(t, "issues", "d-4", issue) }, issue, &talkjstest.Fault{Status: 500}, 502},
		{"TalkJS 429", "github", func() http.Header { return githubHeaders(t, "issues", "d-5", issue) }, issue, &talkjstest.Fault{Status: 429}, 503},
		{"TalkJS unreachable", "github", func() http.Header { return githubHeaders(t, "issues", "d-6", issue) }, issue, &talkjstest.Fault{Drop: true}, 503},
		{"TalkJS refuses (4xx)", "github", func() http.Header { return githubHeaders(t, "issues", "d-7", issue) }, issue, &talkjstest.Fault{Status: 400}, 422},
		{"secret missing for route", "stripe", func() http.Header { return http.Header{"Stripe-Signature": {"t=1,v1=00"}} }, []byte(`{}`), nil, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, emu, _ := newServer(t)
			if tt.fault != nil {
				emu.AddFault(*tt.fault)
			}
			resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: tt.route, Headers: tt.header(), Body: tt.body})
			if resp.Status != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.Status, tt.want, resp.Body)
			}
			if !json.Valid(resp.Body) {
				t.Errorf("answer is not JSON: %s", resp.Body)
			}
			stored := emu.Counts().MessagesStored
			if (tt.want == 200) != (stored > 0) {
				t.Errorf("status %d but %d messages stored", tt.want, stored)
			}
			if tt.want == 401 && bytes.Contains(resp.Body, []byte("sha256")) {
				t.Errorf("401 answer tells how verification failed: %s", resp.Body)
			}
		})
	}
}

func TestSameDeliveryTwiceSendsOnce(t *testing.T) {
	s, emu, _ := newServer(t)
	issue := fixture(t, "github", "issues", "opened.payload.json")
	var ids []string
	for range 2 {
		resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "github", Headers: githubHeaders(t, "issues", "same-delivery", issue), Body: issue})
		if resp.Status != 200 {
			t.Fatalf("status %d: %s", resp.Status, resp.Body)
		}
		var out struct {
			Sent []struct{ MessageIDs []string }
		}
		if err := json.Unmarshal(resp.Body, &out); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprint(out.Sent))
	}
	if emu.Counts().MessagesStored != 1 || ids[0] != ids[1] {
		t.Errorf("stored %d messages, answers %v: a redelivered webhook must show up once, with the same id", emu.Counts().MessagesStored, ids)
	}
}

// TestEventShapes runs the same signed webhook through each front door's
// event shape, starting from AWS's own sample events.
func TestEventShapes(t *testing.T) {
	issue := fixture(t, "github", "issues", "opened.payload.json")
	shapes := []struct {
		name    string
		fixture []string
		build   func(sample []byte, h http.Header, body []byte, b64 bool) []byte
	}{
		{"REST API v1", []string{"aws-events", "aws-lambda-go", "apigw-request.json"}, func(sample []byte, h http.Header, body []byte, b64 bool) []byte {
			var ev events.APIGatewayProxyRequest
			must(t, json.Unmarshal(sample, &ev))
			ev.HTTPMethod, ev.Path, ev.Resource = "POST", "/webhooks/github", "/webhooks/{route}"
			ev.PathParameters = map[string]string{"route": "github"}
			ev.Headers, ev.MultiValueHeaders = map[string]string{}, map[string][]string{}
			for k := range h {
				ev.Headers[k] = h.Get(k)
				ev.MultiValueHeaders[k] = h.Values(k)
			}
			ev.Body, ev.IsBase64Encoded = encode(body, b64), b64
			return mustJSON(t, ev)
		}},
		{"HTTP API v2", []string{"aws-events", "aws-lambda-go", "apigw-v2-request-no-authorizer.json"}, func(sample []byte, h http.Header, body []byte, b64 bool) []byte {
			var ev events.APIGatewayV2HTTPRequest
			must(t, json.Unmarshal(sample, &ev))
			ev.RawPath, ev.RouteKey = "/webhooks/github", "POST /webhooks/{route}"
			ev.RequestContext.HTTP.Method = "POST"
			ev.PathParameters = map[string]string{"route": "github"}
			ev.Headers = map[string]string{}
			for k := range h {
				ev.Headers[strings.ToLower(k)] = h.Get(k)
			}
			ev.Body, ev.IsBase64Encoded = encode(body, b64), b64
			return mustJSON(t, ev)
		}},
		{"function URL", []string{"aws-events", "aws-lambda-go", "lambda-urls-request.json"}, func(sample []byte, h http.Header, body []byte, b64 bool) []byte {
			var ev events.LambdaFunctionURLRequest
			must(t, json.Unmarshal(sample, &ev))
			ev.RawPath = "/webhooks/github"
			ev.RequestContext.HTTP.Method = "POST"
			ev.Headers = map[string]string{}
			for k := range h {
				ev.Headers[strings.ToLower(k)] = h.Get(k)
			}
			ev.Body, ev.IsBase64Encoded = encode(body, b64), b64
			return mustJSON(t, ev)
		}},
	}
	for _, shape := range shapes {
		for _, b64 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s base64=%v", shape.name, b64), func(t *testing.T) {
				s, emu, _ := newServer(t)
				sample := fixture(t, shape.fixture...)
				ev := shape.build(sample, githubHeaders(t, "issues", "d-"+shape.name, issue), issue, b64)
				out, err := s.Handle(t.Context(), ev)
				if err != nil {
					t.Fatal(err)
				}
				var resp struct {
					StatusCode int    `json:"statusCode"`
					Body       string `json:"body"`
				}
				must(t, json.Unmarshal(out, &resp))
				if resp.StatusCode != 200 || emu.Counts().MessagesStored != 1 {
					t.Fatalf("status %d (%s), %d stored", resp.StatusCode, resp.Body, emu.Counts().MessagesStored)
				}
			})
		}
	}
	t.Run("invalid base64", func(t *testing.T) {
		s, _, _ := newServer(t)
		ev := []byte(`{"version":"2.0","rawPath":"/webhooks/github","requestContext":{"http":{"method":"POST"}},"body":"!!!","isBase64Encoded":true}`)
		out, err := s.Handle(t.Context(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(out, []byte(`"statusCode":400`)) {
			t.Errorf("answer %s, want 400", out)
		}
	})
	t.Run("not an HTTP event", func(t *testing.T) {
		s, _, _ := newServer(t)
		if _, err := s.Handle(t.Context(), []byte(`{"Records":[]}`)); err == nil {
			t.Error("an SQS event was taken for a webhook")
		}
	})
}

func TestServeHTTP(t *testing.T) {
	s, emu, _ := newServer(t)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	issue := fixture(t, "github", "issues", "opened.payload.json")
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/webhooks/github", bytes.NewReader(issue))
	req.Header = githubHeaders(t, "issues", "d-http", issue)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || emu.Counts().MessagesStored != 1 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d (%s)", resp.StatusCode, b)
	}
}

func encode(b []byte, b64 bool) string {
	if b64 {
		return base64.StdEncoding.EncodeToString(b)
	}
	return string(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

// TestRefusedSendDoesNotStopTheOthers: when TalkJS refuses one of a route's
// sends for good, the others (other conversations) still go out, and the
// 422 answer says which were sent.
func TestRefusedSendDoesNotStopTheOthers(t *testing.T) {
	s, emu, _ := newServer(t)
	routes, err := mapping.Parse([]byte(`
routes:
  two:
    verify: none
    actions: &two
      - conversation: {id: refused, participants: [alice]}
        message: {type: UserMessage, sender: ghost, text: 'from a user TalkJS does not know'}
      - conversation: {id: fine, participants: [alice]}
        message: {text: '{{ .payload.text }}'}
  stripe-like:
    verify: stripe
    actions: *two
  unused:
    verify: none
    actions:
      - conversation: {id: refused, participants: [alice]}
        message: {type: UserMessage, sender: ghost, text: 'from a user TalkJS does not know'}
      - conversation: {id: fine, participants: [alice]}
        message: {text: '{{ .payload.text }}'}
`), "two.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.Routes = routes
	resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "two", Headers: http.Header{}, Body: []byte(`{"text":"hello"}`)})
	if resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d (%s), want 422", resp.Status, resp.Body)
	}
	var out struct {
		Sent     []struct{ ConversationID string }
		Rejected []struct{ ConversationID, Reason string }
	}
	must(t, json.Unmarshal(resp.Body, &out))
	if len(out.Sent) != 1 || out.Sent[0].ConversationID != "fine" || len(out.Rejected) != 1 || out.Rejected[0].ConversationID != "refused" {
		t.Errorf("answer %s: want fine sent and refused rejected", resp.Body)
	}
	if n := len(emu.Messages("fine")); n != 1 {
		t.Errorf("fine holds %d messages, want 1", n)
	}

	// Stripe disables endpoints that keep failing: the same refusal is 200
	// there, with the rejected send still listed.
	s.Secrets = func(context.Context, string) (string, error) { return "whsec_refusal_test", nil }
	body := []byte(`{"text":"again"}`)
	h, err := verify.Sign(verify.Config{Preset: verify.PresetStripe}, []byte("whsec_refusal_test"), "", now, body)
	must(t, err)
	resp = s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "stripe-like", Headers: h, Body: body})
	must(t, json.Unmarshal(resp.Body, &out))
	if resp.Status != http.StatusOK || len(out.Rejected) != 1 {
		t.Errorf("stripe-like refusal answered %d %s, want 200 listing the rejected send", resp.Status, resp.Body)
	}
}

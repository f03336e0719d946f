package webhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// The bad-input suite has its own app, key and secrets so it does not lean on
// the names of the other test files of this package.
const (
	badAppID = "tBadInput"
	badKey   = "sk_test_badinput_0123456789"
)

var (
	badNow     = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	badSecrets = map[string]string{
		"github":       "bad-github-secret",
		"stripe":       "whsec_bad_stripe_secret",
		"generic":      "whsec_" + base64.StdEncoding.EncodeToString([]byte("bad-generic-secret-32-bytes-long!")),
		"alertmanager": "bad-alertmanager-token",
		"shopify":      "bad-shopify-secret",
	}
)

// badServer is a webhook.Server over the default routes and an emulator that
// must not see a single request.
func badServer(t *testing.T, tj dispatch.TalkJS, logger *slog.Logger) (*webhook.Server, *talkjstest.Emulator) {
	t.Helper()
	srv, emu := talkjstest.NewServer(badAppID, badKey)
	t.Cleanup(srv.Close)
	if tj == nil {
		c, err := talkjs.NewClient(badAppID, talkjs.StaticKey(badKey), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()),
			talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		tj = c
	}
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lookup := func(_ context.Context, name string) (string, error) {
		if v, ok := badSecrets[name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("%w: no secret %q", mapping.ErrSecretUnavailable, name)
	}
	return &webhook.Server{Routes: routes, TalkJS: tj, Secrets: lookup, Logger: logger, Now: func() time.Time { return badNow }}, emu
}

// badReq is one inbound HTTP request before it is wrapped in a Lambda event.
type badReq struct {
	method string // "" is POST
	path   string
	header http.Header
	body   []byte
	// raw, when set, is the event's body field as is (with b64 as given).
	raw *string
	b64 bool
}

func badSigned(t *testing.T, preset, id string, at time.Time, body []byte) http.Header {
	t.Helper()
	c := verify.Config{Preset: preset}
	if preset == verify.PresetBearer {
		return http.Header{"Authorization": {"Bearer " + badSecrets["alertmanager"]}}
	}
	name := map[string]string{verify.PresetGitHub: "github", verify.PresetStripe: "stripe",
		verify.PresetStandardWebhooks: "generic", verify.PresetShopify: "shopify"}[preset]
	h, err := verify.Sign(c, []byte(badSecrets[name]), id, at, body)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func ghReq(t *testing.T, event string, body []byte) badReq {
	t.Helper()
	h := badSigned(t, verify.PresetGitHub, "", badNow, body)
	h.Set("Content-Type", "application/json")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", "bad-delivery-1")
	return badReq{path: "/webhooks/github", header: h, body: body}
}

func stripeReq(t *testing.T, at time.Time, body []byte) badReq {
	t.Helper()
	h := badSigned(t, verify.PresetStripe, "", at, body)
	h.Set("Content-Type", "application/json; charset=utf-8")
	return badReq{path: "/webhooks/stripe", header: h, body: body}
}

func stdReq(t *testing.T, at time.Time, body []byte) badReq {
	t.Helper()
	h := badSigned(t, verify.PresetStandardWebhooks, "msg_bad_1", at, body)
	h.Set("Content-Type", "application/json")
	return badReq{path: "/webhooks/generic", header: h, body: body}
}

// with returns a copy of r changed by fn.
func (r badReq) with(fn func(*badReq)) badReq {
	r.header = r.header.Clone()
	if r.header == nil {
		r.header = http.Header{}
	}
	fn(&r)
	return r
}

func (r badReq) eventBody() (string, bool) {
	if r.raw != nil {
		return *r.raw, r.b64
	}
	if r.b64 {
		return base64.StdEncoding.EncodeToString(r.body), true
	}
	return string(r.body), false
}

func (r badReq) verb() string {
	if r.method == "" {
		return http.MethodPost
	}
	return r.method
}

// pathRoute is what API Gateway puts in pathParameters for a resource
// /webhooks/{route}; "" when the path does not match it.
func pathRoute(path string) string {
	rest, ok := strings.CutPrefix(path, "/webhooks/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return ""
	}
	return rest
}

// The three front doors.
var badShapes = []struct {
	name  string
	event func(t *testing.T, r badReq) []byte
}{
	{"v1", func(t *testing.T, r badReq) []byte {
		body, b64 := r.eventBody()
		ev := events.APIGatewayProxyRequest{
			Resource: "/webhooks/{route}", Path: r.path, HTTPMethod: r.verb(),
			Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
			Body: body, IsBase64Encoded: b64,
			RequestContext: events.APIGatewayProxyRequestContext{RequestID: "bad-req-v1", Stage: "prod"},
		}
		if route := pathRoute(r.path); route != "" {
			ev.PathParameters = map[string]string{"route": route}
		}
		for k, vs := range r.header {
			// REST APIs put the last value in headers and all of them in
			// multiValueHeaders.
			ev.Headers[k] = vs[len(vs)-1]
			ev.MultiValueHeaders[k] = vs
		}
		return badJSON(t, ev)
	}},
	{"v2", func(t *testing.T, r badReq) []byte {
		body, b64 := r.eventBody()
		ev := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "POST /webhooks/{route}", RawPath: r.path,
			Headers: map[string]string{}, Body: body, IsBase64Encoded: b64,
		}
		ev.RequestContext.HTTP.Method = r.verb()
		ev.RequestContext.RequestID = "bad-req-v2"
		if route := pathRoute(r.path); route != "" {
			ev.PathParameters = map[string]string{"route": route}
		}
		for k, vs := range r.header {
			// HTTP APIs lower-case names and comma-join repeated headers.
			ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		return badJSON(t, ev)
	}},
	{"url", func(t *testing.T, r badReq) []byte {
		body, b64 := r.eventBody()
		ev := events.LambdaFunctionURLRequest{Version: "2.0", RawPath: r.path, Headers: map[string]string{}, Body: body, IsBase64Encoded: b64}
		ev.RequestContext.HTTP.Method = r.verb()
		ev.RequestContext.RequestID = "bad-req-url"
		for k, vs := range r.header {
			ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		return badJSON(t, ev)
	}},
}

func badJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// badAnswer is the status and body of a Lambda proxy response, v1 or v2.
type badAnswer struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func badHandle(t *testing.T, s *webhook.Server, ctx context.Context, event []byte) badAnswer {
	t.Helper()
	out, err := s.Handle(ctx, event)
	if err != nil {
		t.Fatalf("Handle returned an error instead of an answer: %v", err)
	}
	var a badAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("answer is not a proxy response: %v: %s", err, out)
	}
	return a
}

func badNest(depth int) []byte {
	return []byte(strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth))
}

// TestBadInput sends requests every sender could get wrong (or forge)
// through each Lambda front door and checks that each is refused with its
// status and a reason, and that TalkJS never hears of it.
func TestBadInput(t *testing.T) {
	issue := []byte(`{"action":"opened","issue":{"number":7,"title":"Broken","html_url":"https://github.com/o/r/issues/7"},` +
		`"repository":{"full_name":"o/r"},"sender":{"login":"octo"}}`)
	payment := func(amount string) []byte {
		return []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":` + amount + `,"currency":"usd","customer":"cus_1"}}}`)
	}
	other := []byte(`{"action":"opened","issue":{"number":8,"title":"Other"},"repository":{"full_name":"o/r"},"sender":{"login":"octo"}}`)
	stdBody := []byte(`{"type":"note","conversationId":"c-1","text":"hello"}`)
	big := bytes.Repeat([]byte("a"), webhook.DefaultMaxBody+1)
	badB64 := "eyJhY3Rpb24iOi!!!notbase64"
	old, ahead := badNow.Add(-6*time.Minute), badNow.Add(6*time.Minute)
	gh := ghReq(t, "issues", issue)
	set := func(k, v string) func(*badReq) { return func(r *badReq) { r.header.Set(k, v) } }
	del := func(k string) func(*badReq) { return func(r *badReq) { r.header.Del(k) } }

	tests := []struct {
		name   string
		req    badReq
		status int
		// reason must appear in the answer's reason (or error); for 401 the
		// answer must not say anything beyond "signature not verified".
		reason string
		shapes []string // nil: every front door
	}{
		// The body is not JSON for the route (400).
		{"not JSON", ghReq(t, "issues", []byte("this is not json")), 400, "not JSON", nil},
		{"truncated JSON", ghReq(t, "issues", []byte(`{"action":"opened","issue":`)), 400, "not JSON", nil},
		{"data after the JSON value", ghReq(t, "issues", append(append([]byte{}, issue...), " {}"...)), 400, "after the first value", nil},
		{"empty body", ghReq(t, "issues", nil), 400, "empty", nil},
		{"whitespace body", ghReq(t, "issues", []byte(" \r\n\t ")), 400, "empty", nil},
		{"JSON array for a route that needs a field", stripeReq(t, badNow, []byte(`[1,2,3]`)), 400, "field type is missing", nil},
		{"JSON null", stripeReq(t, badNow, []byte(`null`)), 400, "field type is missing", nil},
		{"event field is an object", stripeReq(t, badNow, []byte(`{"id":"evt_1","type":{"a":1}}`)), 400, "not a string", nil},
		{"form content type with a JSON body", gh.with(set("Content-Type", "application/x-www-form-urlencoded")), 400, "labeled form-encoded but holds JSON", nil},
		{"form payload not JSON", func() badReq {
			b := []byte("payload=not%20json")
			r := ghReq(t, "issues", b)
			r.header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(), 400, "not JSON", nil},
		{"form payload not UTF-8", func() badReq {
			b := []byte("payload=%7B%22a%22%3A%22%FF%22%7D")
			r := ghReq(t, "issues", b)
			r.header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(), 400, "UTF-8", nil},
		// Lambda's events carry a string body, so raw bytes that are not
		// UTF-8 only arrive base64-encoded.
		{"non-UTF-8 bytes", func() badReq {
			r := ghReq(t, "issues", []byte("{\"action\":\"opened\xff\xfe\"}"))
			r.b64 = true
			return r
		}(), 400, "UTF-8", nil},
		{"invalid base64 with isBase64Encoded", badReq{path: "/webhooks/github", header: gh.header, raw: &badB64, b64: true}, 400, "base64", nil},
		{"base64 flag on a plain JSON body", badReq{path: "/webhooks/github", header: gh.header, raw: badPtr(string(issue)), b64: true}, 400, "base64", nil},
		{"deeply nested JSON (100k levels)", ghReq(t, "issues", badNest(100_000)), 400, "not JSON", nil},
		{"nested JSON just past the decoder's limit", stripeReq(t, badNow, badNest(10_001)), 400, "not JSON", nil},
		{"huge number where a number is needed", stripeReq(t, badNow, payment("1e999999")), 400, "money", nil},
		{"huge exponent in the event field", stripeReq(t, badNow, []byte(`{"id":"evt_1","type":1e999999999999}`)), 202, "", nil},
		{"template field missing from the payload", ghReq(t, "issues", []byte(`{"action":"opened","repository":{"full_name":"o/r"},"sender":{"login":"octo"}}`)), 400, "issue", nil},
		{"conversation id field missing", ghReq(t, "issues", []byte(`{"action":"opened","issue":{"number":7,"title":"x","html_url":"u"},"sender":{"login":"octo"}}`)), 400, "conversation.id", nil},
		{"conversation id with a slash", stripeReq(t, badNow, []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":100,"currency":"usd","customer":"cus/../1"}}}`)), 400, "conversation.id", nil},
		{"conversation id too long", stripeReq(t, badNow, []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":100,"currency":"usd","customer":"`+strings.Repeat("c", 300)+`"}}}`)), 400, "at most 255", nil},
		{"event header missing", gh.with(del("X-GitHub-Event")), 400, "X-GitHub-Event", nil},

		// Too large (413), checked before anything else costs.
		{"1 MiB + 1 body", badReq{path: "/webhooks/github", header: gh.header, body: big}, 413, "limit", nil},
		{"1 MiB + 1 body, base64", badReq{path: "/webhooks/github", header: gh.header, body: big, b64: true}, 413, "limit", nil},
		{"1 MiB + 1 body, unknown route", badReq{path: "/webhooks/nope", body: big}, 413, "limit", nil},

		// Not verified (401): every failure looks the same from outside.
		{"signature missing", gh.with(del("X-Hub-Signature-256")), 401, "", nil},
		{"signature empty", gh.with(set("X-Hub-Signature-256", "")), 401, "", nil},
		{"signature not hex", gh.with(set("X-Hub-Signature-256", "sha256=zzzz")), 401, "", nil},
		{"signature truncated", gh.with(set("X-Hub-Signature-256", gh.header.Get("X-Hub-Signature-256")[:40])), 401, "", nil},
		{"signature with the wrong algorithm prefix", gh.with(set("X-Hub-Signature-256", "sha1="+strings.TrimPrefix(gh.header.Get("X-Hub-Signature-256"), "sha256="))), 401, "", nil},
		{"signature with another secret", gh.with(func(r *badReq) {
			h, _ := verify.Sign(verify.Config{Preset: verify.PresetGitHub}, []byte("not-the-secret"), "", badNow, issue)
			r.header.Set("X-Hub-Signature-256", h.Get("X-Hub-Signature-256"))
		}), 401, "", nil},
		{"signature over a different body", gh.with(func(r *badReq) { r.body = other }), 401, "", nil},
		{"signature header duplicated, forged one first", gh.with(func(r *badReq) {
			r.header["X-Hub-Signature-256"] = []string{"sha256=" + strings.Repeat("0", 64), gh.header.Get("X-Hub-Signature-256")}
		}), 401, "", nil},
		{"signature header duplicated, both forged", gh.with(func(r *badReq) {
			r.header["X-Hub-Signature-256"] = []string{"sha256=" + strings.Repeat("1", 64), "sha256=" + strings.Repeat("2", 64)}
		}), 401, "", nil},
		{"unsigned and not JSON", badReq{path: "/webhooks/github", header: http.Header{"X-Github-Event": {"issues"}}, body: []byte("{")}, 401, "", nil},
		{"stripe header missing", stripeReq(t, badNow, payment("100")).with(del("Stripe-Signature")), 401, "", nil},
		{"stripe timestamp too old", stripeReq(t, old, payment("100")), 401, "", nil},
		{"stripe timestamp too far ahead", stripeReq(t, ahead, payment("100")), 401, "", nil},
		{"stripe timestamp edited after signing", func() badReq {
			r := stripeReq(t, old, payment("100"))
			sig := r.header.Get("Stripe-Signature")
			r.header.Set("Stripe-Signature", strings.Replace(sig, "t="+strconv.FormatInt(old.Unix(), 10), "t="+strconv.FormatInt(badNow.Unix(), 10), 1))
			return r
		}(), 401, "", nil},
		{"stripe without t", stripeReq(t, badNow, payment("100")).with(func(r *badReq) {
			_, v1, _ := strings.Cut(r.header.Get("Stripe-Signature"), ",")
			r.header.Set("Stripe-Signature", v1)
		}), 401, "", nil},
		{"stripe t not a number", stripeReq(t, badNow, payment("100")).with(set("Stripe-Signature", "t=soon,v1="+strings.Repeat("a", 64))), 401, "", nil},
		{"stripe garbled header", stripeReq(t, badNow, payment("100")).with(set("Stripe-Signature", "garbage")), 401, "", nil},
		{"stripe signature over a different body", stripeReq(t, badNow, payment("100")).with(func(r *badReq) { r.body = payment("100000") }), 401, "", nil},
		{"standard-webhooks timestamp too old", stdReq(t, old, stdBody), 401, "", nil},
		{"standard-webhooks timestamp too far ahead", stdReq(t, ahead, stdBody), 401, "", nil},
		{"standard-webhooks id missing", stdReq(t, badNow, stdBody).with(del("Webhook-Id")), 401, "", nil},
		{"standard-webhooks id swapped", stdReq(t, badNow, stdBody).with(set("Webhook-Id", "msg_other")), 401, "", nil},
		{"standard-webhooks only an unknown version", stdReq(t, badNow, stdBody).with(func(r *badReq) {
			r.header.Set("Webhook-Signature", strings.Replace(r.header.Get("Webhook-Signature"), "v1,", "v1a,", 1))
		}), 401, "", nil},
		{"bearer token wrong", badReq{path: "/webhooks/alertmanager", header: http.Header{"Authorization": {"Bearer not-the-token"}}, body: []byte(`{"status":"firing","receiver":"r","alerts":[]}`)}, 401, "", nil},
		{"bearer token sent as basic", badReq{path: "/webhooks/alertmanager", header: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("x:"+badSecrets["alertmanager"]))}}, body: []byte(`{"status":"firing","receiver":"r","alerts":[]}`)}, 401, "", nil},
		{"shopify signature garbled", badReq{path: "/webhooks/shopify", header: http.Header{"X-Shopify-Hmac-Sha256": {"%%%"}, "X-Shopify-Topic": {"orders/create"}}, body: []byte(`{}`)}, 401, "", nil},

		// No such route (404).
		{"unknown route", ghReq(t, "issues", issue).with(func(r *badReq) { r.path = "/webhooks/nope" }), 404, "nope", nil},
		{"route name with odd characters", ghReq(t, "issues", issue).with(func(r *badReq) { r.path = "/webhooks/git hub%00" }), 404, "", nil},
		{"path outside /webhooks", ghReq(t, "issues", issue).with(func(r *badReq) { r.path = "/hooks/github" }), 404, "/webhooks/", nil},
		{"path below a route", ghReq(t, "issues", issue).with(func(r *badReq) { r.path = "/webhooks/github/extra" }), 404, "/webhooks/", nil},

		// Wrong method (405).
		{"GET", gh.with(func(r *badReq) { r.method = http.MethodGet }), 405, "POST", nil},
		{"PUT", gh.with(func(r *badReq) { r.method = http.MethodPut }), 405, "POST", nil},
		{"DELETE on an unknown route", badReq{method: http.MethodDelete, path: "/webhooks/nope"}, 405, "POST", nil},

		// Not a 4xx: a verified event the route has no action for is
		// accepted (202) so the sender does not retry it, and nothing is sent.
		{"unsupported event (202, not a refusal)", ghReq(t, "star", []byte(`{"action":"created","repository":{"full_name":"o/r"}}`)), 202, "star", nil},
	}
	if len(tests) < 40 {
		t.Fatalf("the table has %d cases, want at least 40", len(tests))
	}

	var unverified []string // every 401 body, which must all be the same
	for _, tt := range tests {
		for _, shape := range badShapes {
			if tt.shapes != nil && !badContains(tt.shapes, shape.name) {
				continue
			}
			t.Run(tt.name+"/"+shape.name, func(t *testing.T) {
				s, emu := badServer(t, nil, nil)
				a := badHandle(t, s, t.Context(), shape.event(t, tt.req))
				if a.StatusCode != tt.status {
					t.Fatalf("status %d, want %d; body %s", a.StatusCode, tt.status, a.Body)
				}
				if n := emu.Counts().Requests; n != 0 {
					t.Errorf("TalkJS got %d requests for a refused webhook", n)
				}
				var body struct {
					Error  string `json:"error"`
					Reason string `json:"reason"`
				}
				if err := json.Unmarshal([]byte(a.Body), &body); err != nil {
					t.Fatalf("answer body is not JSON: %v: %q", err, a.Body)
				}
				if ct := a.Headers["Content-Type"]; ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
				if tt.status == 202 {
					if !strings.Contains(a.Body, tt.reason) {
						t.Errorf("202 answer %s does not say why (%q)", a.Body, tt.reason)
					}
					return
				}
				if body.Error == "" {
					t.Errorf("answer %s has no error field", a.Body)
				}
				if tt.status == 401 {
					unverified = append(unverified, a.Body)
					if body.Reason != "" {
						t.Errorf("401 answer gives a reason (%q): it must not say which check failed", body.Reason)
					}
					for _, word := range []string{"missing", "malformed", "mismatch", "timestamp", "old", "future", "secret", "sha", "hmac", "v1", "header", "token"} {
						if strings.Contains(strings.ToLower(a.Body), word) {
							t.Errorf("401 answer %s mentions %q", a.Body, word)
						}
					}
					return
				}
				if !strings.Contains(body.Reason+" "+body.Error, tt.reason) {
					t.Errorf("answer %s: want a reason mentioning %q", a.Body, tt.reason)
				}
			})
		}
	}
	for _, b := range unverified {
		if b != unverified[0] {
			t.Errorf("401 answers differ (%s vs %s): the difference tells an attacker which check failed", unverified[0], b)
			break
		}
	}
}

func badContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func badPtr(s string) *string { return &s }

// TestContentTypeIsNotChecked pins the documented behaviour: the body is
// parsed as JSON whatever the Content-Type says, except the form encoding
// GitHub can be configured to use (covered by TestBadInput). A badSigned JSON
// body labelled text/plain is delivered, not refused.
func TestContentTypeIsNotChecked(t *testing.T) {
	body := []byte(`{"action":"opened","issue":{"number":7,"title":"Broken","html_url":"https://github.com/o/r/issues/7"},"repository":{"full_name":"o/r"},"sender":{"login":"octo"}}`)
	for _, ct := range []string{"text/plain", "", "application/octet-stream", "application/json; charset=latin1"} {
		t.Run(ct, func(t *testing.T) {
			s, emu := badServer(t, nil, nil)
			r := ghReq(t, "issues", body)
			r.header.Set("Content-Type", ct)
			a := badHandle(t, s, t.Context(), badShapes[1].event(t, r))
			if a.StatusCode != 200 || emu.Counts().MessagesStored != 1 {
				t.Errorf("status %d, %d stored; want 200 and 1: %s", a.StatusCode, emu.Counts().MessagesStored, a.Body)
			}
		})
	}
}

// TestHugeAmountIsNotSentWrong: a Stripe amount beyond int64 must be refused
// rather than sent as a wrapped-around number.
func TestHugeAmountIsNotSentWrong(t *testing.T) {
	s, emu := badServer(t, nil, nil)
	body := []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":99999999999999999999999,"currency":"usd","customer":"cus_1"}}}`)
	a := badHandle(t, s, t.Context(), badShapes[0].event(t, stripeReq(t, badNow, body)))
	if a.StatusCode == 200 {
		msgs := emu.Messages("stripe-cus_1")
		text := ""
		if len(msgs) > 0 {
			text = msgs[0].Text
		}
		if !strings.Contains(text, "999999999999999999999") {
			t.Errorf("money printed an amount beyond int64 as %q instead of refusing it (400)", text)
		}
		return
	}
	if a.StatusCode != 400 {
		t.Errorf("status %d, want 400: %s", a.StatusCode, a.Body)
	}
}

// TestUnknownEvents: an invocation that is not an HTTP event at all is a
// function error (ErrUnknownEvent), not an answer.
func TestUnknownEvents(t *testing.T) {
	s, emu := badServer(t, nil, nil)
	for name, ev := range map[string]string{
		"not JSON":     `{`,
		"empty object": `{}`,
		"SQS event":    `{"Records":[{"messageId":"m","body":"{}"}]}`,
		"array":        `[1]`,
		"null":         `null`,
		"wrong types":  `{"version":2,"rawPath":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			out, err := s.Handle(t.Context(), json.RawMessage(ev))
			if err == nil {
				// null decodes into an empty probe: still not an HTTP event.
				t.Fatalf("answer %s, want ErrUnknownEvent", out)
			}
			if !strings.Contains(err.Error(), webhook.ErrUnknownEvent.Error()) {
				t.Errorf("error %v does not wrap ErrUnknownEvent", err)
			}
		})
	}
	if n := emu.Counts().Requests; n != 0 {
		t.Errorf("TalkJS got %d requests", n)
	}
}

// badPanicky is a TalkJS client that panics in the call named by where and
// otherwise passes through to the real client.
type badPanicky struct {
	dispatch.TalkJS
	where string
	calls atomic.Int32
}

func (p *badPanicky) UpsertUser(ctx context.Context, id string, u talkjs.UserUpdate) error {
	p.calls.Add(1)
	if p.where == "user" {
		panic("test panic in UpsertUser")
	}
	return p.TalkJS.UpsertUser(ctx, id, u)
}

func (p *badPanicky) UpsertConversation(ctx context.Context, id string, u talkjs.ConversationUpdate) error {
	p.calls.Add(1)
	if p.where == "conversation" {
		panic("test panic in UpsertConversation")
	}
	return p.TalkJS.UpsertConversation(ctx, id, u)
}

func (p *badPanicky) SendMessages(ctx context.Context, id string, msgs ...talkjs.NewMessage) ([]string, error) {
	p.calls.Add(1)
	if p.where == "send" {
		var m map[string]int
		m["nil map write"]++ // a runtime panic, not just panic(string)
	}
	return p.TalkJS.SendMessages(ctx, id, msgs...)
}

// TestPanicAnswers500 proves that a bug in delivery answers 500 (so the
// sender retries) and logs the Lambda request id with the stack.
func TestPanicAnswers500(t *testing.T) {
	body := []byte(`{"action":"opened","issue":{"number":7,"title":"Broken","html_url":"https://github.com/o/r/issues/7"},"repository":{"full_name":"o/r"},"sender":{"login":"octo"}}`)
	for _, where := range []string{"user", "conversation", "send"} {
		t.Run(where, func(t *testing.T) {
			var logs bytes.Buffer
			srv, emu := talkjstest.NewServer(badAppID, badKey)
			t.Cleanup(srv.Close)
			c, err := talkjs.NewClient(badAppID, talkjs.StaticKey(badKey), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()))
			if err != nil {
				t.Fatal(err)
			}
			p := &badPanicky{TalkJS: c, where: where}
			s, _ := badServer(t, p, logging.New(&logs, slog.LevelDebug))
			ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-panic-" + where})
			for _, shape := range badShapes {
				a := badHandle(t, s, ctx, shape.event(t, ghReq(t, "issues", body)))
				if a.StatusCode != 500 {
					t.Fatalf("%s: status %d, want 500: %s", shape.name, a.StatusCode, a.Body)
				}
				if a.Body != `{"error":"internal error"}` {
					t.Errorf("%s: 500 badAnswer %s tells more than that it failed", shape.name, a.Body)
				}
			}
			if p.calls.Load() == 0 {
				t.Fatal("the panicking client was never called")
			}
			if emu.Counts().MessagesStored != 0 && where != "send" {
				t.Errorf("a message was stored although delivery panicked before sending")
			}
			var found bool
			for line := range strings.Lines(logs.String()) {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line is not JSON: %q", line)
				}
				if strings.Contains(fmt.Sprint(rec["message"]), "panic") {
					found = true
					if rec["requestId"] != "req-panic-"+where || rec["level"] != "ERROR" || !strings.Contains(fmt.Sprint(rec["stack"]), "badPanicky") {
						t.Errorf("panic log line lacks the request id, the error level or the stack: requestId=%v level=%v", rec["requestId"], rec["level"])
					}
				}
			}
			if !found {
				t.Errorf("no log line about the panic among %d lines", strings.Count(logs.String(), "\n"))
			}
		})
	}
}

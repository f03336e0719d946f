package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// fuzzStatuses is the status table of DESIGN.md. 500 is not in it: the
// handler answers 500 only when it recovered from a panic, which is a bug
// the fuzzer must report.
var fuzzStatuses = map[int]bool{200: true, 202: true, 400: true, 401: true, 404: true, 405: true, 413: true, 422: true, 502: true, 503: true}

// fuzzOpenRoute is added to the default routes so that random bodies reach
// mapping without a signature the fuzzer cannot forge.
const fuzzOpenRoute = `
  open:
    verify: none
    event: {field: type}
    actions:
      - name: any
        conversation:
          id: '{{ get .payload "conversationId" | default "fuzz" }}'
          subject: '{{ get .payload "subject" }}'
        message:
          text: '{{ .payload.text }}'
`

// fuzzServer serves the default routes plus "open", with the demo secrets
// the sample events in events/ are signed with and the clock at their time.
func fuzzServer(tb testing.TB) (*webhook.Server, *talkjstest.Emulator) {
	tb.Helper()
	srv, emu := talkjstest.NewServer(badAppID, badKey)
	tb.Cleanup(srv.Close)
	c, err := talkjs.NewClient(badAppID, talkjs.StaticKey(badKey), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		tb.Fatal(err)
	}
	src := strings.Replace(string(mapping.DefaultRoutesFile()), "\nroutes:\n", "\nroutes:"+fuzzOpenRoute, 1)
	routes, err := mapping.Parse([]byte(src), "fuzz-routes.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	demo := map[string]string{"github": "demo-github-secret", "stripe": "whsec_demo_stripe", "alertmanager": "demo-alertmanager-token"}
	lookup := func(_ context.Context, name string) (string, error) {
		if v, ok := demo[name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("%w: no secret %q", mapping.ErrSecretUnavailable, name)
	}
	at := time.Unix(1795597200, 0)
	return &webhook.Server{Routes: routes, TalkJS: c, Secrets: lookup, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return at }}, emu
}

// FuzzWebhookEvent feeds raw Lambda event bytes to Server.Handle. It never
// panics, and it either answers a proxy response with a status of the table
// and a JSON body, or returns ErrUnknownEvent for what is no HTTP event.
// The seeds in testdata/fuzz/FuzzWebhookEvent are the sample events of
// events/ and AWS's own sample events; more are added here.
func FuzzWebhookEvent(f *testing.F) {
	f.Add([]byte(`{"version":"2.0","rawPath":"/webhooks/open","requestContext":{"http":{"method":"POST"}},"body":"{\"text\":\"hi\",\"type\":\"x\"}"}`))
	f.Add([]byte(`{"httpMethod":"POST","path":"/webhooks/open","body":"eyJ0ZXh0IjoiaGkifQ==","isBase64Encoded":true}`))
	f.Add([]byte(`{"httpMethod":"POST","path":"/webhooks/open","multiValueHeaders":{"Content-Type":["application/x-www-form-urlencoded"]},"body":"payload=%7B%22text%22%3A1%7D"}`))
	f.Add([]byte(`{"rawPath":"/webhooks/open","body":"{\"conversationId\":\"a/b\",\"text\":\"x\"}"}`))
	f.Add([]byte(`{}`))

	s, _ := fuzzServer(f)
	f.Fuzz(func(t *testing.T, event []byte) {
		out, err := s.Handle(t.Context(), event)
		if err != nil {
			if !errors.Is(err, webhook.ErrUnknownEvent) {
				t.Fatalf("error %v does not wrap ErrUnknownEvent", err)
			}
			return
		}
		var a struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatalf("answer is not a proxy response: %v", err)
		}
		if !fuzzStatuses[a.StatusCode] {
			t.Fatalf("status %d is not in the status table (500 means a recovered panic): %s", a.StatusCode, a.Body)
		}
		if !json.Valid([]byte(a.Body)) {
			t.Fatalf("status %d with a body that is not JSON: %q", a.StatusCode, a.Body)
		}
	})
}

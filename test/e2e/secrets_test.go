package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
)

// TestSecretFetchedOnce starts a stack of its own, so the local Secrets
// Manager's call count is this test's alone, and checks that each warm
// function fetches the secret once across several invocations (at its
// start, which the emulator makes on the first invocation, as the app id is
// only in the secret), that every AWS call is signed, and that no secret
// shows in what the functions print.
func TestSecretFetchedOnce(t *testing.T) {
	s, err := localrun.Start(t.Context(), localrun.Options{
		BuildDir:  buildDir,
		Prebuilt:  true,
		Functions: []string{localrun.Webhook, localrun.Queue},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, f := range []string{
		"webhook-github-issue-rest.json", "webhook-stripe.json", "webhook-alertmanager.json",
		"webhook-bad-signature.json", "webhook-github-issue-rest.json",
	} {
		if _, err := s.Invoke(t.Context(), localrun.Webhook, loadEvent(t, f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if n := s.AWS.Calls(awstest.GetSecretValue); n != 1 {
		t.Errorf("webhook: %d secret fetches over 5 invocations, want 1", n)
	}
	bad := sqsEvent(t, record{id: "bad-1", body: "{}"})
	for _, ev := range [][]byte{loadEvent(t, "queue-commands.json"), bad, loadEvent(t, "queue-route-mapped.json")} {
		if _, err := s.Invoke(t.Context(), localrun.Queue, ev); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.AWS.Calls(awstest.GetSecretValue); n != 2 {
		t.Errorf("webhook and queue: %d secret fetches, want one per function (2)", n)
	}
	if n := s.AWS.Calls(awstest.SendMessage); n != 1 {
		t.Errorf("%d SendMessage calls, want 1 (the invalid record)", n)
	}
	if u := s.AWS.Unsigned(); len(u) != 0 {
		t.Errorf("unsigned AWS requests: %q", u)
	}

	secrets := []string{democreds.SecretKey}
	for _, v := range democreds.WebhookSecrets() {
		secrets = append(secrets, v)
	}
	for _, fn := range []string{localrun.Webhook, localrun.Queue} {
		logs := s.Logs(fn)
		for _, secret := range secrets {
			if strings.Contains(logs, secret) {
				t.Errorf("%s printed a secret (%.6s...)", fn, secret)
			}
		}
	}
}

// TestOneEmptyWebhookSecret is issue 14.5 through the real bootstraps: an
// empty webhookSecrets entry (here shopify's) made the whole secret invalid,
// so every webhook answered 503, queue records went round to the DLQ and
// the schedule failed. Only the routes verifying with it may fail now.
func TestOneEmptyWebhookSecret(t *testing.T) {
	hooks := democreds.WebhookSecrets()
	hooks["shopify"] = ""
	s, err := localrun.Start(t.Context(), localrun.Options{BuildDir: buildDir, Prebuilt: true, WebhookSecrets: hooks})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	status := func(event []byte) int {
		t.Helper()
		out, err := s.Invoke(t.Context(), localrun.Webhook, event)
		if err != nil {
			t.Fatalf("webhook: %v", err)
		}
		var a webhookAnswer
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatal(err)
		}
		return a.StatusCode
	}
	if got := status(loadEvent(t, "webhook-github-issue-rest.json")); got != 200 {
		t.Errorf("github webhook: %d, want 200 (its secret is fine)", got)
	}
	shopifyBody := `{"id":1,"name":"#1","total_price":"1.00","currency":"USD"}`
	h, err := verify.Sign(verify.Config{Preset: verify.PresetShopify}, []byte("any-shopify-secret"), "", time.Now(), []byte(shopifyBody))
	if err != nil {
		t.Fatal(err)
	}
	h.Set("X-Shopify-Topic", "orders/create")
	if got := status(httpAPIEvent(t, "shopify", h, shopifyBody, nil)); got != 503 {
		t.Errorf("shopify webhook: %d, want 503 (its secret is empty)", got)
	}
	if logs := s.Logs(localrun.Webhook); !strings.Contains(logs, `webhookSecrets entry \"shopify\" is empty`) {
		t.Errorf("the webhook log does not say which secret is unusable:\n%s", tail(logs, 20))
	}
	out, err := s.Invoke(t.Context(), localrun.Queue, loadEvent(t, "queue-commands.json"))
	if err != nil || strings.Contains(string(out), "itemIdentifier") {
		t.Errorf("queue: %s, %v; want no failures", out, err)
	}
	if _, err := s.Invoke(t.Context(), localrun.Schedule, loadEvent(t, "schedule-inline.json")); err != nil {
		t.Errorf("schedule: %v", err)
	}
}

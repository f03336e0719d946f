package e2e

import (
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"

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

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs make demo's whole replay, so the README's first command
// stays true: every sample event behaves as events/README.md says.
func TestDemo(t *testing.T) {
	var out, errs bytes.Buffer
	noKeys := func(string) string { return "" }
	if code := run(t.Context(), []string{"-events", "../../events"}, noKeys, &out, &errs); code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	for _, want := range []string{
		"events behaved as events/README.md says.",
		"[github] *Issue #1 opened* by Codertocat",
		"retry [fault-1 fault-2]",
		"401 {\"error\":\"signature not verified\"}",
		"202 {\"queued\":[{\"conversationId\":\"github-codertocat-hello-world",
		"✓ accepted and queued, then delivered by the queue function",
		"✓ accepted while TalkJS was down, retried, delivered once TalkJS was back",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if strings.Contains(out.String()+errs.String(), "sk_test_demo") {
		t.Error("the transcript shows the TalkJS key")
	}
}

func TestInvokeNeedsAFunction(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(t.Context(), []string{"-event", "nothing.json"}, func(string) string { return "" }, &out, &errs); code != 2 {
		t.Errorf("exit %d, want 2 (usage)", code)
	}
	if !strings.Contains(errs.String(), "cannot tell which function") {
		t.Errorf("stderr %q does not say what is wrong", errs.String())
	}
}

// make invoke reports what the bridge did with a user's own event: a
// record rightly rejected is a successful run, not a failed expectation.
func TestInvokeReportsWithoutJudging(t *testing.T) {
	event := filepath.Join(t.TempDir(), "queue-custom.json")
	if err := os.WriteFile(event, []byte(`{"Records":[{"messageId":"custom-1","eventSource":"aws:sqs","body":"{}"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run(t.Context(), []string{"-event", event}, func(string) string { return "" }, &out, &errs); code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	for _, want := range []string{"0 to retry (batch item failures), 1 rejected", "Done: above is what the function answered"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "✗") || strings.Contains(out.String(), "expected") {
		t.Errorf("output judges the event against the demo's expectations:\n%s", out.String())
	}
}

// TestHeaderRole: the transcript names each sender's event header and
// hides every credential, including tokens sent as they are (GitLab).
func TestHeaderRole(t *testing.T) {
	tests := map[string]string{
		"X-GitHub-Event":               "event",
		"X-Event-Key":                  "event",
		"Circleci-Event-Type":          "event",
		"X-Shopify-Topic":              "event",
		"Sentry-Hook-Resource":         "event",
		"Authorization":                "credential",
		"X-Gitlab-Token":               "credential",
		"X-Shopify-Hmac-Sha256":        "credential",
		"Stripe-Signature":             "credential",
		"x-hub-signature-256":          "credential",
		"X-Grafana-Alerting-Signature": "credential",
		"Content-Type":                 "",
		"X-Gitlab-Event-UUID":          "",
	}
	for name, want := range tests {
		if got := headerRole(name); got != want {
			t.Errorf("headerRole(%q) = %q, want %q", name, got, want)
		}
	}
}

package setup

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestInvokeKeepsHeadroomAndFlushesMetrics(t *testing.T) {
	var out bytes.Buffer
	env := map[string]string{"TALKJS_APP_ID": "tTest", "TALKJS_SECRET_KEY": "sk_test_setup_0123456789", "TALKJS_API_URL": "http://127.0.0.1:1"}
	d, err := From(t.Context(), func(k string) string { return env[k] }, "queue", &out)
	if err != nil {
		t.Fatal(err)
	}
	var seen time.Time
	h := Invoke(d, func(ctx context.Context, _ json.RawMessage) (string, error) {
		seen, _ = ctx.Deadline()
		return "ok", nil
	})
	// Headroom, but never more than a quarter of the time left.
	for _, tc := range []struct{ left, want time.Duration }{
		{left: 10 * time.Second, want: Headroom},
		{left: 4 * time.Second, want: time.Second},
	} {
		lambdaDeadline := time.Now().Add(tc.left)
		ctx, cancel := context.WithDeadline(t.Context(), lambdaDeadline)
		_, err := h(ctx, json.RawMessage(`{}`))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if got := lambdaDeadline.Sub(seen); got < tc.want-20*time.Millisecond || got > tc.want+20*time.Millisecond {
			t.Errorf("with %v left: handler deadline %v before Lambda's, want %v", tc.left, got, tc.want)
		}
	}
	if !strings.Contains(out.String(), `"CloudWatchMetrics"`) {
		t.Errorf("no EMF line after the invocation: %q", out.String())
	}
	if strings.Contains(out.String(), env["TALKJS_SECRET_KEY"]) {
		t.Error("output shows the key")
	}
}

func TestFromNamesTheBadVariable(t *testing.T) {
	env := map[string]string{"TALKJS_SECRET_KEY": "sk_test_x_0123456789", "TALKJS_APP_ID": "t1", "SECRET_CACHE_TTL": "soon"}
	_, err := From(t.Context(), func(k string) string { return env[k] }, "queue", &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "SECRET_CACHE_TTL") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err %v: want one line naming SECRET_CACHE_TTL", err)
	}
}

func TestWebhookSecretsFromEnv(t *testing.T) {
	env := map[string]string{"TALKJS_SECRET_KEY": "sk_test_x_0123456789", "TALKJS_APP_ID": "t1", "BRIDGE_WEBHOOK_SECRET_GITHUB": "gh-secret"}
	d, err := From(t.Context(), func(k string) string { return env[k] }, "webhook", &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := d.Secrets.WebhookSecret(t.Context(), "github"); err != nil || v != "gh-secret" {
		t.Errorf("github secret = %q, %v", v, err)
	}
	if _, err := d.Secrets.WebhookSecret(t.Context(), "stripe"); err == nil {
		t.Error("stripe secret found though none was given")
	}
}

// TestWebhookQueueMode: COMMAND_QUEUE_URL puts the webhook handler in queue
// mode on that queue; without it the handler delivers directly.
func TestWebhookQueueMode(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTESTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	const url = "https://sqs.us-east-1.amazonaws.com/123456789012/commands.fifo"
	for _, tt := range []struct {
		name, url string
	}{{"queue mode", url}, {"direct", ""}} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"TALKJS_APP_ID": "t1", "TALKJS_SECRET_KEY": "sk_test_x_0123456789", "COMMAND_QUEUE_URL": tt.url}
			d, err := From(t.Context(), func(k string) string { return env[k] }, "webhook", &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			q := d.Webhook().Queue
			switch {
			case tt.url == "" && q != nil:
				t.Errorf("queue mode without %s", "COMMAND_QUEUE_URL")
			case tt.url != "" && (q == nil || q.URL != tt.url || !q.FIFO() || q.Send == nil):
				t.Errorf("Queue = %+v, want the FIFO queue %s", q, tt.url)
			}
		})
	}
}

package logging_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/internal/metrics"
	"github.com/talkjs-bridge/talkjs-bridge/internal/secretsource"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"

	"github.com/talkjs-bridge/talkjs-bridge/internal/secretscan"
)

// TestFullSendPathLeaksNoSecret runs the send path through its failure modes
// (cold fetch, a permanent 4xx, a key rotation with 401s, a Secrets Manager
// outage served from cache, then one past the grace period) with debug
// logging, and checks that no secret value reaches the logs, the metrics or
// an error string, and that the redaction safety net was never needed.
func TestFullSendPathLeaksNoSecret(t *testing.T) {
	const (
		appID     = "tLeakApp"
		secretID  = "talkjs/leak"
		oldKey    = "sk_live_oldleakkey00000000000"
		newKey    = "sk_live_newleakkey00000000000"
		ghSecret  = "gh-webhook-leak-secret"
		stripeSec = "whsec_stripeleaksecret"
	)
	secretValue := func(key string) string {
		return fmt.Sprintf(`{"appId":%q,"secretKey":%q,"webhookSecrets":{"github":%q,"stripe":%q}}`, appID, key, ghSecret, stripeSec)
	}
	forbidden := []string{oldKey, newKey, ghSecret, stripeSec, "leakkey", "leak-secret", "leaksecret"}

	aws := awstest.New()
	aws.SetSecret(secretID, secretValue(oldKey))
	awsSrv := httptest.NewServer(aws)
	t.Cleanup(awsSrv.Close)
	talkSrv, talk := talkjstest.NewServer(appID, oldKey)
	t.Cleanup(talkSrv.Close)

	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	var logs secretscan.Buffer
	var src *secretsource.Source
	log := logging.New(&logs, slog.LevelDebug, func() []string { return src.Secrets() })
	src = secretsource.NewFromConfig(awstest.Config(awsSrv.URL), secretID, secretsource.Options{
		TTL: time.Minute, Grace: 5 * time.Minute, Now: clock, Logger: log,
	})
	hook := func(ctx context.Context, a talkjs.Attempt) {
		metrics.AttemptHook(ctx, a)
		log.DebugContext(ctx, "talkjs attempt", "method", a.Method, "path", a.Path, "conversationId", a.ConversationID,
			"attempt", a.Attempt, "status", a.StatusCode, "error", a.Err, "duration", a.Duration, "willRetry", a.WillRetry)
	}
	client, err := talkjs.NewClient(appID, src, talkjs.WithBaseURL(talkSrv.URL), talkjs.WithAttemptHook(hook),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}

	rec := metrics.New("TalkJSBridge", "queue")
	ctx := metrics.NewContext(lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-leak"}), rec)
	var errs []error
	step := func(name string, err error) {
		if err != nil {
			errs = append(errs, err)
			log.ErrorContext(ctx, name, "error", err)
		} else {
			rec.Sent(1)
			log.InfoContext(ctx, name)
		}
	}
	send := func(conv, text string) error {
		_, err := client.SendMessages(ctx, conv, talkjs.NewMessage{Type: talkjs.SystemMessage, Text: text, IdempotencyKey: conv + text})
		return err
	}

	step("create", client.UpsertConversation(ctx, "c1", talkjs.ConversationUpdate{}))
	step("send", send("c1", "one"))
	step("send to a missing conversation", send("no-such-conversation", "x"))
	_, err = src.WebhookSecret(ctx, "gitlab")
	step("unknown webhook", err)

	aws.SetSecret(secretID, secretValue(newKey))
	talk.SetSecretKey(newKey)
	step("send after rotation", send("c1", "two"))

	aws.Fail(true)
	advance(2 * time.Minute)
	step("send during an outage, from cache", send("c1", "three"))
	advance(10 * time.Minute)
	step("send past the grace period", send("c1", "four"))

	var out bytes.Buffer
	if err := rec.Flush(&out); err != nil {
		t.Fatal(err)
	}

	if len(errs) != 3 {
		t.Errorf("%d errors, want 3 (missing conversation, unknown webhook, past grace): %v", len(errs), errs)
	}
	if got := len(talk.Messages("c1")); got != 3 {
		t.Errorf("c1 holds %d messages, want 3", got)
	}
	logText := logs.String()
	if !strings.Contains(logText, `"level":"WARN"`) || !strings.Contains(logText, `"status":401`) || !strings.Contains(logText, `"requestId":"req-leak"`) {
		t.Errorf("the path did not exercise the warning, the 401 and the request id:\n%s", logText)
	}
	var errText strings.Builder
	for _, e := range errs {
		errText.WriteString(e.Error() + "\n")
	}
	for where, text := range map[string]string{"logs": logText, "metrics": out.String(), "errors": errText.String()} {
		for _, s := range forbidden {
			if strings.Contains(text, s) {
				t.Errorf("%q found in %s:\n%s", s, where, text)
			}
		}
		if strings.Contains(text, logging.Redacted) {
			t.Errorf("%s needed redaction, so some code logged a secret:\n%s", where, text)
		}
	}
}

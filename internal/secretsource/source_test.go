package secretsource_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/internal/secretsource"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"

	"github.com/talkjs-bridge/talkjs-bridge/internal/secretscan"
)

const (
	appID     = "tTestApp"
	secretID  = "talkjs/test"
	firstKey  = "sk_test_first0000000000000000"
	secondKey = "sk_test_second000000000000000"
	conv      = "order-1042"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	aws    *awstest.Server
	talk   *talkjstest.Emulator
	src    *secretsource.Source
	client *talkjs.Client
	clock  *clock
	logs   *secretscan.Buffer
}

func secretJSON(key string) string {
	return fmt.Sprintf(`{"appId":%q,"secretKey":%q,"webhookSecrets":{"github":"gh-hook-secret","stripe":"whsec_hooksecret"}}`, appID, key)
}

func newFixture(t testing.TB, opts secretsource.Options) *fixture {
	t.Helper()
	f := &fixture{aws: awstest.New(), clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, logs: &secretscan.Buffer{}}
	f.aws.SetSecret(secretID, secretJSON(firstKey))
	awsSrv := httptest.NewServer(f.aws)
	t.Cleanup(awsSrv.Close)

	talkSrv, talk := talkjstest.NewServer(appID, firstKey)
	t.Cleanup(talkSrv.Close)
	f.talk = talk

	opts.Now = f.clock.Now
	opts.Logger = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.src = secretsource.New(secretsmanager.NewFromConfig(awstest.Config(awsSrv.URL)), secretID, opts)

	fast := talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})
	c, err := talkjs.NewClient(appID, f.src, talkjs.WithBaseURL(talkSrv.URL), fast)
	if err != nil {
		t.Fatal(err)
	}
	f.client = c

	// The conversation exists before the test; creating it must not warm the source.
	admin, err := talkjs.NewClient(appID, talkjs.StaticKey(firstKey), talkjs.WithBaseURL(talkSrv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.UpsertConversation(t.Context(), conv, talkjs.ConversationUpdate{}); err != nil {
		t.Fatalf("creating the conversation: %v", err)
	}
	return f
}

func (f *fixture) fetches() int { return f.aws.Calls(awstest.GetSecretValue) }

func (f *fixture) send(ctx context.Context, n int) error {
	_, err := f.client.SendMessages(ctx, conv, talkjs.NewMessage{
		Type: talkjs.SystemMessage, Text: fmt.Sprintf("message %d", n), IdempotencyKey: fmt.Sprintf("m-%d", n),
	})
	return err
}

// sendAll sends n messages concurrently, numbered from first, and returns the errors.
func (f *fixture) sendAll(ctx context.Context, first, n int) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = f.send(ctx, first+i) })
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}

func TestColdStartFetchesOnce(t *testing.T) {
	f := newFixture(t, secretsource.Options{TTL: 5 * time.Minute})

	if errs := f.sendAll(t.Context(), 0, 100); len(errs) != 0 {
		t.Fatalf("%d sends failed, first: %v", len(errs), errs[0])
	}
	if got := f.fetches(); got != 1 {
		t.Errorf("100 concurrent sends on a cold source made %d GetSecretValue calls, want 1", got)
	}

	f.clock.Advance(4 * time.Minute)
	if errs := f.sendAll(t.Context(), 100, 10); len(errs) != 0 {
		t.Fatalf("sends within the TTL failed: %v", errs[0])
	}
	if got := f.fetches(); got != 1 {
		t.Errorf("within the TTL: %d GetSecretValue calls, want still 1", got)
	}

	f.clock.Advance(2 * time.Minute)
	if errs := f.sendAll(t.Context(), 110, 50); len(errs) != 0 {
		t.Fatalf("sends after the TTL failed: %v", errs[0])
	}
	if got := f.fetches(); got != 2 {
		t.Errorf("after the TTL: %d GetSecretValue calls, want 2", got)
	}
	if got := len(f.talk.Messages(conv)); got != 160 {
		t.Errorf("conversation holds %d messages, want 160", got)
	}
}

func TestRotationRefetchesOnceAndLosesNothing(t *testing.T) {
	f := newFixture(t, secretsource.Options{TTL: time.Hour})
	if err := f.send(t.Context(), 0); err != nil {
		t.Fatal(err)
	}

	f.aws.SetSecret(secretID, secretJSON(secondKey))
	f.talk.SetSecretKey(secondKey)

	// Many sends meet the rotation at once: each gets a 401 for the old key,
	// but the old key is refused once and fetched again once.
	if errs := f.sendAll(t.Context(), 1, 20); len(errs) != 0 {
		t.Fatalf("%d sends failed after rotation, first: %v", len(errs), errs[0])
	}
	if got := f.fetches(); got != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2 (cold start + one after the 401s)", got)
	}
	if got := len(f.talk.Messages(conv)); got != 21 {
		t.Errorf("conversation holds %d messages, want 21: something was lost or duplicated", got)
	}
	var refused int
	for _, r := range f.talk.Requests() {
		if r.Status == 401 {
			refused++
			if !strings.Contains(r.Header.Get("Authorization"), talkjstest.Fingerprint(firstKey)) {
				t.Errorf("a request with the new key was refused: %q", r.Header.Get("Authorization"))
			}
		}
	}
	if refused == 0 {
		t.Error("no request was refused: the rotation was not exercised")
	}
	if key, _ := f.src.Key(t.Context()); key != secondKey {
		t.Error("the source does not serve the rotated key")
	}
}

func TestRefusedOldKeyDoesNotRefetch(t *testing.T) {
	f := newFixture(t, secretsource.Options{})
	if _, err := f.src.Key(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.src.Refused(t.Context(), "sk_test_some_older_key")
	if _, err := f.src.Key(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.fetches(); got != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1: a 401 for a replaced key must not refetch", got)
	}
	f.src.Refused(t.Context(), firstKey)
	f.src.Refused(t.Context(), firstKey)
	if _, err := f.src.Key(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.fetches(); got != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2 after the current key was refused", got)
	}
}

func TestUnavailableWithoutCacheIsRetryable(t *testing.T) {
	f := newFixture(t, secretsource.Options{})
	f.aws.Fail(true)
	before := f.talk.Counts().Requests

	err := f.send(t.Context(), 0)
	if err == nil {
		t.Fatal("send succeeded with Secrets Manager down and nothing cached")
	}
	if !errors.Is(err, talkjs.ErrKeyUnavailable) {
		t.Errorf("errors.Is(err, ErrKeyUnavailable) = false for %v", err)
	}
	if !talkjs.Retryable(err) {
		t.Errorf("talkjs.Retryable = false for %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, secretID) || strings.Contains(msg, "\n") {
		t.Errorf("error %q is not one line naming the secret %q", msg, secretID)
	}
	if got := f.talk.Counts().Requests - before; got != 0 {
		t.Errorf("%d requests reached TalkJS without a key", got)
	}

	f.aws.Fail(false)
	if err := f.send(t.Context(), 0); err != nil {
		t.Errorf("send after Secrets Manager recovered: %v", err)
	}
}

func TestUnknownSecretIsRetryableAndNamed(t *testing.T) {
	f := newFixture(t, secretsource.Options{})
	src := secretsource.New(secretsmanagerFor(t, f), "no/such/secret", secretsource.Options{})
	_, err := src.Key(t.Context())
	if err == nil || !errors.Is(err, talkjs.ErrKeyUnavailable) || !strings.Contains(err.Error(), "no/such/secret") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("err = %v, want ErrKeyUnavailable naming the secret and ResourceNotFoundException", err)
	}
}

func secretsmanagerFor(t *testing.T, f *fixture) *secretsmanager.Client {
	t.Helper()
	ts := httptest.NewServer(f.aws)
	t.Cleanup(ts.Close)
	return secretsmanager.NewFromConfig(awstest.Config(ts.URL))
}

func TestGracePeriod(t *testing.T) {
	f := newFixture(t, secretsource.Options{TTL: time.Minute, Grace: 10 * time.Minute})
	if err := f.send(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	f.aws.Fail(true)
	f.clock.Advance(2 * time.Minute)

	if err := f.send(t.Context(), 1); err != nil {
		t.Fatalf("send in the grace period: %v", err)
	}
	if got := f.fetches(); got != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2 (one failed refresh)", got)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, secretID) {
		t.Errorf("no warning naming the secret in logs: %s", logs)
	}
	// Within the backoff after a failure, calls are served without hammering
	// Secrets Manager or repeating the warning.
	for i := range 5 {
		if err := f.send(t.Context(), 2+i); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.fetches(); got != 2 {
		t.Errorf("GetSecretValue calls during the failure backoff = %d, want 2", got)
	}
	if n := strings.Count(f.logs.String(), `"level":"WARN"`); n != 1 {
		t.Errorf("%d warnings, want 1", n)
	}

	f.clock.Advance(10 * time.Minute) // past TTL + grace
	err := f.send(t.Context(), 10)
	if !errors.Is(err, talkjs.ErrKeyUnavailable) || !talkjs.Retryable(err) {
		t.Errorf("after the grace period: err = %v, want retryable ErrKeyUnavailable", err)
	}
	for _, s := range []string{firstKey, "gh-hook-secret", "whsec_hooksecret"} {
		if strings.Contains(f.logs.String(), s) || (err != nil && strings.Contains(err.Error(), s)) {
			t.Errorf("secret %q leaked into logs or error", s)
		}
	}
}

func TestRefusedKeyIsNotServedDuringOutage(t *testing.T) {
	f := newFixture(t, secretsource.Options{TTL: time.Hour})
	if _, err := f.src.Key(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.aws.Fail(true)
	f.src.Refused(t.Context(), firstKey)
	_, err := f.src.Key(t.Context())
	if !errors.Is(err, talkjs.ErrKeyUnavailable) {
		t.Errorf("Key after a refusal with Secrets Manager down: err = %v, want ErrKeyUnavailable (the refused key must not be served)", err)
	}
}

func TestWaiterGivesUpButFetchCompletes(t *testing.T) {
	f := newFixture(t, secretsource.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.src.Key(ctx)
	if !errors.Is(err, talkjs.ErrKeyUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Key with a cancelled context: err = %v", err)
	}
	// The fetch it started is shared and finishes; the next caller reuses it.
	deadline := time.Now().Add(5 * time.Second)
	for f.fetches() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := f.src.Key(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := f.fetches(); got != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", got)
	}
}

func TestAppIDAndWebhookSecrets(t *testing.T) {
	f := newFixture(t, secretsource.Options{})
	tests := []struct {
		name    string
		call    func(context.Context) (string, error)
		want    string
		wantErr string
	}{
		{"app id", f.src.AppID, appID, ""},
		{"github secret", func(ctx context.Context) (string, error) { return f.src.WebhookSecret(ctx, "github") }, "gh-hook-secret", ""},
		{"unknown route fails closed", func(ctx context.Context) (string, error) { return f.src.WebhookSecret(ctx, "gitlab") }, "", `no webhookSecrets entry "gitlab"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if got := f.fetches(); got != 1 {
		t.Errorf("GetSecretValue calls = %d, want 1", got)
	}
	secrets := strings.Join(f.src.Secrets(), " ")
	for _, s := range []string{firstKey, "gh-hook-secret", "whsec_hooksecret"} {
		if !strings.Contains(secrets, s) {
			t.Errorf("Secrets() lacks %q", s)
		}
	}
}

func TestBareKeyHasNoAppID(t *testing.T) {
	f := newFixture(t, secretsource.Options{})
	f.aws.SetSecret(secretID, firstKey)
	if key, err := f.src.Key(t.Context()); err != nil || key != firstKey {
		t.Fatalf("Key = %q, %v", key, err)
	}
	if _, err := f.src.AppID(t.Context()); err == nil || !strings.Contains(err.Error(), "TALKJS_APP_ID") {
		t.Errorf("AppID err = %v, want a hint at TALKJS_APP_ID", err)
	}
}

func TestMalformedSecretIsRetryableAndNotEchoed(t *testing.T) {
	f := newFixture(t, secretsource.Options{})
	f.aws.SetSecret(secretID, "password123-not-a-key")
	_, err := f.src.Key(t.Context())
	if !errors.Is(err, talkjs.ErrKeyUnavailable) || strings.Contains(err.Error(), "password123") || !strings.Contains(err.Error(), secretID) {
		t.Errorf("err = %v", err)
	}
}

func TestStatic(t *testing.T) {
	if _, err := secretsource.NewStatic("not-a-key", "", nil); err == nil || strings.Contains(err.Error(), "not-a-key") {
		t.Errorf("NewStatic with a bad key: err = %v", err)
	}
	empty, err := secretsource.NewStatic(firstKey, appID, map[string]string{"github": "", "stripe": "whsec_hooksecret"})
	if err != nil {
		t.Fatalf("NewStatic with one empty webhook secret: %v (only its routes should fail)", err)
	}
	if _, err := empty.WebhookSecret(t.Context(), "github"); err == nil || !strings.Contains(err.Error(), `"github" is empty`) {
		t.Errorf("the empty webhook secret: err = %v, want it named as empty", err)
	}
	if v, err := empty.WebhookSecret(t.Context(), "stripe"); err != nil || v != "whsec_hooksecret" {
		t.Errorf("the other webhook secret: %v", err)
	}
	s, err := secretsource.NewStatic(firstKey, "", map[string]string{"github": "gh-hook-secret"})
	if err != nil {
		t.Fatal(err)
	}
	talkSrv, talk := talkjstest.NewServer(appID, firstKey)
	t.Cleanup(talkSrv.Close)
	c, err := talkjs.NewClient(appID, s, talkjs.WithBaseURL(talkSrv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpsertConversation(t.Context(), conv, talkjs.ConversationUpdate{}); err != nil {
		t.Fatalf("send with a static key: %v", err)
	}
	if talk.Counts().Requests != 1 {
		t.Error("the request did not reach the emulator")
	}
	if _, err := s.AppID(t.Context()); err == nil {
		t.Error("AppID without an app id succeeded")
	}
	if v, err := s.WebhookSecret(t.Context(), "github"); err != nil || v != "gh-hook-secret" {
		t.Errorf("WebhookSecret = %q, %v", v, err)
	}
	if _, err := s.WebhookSecret(t.Context(), "stripe"); err == nil {
		t.Error("unknown webhook secret did not fail closed")
	}
}

// A redacting logger asks the source for its secrets while the source logs;
// that must not deadlock on the source's lock.
func TestLoggingThroughRedactorDoesNotDeadlock(t *testing.T) {
	f := newFixture(t, secretsource.Options{})
	var logs secretscan.Buffer
	var src *secretsource.Source
	log := logging.New(&logs, slog.LevelDebug, func() []string { return src.Secrets() })
	src = secretsource.New(secretsmanagerFor(t, f), secretID, secretsource.Options{TTL: time.Minute, Now: f.clock.Now, Logger: log})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = src.Key(t.Context())
		src.Refused(t.Context(), firstKey) // logs at info
		f.aws.Fail(true)
		f.clock.Advance(2 * time.Minute)
		_, _ = src.Key(t.Context()) // the refused key is not served: the refresh fails
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Refused or Key deadlocked with a logger that calls Secrets")
	}
	if !strings.Contains(logs.String(), "refused") {
		t.Errorf("no log line about the refusal: %s", logs.String())
	}
}

// TestOneBadWebhookSecret is issue 14.5: an empty (or non-string) entry in
// webhookSecrets, even for a route nobody uses, made the whole secret
// invalid, so every webhook answered 503 and the queue and schedule
// functions could not get the TalkJS key. Now only that entry fails, with
// its name and what is wrong, and the log says so once per fetch.
func TestOneBadWebhookSecret(t *testing.T) {
	for _, tt := range []struct{ name, hooks, want string }{
		{"empty", `{"github":"","stripe":"whsec_hooksecret"}`, `webhookSecrets entry "github" is empty`},
		{"not a string", `{"github":12345,"stripe":"whsec_hooksecret"}`, `webhookSecrets entry "github" is not a string`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, secretsource.Options{})
			f.aws.SetSecret(secretID, fmt.Sprintf(`{"appId":%q,"secretKey":%q,"webhookSecrets":%s}`, appID, firstKey, tt.hooks))
			if err := f.send(t.Context(), 1); err != nil {
				t.Fatalf("a send (what the queue and schedule do) failed: %v", err)
			}
			if v, err := f.src.WebhookSecret(t.Context(), "stripe"); err != nil || v != "whsec_hooksecret" {
				t.Errorf("stripe's webhook secret: err %v", err)
			}
			_, err := f.src.WebhookSecret(t.Context(), "github")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), secretID) {
				t.Errorf("github's webhook secret: err %v, want one naming %q", err, tt.want)
			}
			if n := f.fetches(); n != 1 {
				t.Errorf("%d fetches, want 1", n)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, "some webhook secrets are unusable") || !strings.Contains(logs, `github`) {
				t.Errorf("the log does not name the unusable webhook secret:\n%s", logs)
			}
			if strings.Contains(logs, "whsec_hooksecret") || strings.Contains(logs, firstKey) {
				t.Error("the log holds a secret value")
			}
		})
	}
	t.Run("webhookSecrets not an object", func(t *testing.T) {
		f := newFixture(t, secretsource.Options{})
		f.aws.SetSecret(secretID, fmt.Sprintf(`{"appId":%q,"secretKey":%q,"webhookSecrets":["x"]}`, appID, firstKey))
		if err := f.send(t.Context(), 1); err != nil {
			t.Fatalf("send: %v", err)
		}
		if _, err := f.src.WebhookSecret(t.Context(), "github"); err == nil || !strings.Contains(err.Error(), "must be an object") {
			t.Errorf("err = %v", err)
		}
	})
}

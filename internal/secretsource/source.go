package secretsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/sync/singleflight"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// GetSecretValueAPI is the one method of *secretsmanager.Client that Source
// uses, so tests can pass any client.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, params *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// getSecretValueFunc lets Source hold the client's GetSecretValue method
// instead of the client. Storing *secretsmanager.Client in an interface
// would make the linker keep every exported method of it (text/template and
// expr call methods by name, so any type stored in an interface keeps them
// all): some 70 unused operations, 0.1 MiB of each binary.
type getSecretValueFunc func(ctx context.Context, params *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)

func (f getSecretValueFunc) GetSecretValue(ctx context.Context, params *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx, params, optFns...)
}

// Defaults for the zero values of Options.
const (
	DefaultTTL          = 5 * time.Minute
	DefaultGrace        = 15 * time.Minute
	DefaultFetchTimeout = 10 * time.Second
	// failureBackoff is how long a failed refresh is not retried while the
	// cached value is still served, so an outage costs one call per interval
	// rather than one per event.
	failureBackoff = 5 * time.Second
)

// Options tunes a Source. The zero value gives the defaults.
type Options struct {
	// TTL is how long a fetched secret is reused (SECRET_CACHE_TTL). Zero
	// means DefaultTTL.
	TTL time.Duration
	// Grace is how long after the TTL a cached secret is still served while
	// refreshes fail. Zero means DefaultGrace; negative means no grace.
	Grace time.Duration
	// FetchTimeout bounds one GetSecretValue call. Zero means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the warning about serving a stale secret; nil discards.
	Logger *slog.Logger
}

// Source is a talkjs.KeySource backed by one Secrets Manager secret. It is
// safe for concurrent use; create one per process and share it.
type Source struct {
	client   GetSecretValueAPI
	secretID string
	ttl      time.Duration
	grace    time.Duration
	timeout  time.Duration
	now      func() time.Time
	log      *slog.Logger
	group    singleflight.Group

	mu        sync.Mutex
	cur       *secret
	fetchedAt time.Time
	refused   bool      // TalkJS refused cur.key: do not serve it again without a fresh fetch
	retryAt   time.Time // after a failed refresh, no new attempt before this
	previous  []string  // secret values replaced by rotation, still redacted from logs
}

// New returns a Source reading secretID through client. Nothing is fetched
// until the first Key, AppID or WebhookSecret call.
func New(client GetSecretValueAPI, secretID string, opts Options) *Source {
	s := &Source{
		client:   client,
		secretID: secretID,
		ttl:      opts.TTL,
		grace:    opts.Grace,
		timeout:  opts.FetchTimeout,
		now:      opts.Now,
		log:      opts.Logger,
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.grace == 0 {
		s.grace = DefaultGrace
	} else if s.grace < 0 {
		s.grace = 0
	}
	if s.timeout <= 0 {
		s.timeout = DefaultFetchTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// NewFromConfig returns a Source using a Secrets Manager client built from
// cfg (instrument cfg for X-Ray before calling it). It makes no call.
func NewFromConfig(cfg aws.Config, secretID string, opts Options) *Source {
	return New(getSecretValueFunc(secretsmanager.NewFromConfig(cfg).GetSecretValue), secretID, opts)
}

// Key returns the TalkJS secret key, fetching it if the cache is cold, past
// its TTL, or refused. An error wraps talkjs.ErrKeyUnavailable, names the
// secret id and is safe to retry.
func (s *Source) Key(ctx context.Context) (string, error) {
	sec, err := s.get(ctx)
	if err != nil {
		return "", err
	}
	return sec.key, nil
}

// Refused marks key as refused by TalkJS (401), so the next Key fetches the
// secret again. It does nothing when key is no longer the current key, so
// many concurrent 401s for one key cause one fetch. It never blocks on I/O.
func (s *Source) Refused(ctx context.Context, key string) {
	s.mu.Lock()
	marked := s.cur != nil && s.cur.key == key && !s.refused
	if marked {
		s.refused = true
		s.retryAt = time.Time{} // a refusal warrants a fetch now, even during an outage backoff
	}
	s.mu.Unlock()
	// Log outside the lock: a redacting log handler calls Secrets, which locks.
	if marked {
		s.log.InfoContext(ctx, "TalkJS refused the secret key; fetching it again", "secretId", s.secretID)
	}
}

// AppID returns the TalkJS app id from the secret's JSON form; it is an error
// when the secret has none (set TALKJS_APP_ID instead). Safe to retry.
func (s *Source) AppID(ctx context.Context) (string, error) {
	sec, err := s.get(ctx)
	if err != nil {
		return "", err
	}
	if sec.appID == "" {
		return "", fmt.Errorf("secretsource: secret %q has no \"appId\"; set TALKJS_APP_ID or add appId to the secret", s.secretID)
	}
	return sec.appID, nil
}

// WebhookSecret returns the signing secret of the named webhook route from
// the secret's "webhookSecrets". A missing, empty or non-string one is an
// error naming the entry, so verification fails closed for the routes that
// use it and for no other. Safe to retry.
func (s *Source) WebhookSecret(ctx context.Context, name string) (string, error) {
	sec, err := s.get(ctx)
	if err != nil {
		return "", err
	}
	return sec.webhook(s.secretID, name)
}

// Secrets lists every secret value the source has seen (current and
// replaced), for a redacting log handler. It never fetches.
func (s *Source) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.previous...)
	if s.cur != nil {
		out = append(out, s.cur.values()...)
	}
	return out
}

// fresh returns the cached secret when it can be served without a fetch.
func (s *Source) fresh(now time.Time) (*secret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && !s.refused && now.Before(s.fetchedAt.Add(s.ttl)) {
		return s.cur, true
	}
	return nil, false
}

func (s *Source) get(ctx context.Context) (*secret, error) {
	if s.client == nil || s.secretID == "" {
		return nil, errors.New("secretsource: no Secrets Manager client or secret id configured")
	}
	if sec, ok := s.fresh(s.now()); ok {
		return sec, nil
	}
	// The fetch outlives a caller that gives up, so the others waiting on it
	// still get its result; it keeps ctx's values (the X-Ray trace).
	ch := s.group.DoChan("", func() (any, error) {
		return s.refresh(context.WithoutCancel(ctx))
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*secret), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("secretsource: waiting for secret %q: %w: %w", s.secretID, talkjs.ErrKeyUnavailable, ctx.Err())
	}
}

// refresh runs inside the singleflight group: at most one at a time.
func (s *Source) refresh(ctx context.Context) (*secret, error) {
	now := s.now()
	// A caller that saw a stale cache may arrive just after another fetch
	// finished; it must not cause a second call.
	if sec, ok := s.fresh(now); ok {
		return sec, nil
	}
	s.mu.Lock()
	cur, refused, retryAt := s.cur, s.refused, s.retryAt
	s.mu.Unlock()
	if cur != nil && !refused && now.Before(retryAt) && s.inGrace(ctx, now, nil) {
		return cur, nil
	}

	sec, err := s.fetch(ctx)
	if err == nil {
		s.mu.Lock()
		if s.cur != nil && s.cur.key != sec.key {
			s.previous = append(s.previous, s.cur.values()...)
			if len(s.previous) > 32 {
				s.previous = s.previous[len(s.previous)-32:]
			}
		}
		s.cur, s.fetchedAt, s.refused, s.retryAt = sec, s.now(), false, time.Time{}
		s.mu.Unlock()
		// Logged outside the lock (the redacting handler calls Secrets),
		// once per fetch: the names and what is wrong, never a value.
		if p := sec.problems(); len(p) > 0 {
			s.log.WarnContext(ctx, "some webhook secrets are unusable; only the routes verifying with them are refused (503)",
				"secretId", s.secretID, "problems", p)
		}
		return sec, nil
	}

	s.mu.Lock()
	s.retryAt = now.Add(failureBackoff)
	s.mu.Unlock()
	// A refused key is known bad: serving it again would turn a Secrets
	// Manager outage into a permanent 401. Fail retryably instead.
	if cur != nil && !refused && s.inGrace(ctx, now, err) {
		return cur, nil
	}
	return nil, err
}

// inGrace reports whether the cached secret may still be served at now:
// within its TTL plus the grace period. cause is the refresh that just
// failed, logged as a warning; nil during the backoff after it, so an outage
// logs once per attempt, not once per call.
func (s *Source) inGrace(ctx context.Context, now time.Time, cause error) bool {
	s.mu.Lock()
	expired := s.fetchedAt.Add(s.ttl)
	s.mu.Unlock()
	if !now.Before(expired.Add(s.grace)) {
		return false
	}
	if cause != nil {
		s.log.WarnContext(ctx, "refreshing the TalkJS secret failed; serving the cached one",
			"secretId", s.secretID, "error", cause, "expiredFor", now.Sub(expired).Round(time.Second).String(),
			"graceLeft", expired.Add(s.grace).Sub(now).Round(time.Second).String())
	}
	return true
}

func (s *Source) fetch(ctx context.Context) (*secret, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		return nil, fmt.Errorf("secretsource: fetching secret %q: %w: %w", s.secretID, talkjs.ErrKeyUnavailable, err)
	}
	var value string
	switch {
	case out.SecretString != nil:
		value = *out.SecretString
	case out.SecretBinary != nil:
		value = string(out.SecretBinary)
	default:
		return nil, fmt.Errorf("secretsource: secret %q has no value: %w", s.secretID, talkjs.ErrKeyUnavailable)
	}
	sec, err := parse(s.secretID, value)
	if err != nil {
		// A malformed secret is fixed by an operator, after which retries
		// succeed: keep it retryable so queued records are not dropped.
		return nil, fmt.Errorf("secretsource: %w: %w", talkjs.ErrKeyUnavailable, err)
	}
	return &sec, nil
}

var _ talkjs.KeySource = (*Source)(nil)

package talkjs

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{name: "seconds", value: "3", want: 3 * time.Second, wantOK: true},
		{name: "zero", value: "0", want: 0, wantOK: true},
		{name: "spaces", value: " 7 ", want: 7 * time.Second, wantOK: true},
		{name: "huge is capped at a day", value: "99999999999", want: 24 * time.Hour, wantOK: true},
		{name: "negative", value: "-1"},
		{name: "empty", value: ""},
		{name: "garbage", value: "soon"},
		{name: "fraction", value: "1.5"},
		{name: "HTTP date ahead", value: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second, wantOK: true},
		{name: "HTTP date past", value: now.Add(-time.Hour).Format(http.TimeFormat), want: 0, wantOK: true},
		{name: "RFC 850 date", value: now.Add(10 * time.Second).Format("Monday, 02-Jan-06 15:04:05 GMT"), want: 10 * time.Second, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBackoffStaysWithinFullJitterBounds(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, BaseDelay: 10 * time.Millisecond, MaxDelay: 300 * time.Millisecond}.normalized()
	tests := []struct {
		retry   int
		ceiling time.Duration
	}{
		{1, 10 * time.Millisecond},
		{2, 20 * time.Millisecond},
		{3, 40 * time.Millisecond},
		{5, 160 * time.Millisecond},
		{6, 300 * time.Millisecond},
		{70, 300 * time.Millisecond}, // no overflow for absurd counts
	}
	for _, tt := range tests {
		var top time.Duration
		for range 2000 {
			d := p.backoff(tt.retry)
			if d < 0 || d > tt.ceiling {
				t.Fatalf("backoff(%d) = %v, outside [0, %v]", tt.retry, d, tt.ceiling)
			}
			top = max(top, d)
		}
		// Full jitter spreads over the whole range, not a fixed delay.
		if top < tt.ceiling/2 {
			t.Errorf("backoff(%d) never above %v in 2000 draws; ceiling %v", tt.retry, top, tt.ceiling)
		}
	}
}

func TestSleep(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelShort()
	tests := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want bool
	}{
		{name: "plain wait", ctx: context.Background(), d: time.Millisecond, want: true},
		{name: "canceled context", ctx: canceled, d: time.Hour, want: false},
		{name: "wait past the deadline is refused", ctx: short, d: time.Hour, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sleep(tt.ctx, tt.d); got != tt.want {
				t.Errorf("sleep = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBackoffIsCutByTheContext(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		timeout    time.Duration
		policy     RetryPolicy
		wantReqs   int
	}{
		// TalkJS asks for 30s; the deadline is much closer, so no wait, one request.
		{name: "Retry-After beyond the deadline", retryAfter: "30", timeout: 300 * time.Millisecond, policy: fastRetry, wantReqs: 1},
		// Backoff itself longer than what is left of the deadline.
		{name: "backoff beyond the deadline", timeout: 300 * time.Millisecond,
			policy: RetryPolicy{MaxAttempts: 5, BaseDelay: time.Hour, MaxDelay: time.Hour}, wantReqs: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				answer(w, 503, "{}")
			})
			c := newTestClient(t, srv, WithRetryPolicy(tt.policy))
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			start := time.Now()
			err := c.UpsertUser(ctx, "u1", UserUpdate{})
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
				t.Errorf("err = %v, want the last answer (503), not a bare deadline error", err)
			}
			// Generous bound: the call must give up instead of sleeping for the
			// requested wait (30s or an hour).
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("call took %v", elapsed)
			}
			if got := rec.count(); tt.wantReqs > 0 && got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var first time.Time
	var gap time.Duration
	srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 0 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			answer(w, 429, "{}")
			return
		}
		gap = time.Since(first)
		answer(w, 200, "{}")
	})
	if err := newTestClient(t, srv).UpsertUser(t.Context(), "u1", UserUpdate{}); err != nil {
		t.Fatal(err)
	}
	if gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want at least the 1s TalkJS asked for", gap)
	}
}

func TestDecideRetry(t *testing.T) {
	unavailable := &APIError{StatusCode: 503}
	limited := &APIError{StatusCode: 429}
	base := retryInput{err: unavailable, idempotent: true, tries: 1, maxAttempts: 4, backoff: 100 * time.Millisecond, timeLeft: -1}
	tests := []struct {
		name     string
		change   func(*retryInput)
		want     bool
		wantWait time.Duration
	}{
		{name: "5xx on an idempotent call", want: true, wantWait: 100 * time.Millisecond},
		{name: "429 waits for Retry-After when longer", change: func(in *retryInput) { in.err, in.retryAfter = limited, 2*time.Second }, want: true, wantWait: 2 * time.Second},
		{name: "backoff when longer than Retry-After", change: func(in *retryInput) { in.err, in.retryAfter = limited, 10*time.Millisecond }, want: true, wantWait: 100 * time.Millisecond},
		{name: "not idempotent", change: func(in *retryInput) { in.idempotent = false }},
		{name: "not idempotent, even on 429", change: func(in *retryInput) { in.idempotent, in.err = false, limited }},
		{name: "attempts used up", change: func(in *retryInput) { in.tries = 4 }},
		{name: "context ended", change: func(in *retryInput) { in.done = true }},
		{name: "wait past the deadline", change: func(in *retryInput) { in.timeLeft = 50 * time.Millisecond }},
		{name: "Retry-After past the deadline", change: func(in *retryInput) { in.err, in.retryAfter, in.timeLeft = limited, time.Minute, time.Second }},
		{name: "wait within the deadline", change: func(in *retryInput) { in.timeLeft = time.Second }, want: true, wantWait: 100 * time.Millisecond},
		{name: "400 is permanent", change: func(in *retryInput) { in.err = &APIError{StatusCode: 400} }},
		{name: "a redirect is permanent", change: func(in *retryInput) { in.err = &APIError{StatusCode: 307} }},
		{name: "invalid request", change: func(in *retryInput) { in.err = invalidf("x") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			if tt.change != nil {
				tt.change(&in)
			}
			got, wait := decideRetry(in)
			if got != tt.want || wait != tt.wantWait {
				t.Errorf("decideRetry = %v, %v; want %v, %v", got, wait, tt.want, tt.wantWait)
			}
		})
	}
}

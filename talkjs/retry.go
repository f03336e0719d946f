package talkjs

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds the retries made inside one call. MaxAttempts counts every
// HTTP attempt (1 means no retries); the n-th wait is drawn uniformly from
// [0, min(MaxDelay, BaseDelay*2^(n-1))] ("full jitter"), or is the server's
// Retry-After when that is longer. No wait ever runs past the context deadline.
type RetryPolicy struct {
	MaxAttempts int
	BaseDelay   time.Duration
	MaxDelay    time.Duration
}

// DefaultRetryPolicy is used when WithRetryPolicy is not given.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 5 * time.Second}

func (p RetryPolicy) normalized() RetryPolicy {
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 1
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultRetryPolicy.BaseDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// backoff returns the full-jitter wait before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	ceiling := p.MaxDelay
	if n < 63 {
		if d := p.BaseDelay << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return rand.N(ceiling + 1)
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// sleep waits d or until ctx ends. It refuses (returns false without waiting)
// when the wait would outlast the context deadline: the caller then returns its
// last error instead of a bare deadline error.
func sleep(ctx context.Context, d time.Duration) bool {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retryInput is what decides whether a failed attempt is tried again.
type retryInput struct {
	err         error // the attempt's error (non-nil)
	idempotent  bool  // the call is safe to send again after an unknown outcome
	tries       int   // attempts made that count against the policy
	maxAttempts int
	backoff     time.Duration // the jittered wait the policy drew for this retry
	retryAfter  time.Duration // the wait TalkJS asked for, or 0
	timeLeft    time.Duration // until the context deadline; negative when there is none
	done        bool          // the context has ended
}

// decideRetry is the client's one retry decision, a pure function of its
// input: whether to try again and how long to wait first.
//
// Only errors Retryable calls temporary are retried (never a 3xx: see
// noRedirects), only for idempotent calls, within MaxAttempts, and only if
// the wait, the longer of the backoff and Retry-After, ends before the
// deadline. A call that is not idempotent (a send without idempotency keys)
// is never resent, not even after a 429: TalkJS does not document 429, so
// nothing says a proxy or queue in front of it did not pass the request on.
func decideRetry(in retryInput) (bool, time.Duration) {
	if in.done || !in.idempotent || in.tries >= in.maxAttempts || !Retryable(in.err) {
		return false, 0
	}
	wait := max(in.backoff, in.retryAfter)
	if in.timeLeft >= 0 && in.timeLeft < wait {
		return false, 0
	}
	return true, wait
}

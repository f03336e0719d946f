package talkjs

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// pacer slows one Client down when TalkJS answers 429, so the goroutines of
// one process (one Lambda container) stop adding to an app-wide limit they
// share with other processes.
//
//   - A 429 with Retry-After sets a hold until it has passed: attempts of the
//     client that can wait that long before their deadline wait; those that
//     cannot are sent anyway, since failing them unsent could not do better
//     than TalkJS's own answer.
//   - The rate is judged once a second, over the attempts of that second: when
//     more than cutShare of them (and at least cutMin) drew a 429, the client
//     is paced at cutTo of the lower of its current pace and the rate TalkJS
//     accepted in that second (its share of the limit, as far as it can
//     tell), never below minPace. The accepted rate is counted over the part
//     of the second not spent waiting out a Retry-After, or a lone client
//     whose hold filled the second would read its share as a trickle
//     (TestContractRateLimit took 14–133 s that way); at least half the
//     second counts, or a fleet container held most of it would read its
//     one call as several a second. cutMin is 1, not more: a container that
//     shares the limit with many others makes a call or two a second and
//     would never see several 429s in one (cmd/bench P8: with 3, 53% of the
//     calls of 20 containers under one limit drew 429s). cutShare alone
//     tells a passing fault in a busy second from the limit.
//   - While paced, a second without a 429 raises the rate by 1% and
//     0.005/s, probing for a larger share: slowly, because every container
//     of a fleet probes at once, so the fleet overshoots K times as fast
//     (5% a second kept 9% of P8's calls at K=20 in 429s; 1%, 6–7%);
//     quietFor without any 429 ends pacing.
//
// Paced attempts wait for a token of a limiter with a burst of 1, so they are
// evenly spread; one that cannot get a token before its deadline fails
// unsent with ErrRateLimited (retryable), which is the back-pressure a queue
// needs. A hold alone never fails a call.
type pacer struct {
	mu      sync.Mutex
	lim     *rate.Limiter // nil while not pacing
	until   time.Time     // the latest Retry-After ends here
	heldAt  time.Time     // the hold that ends at until began here
	last429 time.Time

	// The current one-second window: its attempts and 429s.
	winStart time.Time
	winCount int
	win429   int

	limited   int // 429s seen, for Client.Pace
	active    atomic.Bool
	holdUntil atomic.Int64 // until, as Unix nanoseconds, readable without the lock
}

const (
	minPace    rate.Limit = 0.2
	paceWindow            = time.Second
	cutShare              = 0.10
	cutMin                = 1
	cutTo                 = 0.75  // of the lower of the rate accepted and the rate held to
	raiseBy               = 1.01  // the step up after a clean second...
	raiseStep             = 0.005 // ...plus this, so a low rate recovers too
	quietFor              = 30 * time.Second
)

// wait holds an attempt as the pacer says, within ctx's deadline. It returns
// ctx's error, or one wrapping ErrRateLimited when the client is paced and
// its next slot is past the deadline: the call then fails unsent, retryable,
// so a queue retries it later instead of adding to the limit now.
func (p *pacer) wait(ctx context.Context) error {
	now := time.Now()
	if !p.active.Load() && now.UnixNano() >= p.holdUntil.Load() {
		p.count(now) // not pacing: the common case
		return nil
	}
	p.mu.Lock()
	hold := p.until.Sub(now)
	lim := p.lim
	p.mu.Unlock()
	if hold > 0 && fits(ctx, hold) && !sleep(ctx, hold) {
		return ctx.Err()
	}
	if lim != nil {
		r := lim.Reserve()
		if d := r.Delay(); d > 0 {
			if !fits(ctx, d) {
				r.Cancel()
				return fmt.Errorf("%w: paced after 429 answers, the next slot (in %v) is past the deadline", ErrRateLimited, d.Round(time.Millisecond))
			}
			if !sleep(ctx, d) {
				r.Cancel()
				return ctx.Err()
			}
		}
	}
	p.count(time.Now())
	return ctx.Err()
}

// fits reports whether a wait of d ends before ctx's deadline.
func fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

func (p *pacer) count(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rollLocked(now)
	p.winCount++
}

// rollLocked judges the current window once it is a second old and starts
// the next.
func (p *pacer) rollLocked(now time.Time) {
	if p.winStart.IsZero() {
		p.winStart = now
	}
	el := now.Sub(p.winStart)
	if el < paceWindow {
		return
	}
	if p.winCount > 0 {
		share := float64(p.win429) / float64(p.winCount)
		// What TalkJS accepted per second of the window that the client
		// could send in: time spent waiting out a Retry-After is left out,
		// or a lone client whose hold filled most of a second would read
		// its share as a trickle and crawl back up from there.
		sending := max(el-p.heldLocked(now), el/2)
		accepted := rate.Limit(float64(max(p.winCount-p.win429, 0)) / sending.Seconds())
		switch {
		case p.win429 >= cutMin && share > cutShare:
			next := accepted
			if p.lim != nil {
				next = min(next, p.lim.Limit())
			}
			next = max(cutTo*next, minPace)
			if p.lim == nil {
				p.lim = rate.NewLimiter(next, 1)
				p.active.Store(true)
			} else if next < p.lim.Limit() {
				p.lim.SetLimitAt(now, next)
			}
		case p.lim != nil && now.Sub(p.last429) >= quietFor:
			p.lim = nil
			p.active.Store(false)
		case p.lim != nil && p.win429 == 0:
			cur := p.lim.Limit()
			p.lim.SetLimitAt(now, cur*raiseBy+raiseStep)
		}
	}
	p.winStart, p.winCount, p.win429 = now, 0, 0
}

// heldLocked is how much of the current window the latest hold covered.
func (p *pacer) heldLocked(now time.Time) time.Duration {
	from, to := p.heldAt, p.until
	if from.Before(p.winStart) {
		from = p.winStart
	}
	if to.After(now) {
		to = now
	}
	return max(to.Sub(from), 0)
}

// observe takes the outcome of one attempt: its status (0 when none arrived)
// and the Retry-After TalkJS sent with it.
func (p *pacer) observe(status int, retryAfter time.Duration) {
	if status != 429 {
		return // only 429s teach the pacer anything; attempts were counted in wait
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limited++
	p.rollLocked(now)
	p.win429++
	p.last429 = now
	if u := now.Add(retryAfter); retryAfter > 0 && u.After(p.until) {
		if !p.until.After(now) {
			p.heldAt = now // a new hold, not an extension of one running
		}
		p.until = u
		p.holdUntil.Store(u.UnixNano())
	}
}

// PaceState is what a Client's pacing knows now (see WithPacing).
type PaceState struct {
	// Limit is the rate the client holds itself to, in attempts per second;
	// 0 when it is not pacing.
	Limit float64
	// Until is when the latest Retry-After ends.
	Until time.Time
	// RateLimited counts the 429 answers the client has seen.
	RateLimited int
}

// Pace reports the client's pacing state, for metrics and tests.
func (c *Client) Pace() PaceState {
	if c.pace == nil {
		return PaceState{}
	}
	c.pace.mu.Lock()
	defer c.pace.mu.Unlock()
	s := PaceState{Until: c.pace.until, RateLimited: c.pace.limited}
	if c.pace.lim != nil {
		s.Limit = float64(c.pace.lim.Limit())
	}
	return s
}

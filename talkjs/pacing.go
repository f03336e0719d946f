package talkjs

import (
	"context"
	"fmt"
	"math/rand/v2"
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
//     than TalkJS's own answer. Attempts that waited out a hold read the pace
//     again as it ends: the second that held them is judged then, and
//     attempts held together must not all go out together, unpaced.
//   - The rate is judged once a second, over the attempts of that second: when
//     more than cutShare of them (and at least cutMin) drew a 429, the client
//     is paced at cutTo of the lower of its current pace and the rate TalkJS
//     accepted in that second (its share of the limit, as far as it can
//     tell), never below minPace. At least one call counts as accepted, so a
//     container whose single call of a quiet second was refused is cut by
//     cutTo, not to the floor (from where it took minutes to climb back).
//     cutMin is 1, not more: a container that shares the limit with many
//     others makes a call or two a second and would never see several 429s
//     in one (cmd/bench P8: with 3, 53% of the calls of 20 containers under
//     one limit drew 429s). cutShare alone tells a passing fault in a busy
//     second from the limit.
//   - The first judgment counts the accepted calls over the whole second. Its
//     second holds the start's burst and then the hold, so leaving the hold
//     out made a container of a fleet read its one call as two a second, and
//     twenty of them came back at 1.5 times the limit (P8: 17 of 47 429s in
//     the second after the first). Later judgments leave time spent waiting
//     out a Retry-After out (at most half the second), or a client held most
//     of a second would read its share as a trickle.
//   - The first paced slot falls at a random point of the first interval after
//     the hold: the containers of a fleet meet their first 429s within the
//     same few milliseconds, so their holds end together, and a first slot
//     at once sent them all into the same instant of an empty bucket.
//   - While paced, a second without a 429 raises the rate by raiseBy and
//     raiseStep, probing for a larger share: slowly, because every container
//     of a fleet probes at once, so the fleet overshoots K times as fast. In
//     steady state the 429s a fleet draws grow with the raise and shrink with
//     the cut (P8 at K=20: 1% and 0.005/s a second kept 4.3–7.0% of the
//     calls in 429s, 0.6% and 0.003/s 3.8–4.0%, 0.3% and 0.002/s 3.5–4.5%),
//     while a slower raise leaves a small fleet longer below its share (K=5:
//     0.79 of the limit at 0.3%, 0.82 at 0.6%).
//   - Pacing ends after quietFor with no 429 and no attempt held by the pace:
//     a container still busy at its pace would otherwise leave it all at
//     once, and a fleet that converged did so together (P8: 10 429s in one
//     second, 30 s after the start).
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
	bound   time.Time // an attempt last waited for the pace

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
	raiseBy               = 1.006 // the step up after a clean second...
	raiseStep             = 0.003 // ...plus this, so a low rate recovers too
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
	if hold > 0 && fits(ctx, hold) {
		if !sleep(ctx, hold) {
			return ctx.Err()
		}
		// The second that held this attempt is judged as it ends, and may
		// have put the client on a pace: read it again, or every attempt
		// held together would go out together, unpaced.
		p.mu.Lock()
		p.rollLocked(time.Now())
		lim = p.lim
		p.mu.Unlock()
	}
	if lim != nil {
		r := lim.Reserve()
		if d := r.Delay(); d > 0 {
			p.mu.Lock()
			p.bound = now
			p.mu.Unlock()
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
		// could send in (see the type's comment for the first judgment).
		sending := el
		if p.lim != nil {
			sending = max(el-p.heldLocked(now), el/2)
		}
		accepted := rate.Limit(float64(max(p.winCount-p.win429, 1)) / sending.Seconds())
		switch {
		case p.win429 >= cutMin && share > cutShare:
			next := accepted
			if p.lim != nil {
				next = min(next, p.lim.Limit())
			}
			next = max(cutTo*next, minPace)
			if p.lim == nil {
				p.lim = rate.NewLimiter(next, 1)
				// The first slot: a random point of the first interval
				// after the hold. Spending the bucket's token at a time
				// before that point puts the next token there.
				from := now
				if p.until.After(now) {
					from = p.until
				}
				iv := time.Duration(float64(time.Second) / float64(next))
				p.lim.ReserveN(from.Add(-time.Duration(rand.Int64N(int64(iv)+1))), 1)
				p.active.Store(true)
			} else if next < p.lim.Limit() {
				p.lim.SetLimitAt(now, next)
			}
		case p.lim != nil && now.Sub(p.last429) >= quietFor && now.Sub(p.bound) >= quietFor:
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

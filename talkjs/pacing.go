package talkjs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer slows one Client down when TalkJS answers 429, so the goroutines of
// one process (one Lambda container) stop adding to an app-wide limit they
// share with other processes. It is additive-increase/multiplicative-decrease:
//
//   - A 429 holds every new attempt of the client until its Retry-After has
//     passed (without one, the retry backoff alone spaces the caller), and halves the client's rate (the rate measured
//     over the last second, the first time), at most once per second so that
//     the 429s of requests already in flight count as one signal.
//   - Each second without a 429 in which the client made an attempt raises
//     the rate by a tenth (at least 0.1/s); once it passes maxPace, pacing
//     stops until the next 429. A raise never looks at the measured rate,
//     which a hold after a 429 makes look low.
//
// Every attempt then waits for a token, with a burst of 1, so the paced
// attempts are evenly spread. The rate never falls below minPace.
type pacer struct {
	mu        sync.Mutex
	lim       *rate.Limiter // nil while not pacing
	until     time.Time     // no attempt starts before this
	lastCut   time.Time
	lastRaise time.Time
	winStart  time.Time // attempts counted in the current one-second window
	winCount  int
	lastRate  float64 // attempts per second in the last full window
	limited   int     // 429s seen, for tests and metrics
}

const (
	minPace       rate.Limit = 0.2
	maxPace       rate.Limit = 1000 // beyond this the pacing is not what limits a client
	paceWindow               = time.Second
	paceIncrement            = 0.1
)

// wait holds an attempt until the pacer lets it go. It refuses at once, with
// an error wrapping ErrRateLimited, when the hold would outlast ctx's
// deadline, so the caller can return instead of sending into the limit.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	hold := p.until.Sub(now)
	lim := p.lim
	p.mu.Unlock()
	if hold > 0 {
		if !sleep(ctx, hold) {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fmt.Errorf("%w: TalkJS asked to wait %v, past the deadline", ErrRateLimited, hold.Round(time.Millisecond))
		}
	}
	if lim != nil {
		if err := lim.Wait(ctx); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return fmt.Errorf("%w: paced after 429 answers, the next slot is past the deadline", ErrRateLimited)
		}
	}
	p.mu.Lock()
	p.countLocked(time.Now())
	p.mu.Unlock()
	return nil
}

func (p *pacer) countLocked(now time.Time) {
	if p.winStart.IsZero() {
		p.winStart = now
	}
	if el := now.Sub(p.winStart); el >= paceWindow {
		p.lastRate = float64(p.winCount) / el.Seconds()
		p.winStart, p.winCount = now, 0
	}
	p.winCount++
}

// observe takes the outcome of one attempt: its status (0 when none arrived)
// and the Retry-After TalkJS sent with it.
func (p *pacer) observe(status int, retryAfter time.Duration) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if status == 0 {
		return // no answer: nothing learned about the limit
	}
	if status == 429 {
		p.limited++
		if u := now.Add(retryAfter); retryAfter > 0 && u.After(p.until) {
			p.until = u
		}
		if now.Sub(p.lastCut) < paceWindow {
			return
		}
		p.lastCut, p.lastRaise = now, now
		cur := p.currentLocked(now)
		next := max(cur/2, minPace)
		if p.lim == nil {
			p.lim = rate.NewLimiter(next, 1)
		} else {
			p.lim.SetLimitAt(now, next)
		}
		return
	}
	if p.lim == nil || now.Sub(p.lastRaise) < paceWindow || now.Sub(p.lastCut) < paceWindow {
		return
	}
	p.lastRaise = now
	cur := p.lim.Limit()
	next := cur + max(cur*0.1, paceIncrement)
	if next >= maxPace {
		p.lim = nil
		return
	}
	p.lim.SetLimitAt(now, next)
}

// currentLocked is the rate to cut from: the pacer's own, else what the
// client used lately.
func (p *pacer) currentLocked(now time.Time) rate.Limit {
	if p.lim != nil {
		return p.lim.Limit()
	}
	return rate.Limit(max(p.usedLocked(now), float64(minPace)))
}

// usedLocked estimates the attempts per second the client made lately. A
// window younger than 100ms counts as 100ms, so a burst at start-up does not
// read as an absurd rate, nor as none.
func (p *pacer) usedLocked(now time.Time) float64 {
	if p.winCount == 0 {
		return p.lastRate
	}
	el := max(now.Sub(p.winStart), 100*time.Millisecond)
	return max(p.lastRate, float64(p.winCount)/el.Seconds())
}

// PaceState is what a Client's pacing knows now (see WithPacing).
type PaceState struct {
	// Limit is the rate the client holds itself to, in attempts per second;
	// 0 when it is not pacing.
	Limit float64
	// Until is when the latest Retry-After ends; no attempt starts before it.
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

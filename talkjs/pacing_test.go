package talkjs

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestPacingHoldsAfter429 answers the first request 429 with Retry-After: 1
// and checks when the next call of the same client reaches the server.
func TestPacingHoldsAfter429(t *testing.T) {
	tests := []struct {
		name     string
		opts     []Option
		deadline time.Duration // of the second call
		wantHeld bool          // it reached the server only after the Retry-After
	}{
		{name: "pacing on: a call that can wait, waits", deadline: 5 * time.Second, wantHeld: true},
		{name: "pacing on: a call that cannot wait is sent, not failed unsent", deadline: 300 * time.Millisecond},
		{name: "pacing off: sent at once", opts: []Option{WithPacing(false)}, deadline: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var arrivals []time.Time
			srv, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				mu.Lock()
				arrivals = append(arrivals, time.Now())
				mu.Unlock()
				if n == 0 {
					w.Header().Set("Retry-After", "1")
					answer(w, 429, "{}")
					return
				}
				answer(w, 200, "{}")
			})
			c := newTestClient(t, srv, tt.opts...)
			// The first call cannot wait out the Retry-After: it returns the 429.
			first, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			if err := c.UpsertUser(first, "u1", UserUpdate{}); !errors.Is(err, ErrRateLimited) {
				t.Fatalf("first call: %v, want a 429 (ErrRateLimited)", err)
			}
			second, cancel2 := context.WithTimeout(t.Context(), tt.deadline)
			defer cancel2()
			if err := c.UpsertUser(second, "u2", UserUpdate{}); err != nil {
				t.Fatalf("second call: %v", err)
			}
			if n := rec.count(); n != 2 {
				t.Fatalf("%d requests, want 2", n)
			}
			gap := arrivals[1].Sub(arrivals[0])
			// Retry-After is 1 s; allow for the clock granularity of timers.
			if held := gap >= 900*time.Millisecond; held != tt.wantHeld {
				t.Errorf("second request came %v after the 429; held: %v, want %v", gap, held, tt.wantHeld)
			}
		})
	}
}

func TestPacingJudgesEachSecond(t *testing.T) {
	start := time.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	// second runs one window of n attempts, k of them answered 429, then
	// rolls into the next window.
	second := func(p *pacer, from time.Duration, n, k int) {
		for i := range n {
			p.count(at(from + time.Duration(i)*time.Millisecond))
		}
		p.mu.Lock()
		p.win429 += k
		p.limited += k
		if k > 0 {
			p.last429 = at(from)
		}
		p.rollLocked(at(from + paceWindow))
		p.mu.Unlock()
	}
	tests := []struct {
		name      string
		paced     rate.Limit // the pace before the second; 0: not pacing
		n, k      int
		held      time.Duration // of the second spent waiting out a Retry-After
		wantLimit rate.Limit    // 0: not pacing
	}{
		{name: "no 429s", n: 100},
		{name: "a single 429 is not the limit", n: 100, k: 1},
		{name: "5% of 429s, as a fault mix", n: 100, k: 5},
		{name: "a third refused: paced at cutTo of the accepted rate", n: 90, k: 30, wantLimit: cutTo * 60},
		{name: "the first judgment counts the held part of the second", n: 90, k: 30, held: 400 * time.Millisecond, wantLimit: cutTo * 60},
		{name: "all refused: one call counts as accepted", n: 10, k: 10, wantLimit: cutTo * 1},
		{name: "paced: a hold is left out of the accepted rate", paced: 1000, n: 90, k: 30, held: 400 * time.Millisecond, wantLimit: cutTo * 60 / 0.6},
		{name: "paced: at most half the second counts as held", paced: 1000, n: 90, k: 30, held: paceWindow, wantLimit: cutTo * 60 / 0.5},
		{name: "paced: never below the floor", paced: minPace, n: 1, k: 1, wantLimit: minPace},
		{name: "paced: a clean second raises", paced: 10, n: 5, wantLimit: 10*raiseBy + raiseStep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p pacer
			if tt.paced > 0 {
				p.lim = rate.NewLimiter(tt.paced, 1)
				p.active.Store(true)
				p.last429 = at(0)
			}
			if tt.held > 0 {
				p.heldAt, p.until = at(0), at(tt.held)
			}
			second(&p, 0, tt.n, tt.k)
			var got rate.Limit
			if p.lim != nil {
				got = p.lim.Limit()
			}
			if diff := got - tt.wantLimit; diff < -0.001 || diff > 0.001 {
				t.Errorf("limit %v, want %v", got, tt.wantLimit)
			}
			if p.active.Load() != (tt.wantLimit != 0) {
				t.Errorf("active %v with limit %v", p.active.Load(), got)
			}
		})
	}

	t.Run("a second cut starts from the lower of the accepted and the held rate", func(t *testing.T) {
		var p pacer
		second(&p, 0, 90, 30) // paced at cutTo*60
		first := p.lim.Limit()
		second(&p, paceWindow, 200, 50) // accepted 150/s, more than the pace
		if got, want := p.lim.Limit(), cutTo*first; got-want < -0.01 || got-want > 0.01 {
			t.Errorf("after a second cut the limit is %v, want %v", got, want)
		}
	})

	t.Run("raise, then end after a quiet spell", func(t *testing.T) {
		var p pacer
		second(&p, 0, 90, 30)
		cut := p.lim.Limit()
		second(&p, paceWindow, 50, 0)
		if got, want := p.lim.Limit(), cut*raiseBy+raiseStep; got != want {
			t.Errorf("after a clean second the limit is %v, want %v", got, want)
		}
		second(&p, quietFor+2*paceWindow, 10, 0)
		if p.lim != nil || p.active.Load() {
			t.Error("pacing did not end after a quiet spell")
		}
	})
}

// TestPacingFirstSlotIsSpread: a fleet's containers meet their first 429s
// together, so their holds end together; the first paced slot of each falls
// at a random point of the first interval after the hold, not at its end.
func TestPacingFirstSlotIsSpread(t *testing.T) {
	start := time.Now()
	var slots []time.Duration
	for range 200 {
		var p pacer
		p.count(start)
		p.mu.Lock()
		p.win429++
		p.heldAt, p.until = start, start.Add(paceWindow)
		p.rollLocked(start.Add(paceWindow)) // one accepted call: paced at cutTo per second
		if p.lim == nil {
			p.mu.Unlock()
			t.Fatal("a second with half its calls refused did not start pacing")
		}
		r := p.lim.ReserveN(p.until, 1)
		p.mu.Unlock()
		slots = append(slots, r.DelayFrom(p.until))
	}
	second := float64(time.Second)
	interval := time.Duration(second / float64(cutTo))
	var early, late int
	for _, d := range slots {
		if d < 0 || d > interval {
			t.Fatalf("first slot %v after the hold, want within one interval (%v)", d, interval)
		}
		if d < interval/2 {
			early++
		} else {
			late++
		}
	}
	// 200 uniform draws: each half gets fewer than 60 with a chance below 1e-8.
	if early < 60 || late < 60 {
		t.Errorf("first slots not spread over the interval: %d in its first half, %d in its second", early, late)
	}
}

// TestPacingEndsOnlyWhenIdle: a quiet spell ends pacing only when no attempt
// waited for the pace in it; a container still busy at its pace keeps it.
func TestPacingEndsOnlyWhenIdle(t *testing.T) {
	tests := []struct {
		name      string
		boundAgo  time.Duration // since an attempt last waited for the pace
		wantEnded bool
	}{
		{name: "busy at its pace", boundAgo: time.Second, wantEnded: false},
		{name: "idle for the quiet spell", boundAgo: quietFor + time.Second, wantEnded: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			p := pacer{lim: rate.NewLimiter(2, 1), last429: now.Add(-quietFor - 2*time.Second), bound: now.Add(-tt.boundAgo)}
			p.active.Store(true)
			p.winStart, p.winCount = now.Add(-paceWindow), 3
			p.mu.Lock()
			p.rollLocked(now)
			p.mu.Unlock()
			if ended := p.lim == nil && !p.active.Load(); ended != tt.wantEnded {
				t.Errorf("pacing ended: %v, want %v", ended, tt.wantEnded)
			}
		})
	}
}

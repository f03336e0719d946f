package talkjstest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// limiterState is the app's rate limit: a token bucket shared by every client
// of the emulator, as TalkJS limits an app, not a connection.
type limiterState struct {
	lim    *rate.Limiter // nil: no limit (the default)
	queue  int           // how many requests over the limit may wait instead of being refused
	queued int           // requests waiting now
}

// SetRateLimit limits the app to rps requests per second, with bursts of up
// to burst requests, shared by every client of this emulator (as many Lambda
// containers share one TalkJS app). A request over the limit is answered 429
// with a Retry-After header in whole seconds, rounded up (at least 1), and
// counted in Counters.RateLimited. A batch counts as one request. rps <= 0
// removes the limit (the default). A burst below 1 is taken as 1.
//
// TalkJS documents only its batch limits (500 burst, a queue of 100, one
// batch per second) and neither the status nor Retry-After; 429 with
// Retry-After is the emulator's assumption (see the package documentation).
// Faults apply before the limit, and the limit before authentication. Reset
// does not change the limit, but refills the bucket.
func (e *Emulator) SetRateLimit(rps float64, burst int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rps <= 0 {
		e.limit.lim = nil
		return
	}
	e.limit.lim = rate.NewLimiter(rate.Limit(rps), max(burst, 1))
}

// SetRateLimitQueue lets up to n requests over the rate limit wait for their
// turn instead of being refused, as TalkJS's "maximum queue length" suggests
// (default 0: refuse at once). A waiting request that its client abandons is
// dropped.
func (e *Emulator) SetRateLimitQueue(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limit.queue = max(n, 0)
}

// admit applies the rate limit. It answers 429 itself and returns false when
// the request is refused.
func (e *Emulator) admit(w http.ResponseWriter, r *http.Request) bool {
	e.mu.Lock()
	lim := e.limit.lim
	if lim == nil {
		e.mu.Unlock()
		return true
	}
	now := time.Now() // the limiter runs on real time even under SetClock: a queued request really waits
	res := lim.ReserveN(now, 1)
	d := res.DelayFrom(now)
	if d == 0 {
		e.mu.Unlock()
		return true
	}
	if e.limit.queued < e.limit.queue && res.OK() {
		e.limit.queued++
		e.mu.Unlock()
		t := time.NewTimer(d)
		defer t.Stop()
		ok := true
		select {
		case <-t.C:
		case <-r.Context().Done():
			res.Cancel()
			ok = false
		}
		e.mu.Lock()
		e.limit.queued--
		e.mu.Unlock()
		if ok {
			return true
		}
	} else {
		res.CancelAt(now)
		e.mu.Unlock()
	}
	secs := max(int64(math.Ceil(d.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeJSON(w, http.StatusTooManyRequests, errBody("RATE_LIMITED",
		fmt.Sprintf("rate limit exceeded: retry after %d s", secs)))
	return false
}

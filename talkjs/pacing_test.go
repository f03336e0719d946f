package talkjs

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// limitedServer answers its first request 429 with Retry-After: 1, then 200.
func limitedServer(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	srv, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			answer(w, 429, "{}")
			return
		}
		answer(w, 200, "{}")
	})
	return srv, rec
}

func TestPacingHoldsAfter429(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		wantReqs  int  // requests that reached the server after two calls
		wantHeldB bool // the second call was held back without sending
	}{
		{name: "pacing on (default): the second call is not sent into the limit", wantReqs: 1, wantHeldB: true},
		{name: "pacing off: the second call is sent", opts: []Option{WithPacing(false)}, wantReqs: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := limitedServer(t)
			c := newTestClient(t, srv, tt.opts...)
			// Each call has less time than the Retry-After: neither may wait it out.
			call := func() error {
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				defer cancel()
				return c.UpsertUser(ctx, "u1", UserUpdate{})
			}
			if err := call(); !errors.Is(err, ErrRateLimited) {
				t.Fatalf("first call: %v, want a 429 (ErrRateLimited)", err)
			}
			errB := call()
			if got := rec.count(); got != tt.wantReqs {
				t.Errorf("%d requests reached the server, want %d", got, tt.wantReqs)
			}
			var apiErr *APIError
			held := errors.Is(errB, ErrRateLimited) && !errors.As(errB, &apiErr)
			if held != tt.wantHeldB {
				t.Errorf("second call: %v; held back without sending: %v, want %v", errB, held, tt.wantHeldB)
			}
			if held && !Retryable(errB) {
				t.Errorf("a call held back by pacing is not retryable: %v", errB)
			}
		})
	}
}

func TestPacingCutsAndRecoversRate(t *testing.T) {
	var p pacer
	// Use 50 attempts over about 100 ms so the pacer measures a rate.
	for range 50 {
		if err := p.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	p.observe(http.StatusTooManyRequests, 0)
	first := p.lim.Limit()
	if first <= 0 || float64(first) > 500 {
		t.Fatalf("after a 429 the rate is %v, want half of the measured rate", first)
	}
	// More 429s within the same second are one signal: no further cut.
	p.observe(http.StatusTooManyRequests, 0)
	if got := p.lim.Limit(); got != first {
		t.Errorf("a second 429 within a second cut the rate again: %v -> %v", first, got)
	}
	if !p.until.IsZero() {
		t.Errorf("a 429 without Retry-After set a hold until %v", p.until)
	}
	// A success a second later raises it by a tenth; pretend time has passed.
	p.lastCut = p.lastCut.Add(-2 * time.Second)
	p.lastRaise = p.lastRaise.Add(-2 * time.Second)
	p.observe(http.StatusOK, 0)
	if got, want := p.lim.Limit(), first+max(first/10, paceIncrement); got != want {
		t.Errorf("a success after a quiet second set the rate to %v, want %v", got, want)
	}
	// A success within the same second does not raise it again.
	p.observe(http.StatusOK, 0)
	if got, want := p.lim.Limit(), first+max(first/10, paceIncrement); got != want {
		t.Errorf("a second success within a second raised the rate to %v", got)
	}
	// Near maxPace pacing stops.
	p.lim.SetLimit(maxPace - 1)
	p.lastRaise = p.lastRaise.Add(-2 * time.Second)
	p.observe(http.StatusOK, 0)
	if p.lim != nil {
		t.Errorf("pacing at %v did not stop past maxPace", p.lim.Limit())
	}
	if p.limited != 2 {
		t.Errorf("counted %d 429s, want 2", p.limited)
	}
}

package talkjstest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Fault makes the emulator misbehave on purpose, as an outage would. Faults are
// checked before any handling (before authentication and validation); a request
// a fault applies to is still logged, with Request.Fault set. When several faults
// match, the first one added that applies wins.
type Fault struct {
	// ConversationID limits the fault to requests whose path names this
	// conversation, and to the batch operations that do (Status only there);
	// "" matches every request.
	ConversationID string
	// Status, when not 0, is the answer instead of handling the request: 500,
	// 502, 503 or 429 for an outage, or a 4xx for a permanent refusal.
	Status int
	// RetryAfter sets the Retry-After header (whole seconds, rounded up) along
	// with Status.
	RetryAfter time.Duration
	// Latency delays the answer. The wait ends early if the request's context
	// ends (the client gave up). With neither Status nor Drop, the request is
	// then handled normally.
	Latency time.Duration
	// Drop closes the connection without any answer, after Latency.
	Drop bool
	// Times is how many matching requests the fault applies to; 0 means until
	// ClearFaults.
	Times int
	// Probability, when not 0, is the fraction of matching requests the fault
	// applies to, drawn from a generator seeded with SetSeed.
	Probability float64
}

type faultRec struct {
	Fault
	used int
}

// AddFault adds a fault after the ones already set.
func (e *Emulator) AddFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultRec{Fault: f})
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// SetSeed reseeds the generators that decide probabilistic faults and the
// order batch operations run in, so a run with the same seed and the same
// request order faults the same requests and runs batches alike.
func (e *Emulator) SetSeed(seed int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rng = rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	e.batchRng = rand.New(rand.NewPCG(uint64(seed)^0xbf58476d1ce4e5b9, uint64(seed)))
}

// pickFaultLocked returns the fault that applies to a request for the given
// conversation ("" for none), using up one of its Times, or nil.
func (e *Emulator) pickFaultLocked(conversationID string) *Fault {
	return e.pickLocked(func(f *faultRec) bool {
		return f.ConversationID == "" || f.ConversationID == conversationID
	})
}

// pickStatusFaultLocked is pickFaultLocked for one operation of a batch: only
// faults scoped to the conversation and carrying a Status count.
func (e *Emulator) pickStatusFaultLocked(conversationID string) *Fault {
	return e.pickLocked(func(f *faultRec) bool {
		return f.ConversationID != "" && f.ConversationID == conversationID && f.Status != 0
	})
}

func (e *Emulator) pickLocked(matches func(*faultRec) bool) *Fault {
	for _, f := range e.faults {
		if !matches(f) || (f.Times > 0 && f.used >= f.Times) {
			continue
		}
		// Draw only for matching faults, so unrelated traffic does not shift
		// which requests a seeded fault hits.
		if f.Probability > 0 && e.rng.Float64() >= f.Probability {
			continue
		}
		f.used++
		copied := f.Fault
		return &copied
	}
	return nil
}

// serveFault carries out a fault. It returns the status written, or 0 when
// nothing was written (dropped, client gone, or a latency-only fault).
func (e *Emulator) serveFault(w http.ResponseWriter, r *http.Request, f *Fault) int {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return 0
		case <-t.C:
		}
	}
	if f.Drop {
		hj, ok := w.(http.Hijacker)
		if !ok {
			// HTTP/2 cannot hijack; aborting the handler resets the stream,
			// which a client sees as a broken connection too.
			panic(http.ErrAbortHandler)
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return 0
	}
	if f.Status == 0 {
		return 0
	}
	if f.RetryAfter > 0 {
		secs := (f.RetryAfter + time.Second - 1) / time.Second
		w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	return writeJSON(w, f.Status, errBody("INJECTED_FAULT", fmt.Sprintf("talkjstest: injected fault %d %s", f.Status, http.StatusText(f.Status))))
}

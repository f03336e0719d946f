package inbox

import (
	"sync"
	"time"
	"unicode/utf8"
)

// Kinds of Failure.
const (
	// KindRefused is a webhook answered with a 4xx status: bad signature,
	// unknown route, a payload the route cannot map, or a message TalkJS
	// refused. The sender gave up or will retry; nothing was queued.
	KindRefused = "refused"
	// KindRejected is a queue record the queue handler forwards to the
	// rejects queue: it can never be delivered as it is.
	KindRejected = "rejected"
)

// DefaultMaxFailures is how many failures NewFailures keeps when given a
// size below 1.
const DefaultMaxFailures = 100

// maxReason bounds the text kept per failure, so a sender echoing a huge
// body into an error cannot grow the inbox's memory.
const maxReason = 2000

// Failure is one delivery that did not become a message, as the inbox lists it.
type Failure struct {
	Kind string `json:"kind"` // KindRefused or KindRejected
	At   int64  `json:"at"`   // Unix milliseconds; Add sets it when zero
	// Route is the webhook route, for refused webhooks.
	Route string `json:"route,omitempty"`
	// ID is the SQS message id of a rejected record.
	ID string `json:"id,omitempty"`
	// Status is the HTTP status the webhook got, or TalkJS's status when
	// TalkJS refused a queued record.
	Status int `json:"status,omitempty"`
	// Error is the short title ("signature not verified"), Reason the detail.
	Error  string `json:"error"`
	Reason string `json:"reason,omitempty"`
}

// Failures keeps the latest failures in memory, a fixed number of them, for
// the inbox to list. The zero value is not usable; use NewFailures. A nil
// *Failures lists nothing. It is safe for concurrent use.
type Failures struct {
	mu      sync.Mutex
	ring    []Failure
	next    int // where the next one goes
	n       int // how many are held
	dropped int
	now     func() time.Time
}

// NewFailures returns a Failures keeping the latest size failures (default
// DefaultMaxFailures when size < 1).
func NewFailures(size int) *Failures {
	if size < 1 {
		size = DefaultMaxFailures
	}
	return &Failures{ring: make([]Failure, size), now: time.Now}
}

// Add records f, dropping the oldest failure when full. Adding the same
// failure twice lists it twice.
func (fs *Failures) Add(f Failure) {
	if fs == nil {
		return
	}
	f.Error, f.Reason = cut(f.Error), cut(f.Reason)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f.At == 0 {
		f.At = fs.now().UnixMilli()
	}
	if fs.n == len(fs.ring) {
		fs.dropped++
	} else {
		fs.n++
	}
	fs.ring[fs.next] = f
	fs.next = (fs.next + 1) % len(fs.ring)
}

// List returns the failures held, newest first, and how many older ones
// were dropped.
func (fs *Failures) List() ([]Failure, int) {
	if fs == nil {
		return nil, 0
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Failure, 0, fs.n)
	for k := 1; k <= fs.n; k++ {
		out = append(out, fs.ring[(fs.next-k+len(fs.ring))%len(fs.ring)])
	}
	return out, fs.dropped
}

// cut bounds s to maxReason bytes without splitting a character.
func cut(s string) string {
	if len(s) <= maxReason {
		return s
	}
	s = s[:maxReason]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

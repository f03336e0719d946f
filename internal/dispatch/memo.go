package dispatch

import (
	"sync"
	"time"
)

// Memo remembers, across the invocations of a warm container, which user
// and conversation upserts TalkJS has accepted, so an event for a
// conversation already set up costs one TalkJS call (the message) instead of
// three. It can be wrong: someone may delete the conversation or remove a
// participant in TalkJS meanwhile. So entries expire after TTL, and a send
// that TalkJS refuses after upserts were skipped is repeated once with the
// upserts made (Sender.Deliver). Safe for concurrent use.
type Memo struct {
	// TTL bounds how long an upsert is trusted; zero means DefaultMemoTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time
}

// DefaultMemoTTL is how long a Memo trusts an upsert by default.
const DefaultMemoTTL = 5 * time.Minute

// maxMemo bounds the entries kept, so a container that sees many distinct
// conversations does not grow without end.
const maxMemo = 10000

func (m *Memo) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Memo) ttl() time.Duration {
	if m.TTL > 0 {
		return m.TTL
	}
	return DefaultMemoTTL
}

func (m *Memo) has(key string) bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.seen[key]
	if ok && m.now().Sub(at) >= m.ttl() {
		delete(m.seen, key)
		return false
	}
	return ok
}

func (m *Memo) put(key string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil || len(m.seen) >= maxMemo {
		m.seen = make(map[string]time.Time)
	}
	m.seen[key] = m.now()
}

func (m *Memo) forget(keys []string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.seen, k)
	}
}

package soak_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/secretsource"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

const (
	appID    = "tSoak"
	key1     = "sk_test_soak_key_one_0123456789"
	key2     = "sk_test_soak_key_two_9876543210"
	secretID = "talkjs-bridge/soak"

	// maxReceiveCount is the redrive policy of the simulated queue: a record
	// reported this many times goes to the dead-letter queue.
	maxReceiveCount = 5
	batchSize       = 10
	pollers         = 2
	// visibilityTicks is the visibility timeout, in receives: a reported
	// record (and, for FIFO, its whole group) is invisible that long.
	visibilityTicks = 8
	// invocationTimeout is the Lambda deadline of one batch. It is shorter
	// than the 1 s Retry-After the emulator sends with a 429 (it rounds up
	// to whole seconds), so the client gives the 429 back instead of
	// sleeping through it, and SQS redelivers the record later.
	invocationTimeout = 900 * time.Millisecond
)

var rejectsURL = awstest.QueueURL("soak-rejects")

// records is the size of a run: SOAK_RECORDS when set, else a size that
// takes seconds under -race on two busy cores.
func records(t *testing.T, def int) int {
	t.Helper()
	if s := os.Getenv("SOAK_RECORDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SOAK_RECORDS=%q is not a positive number", s)
		}
		return n
	}
	return def
}

// record is one SQS message and what the test expects of it.
type record struct {
	seq     int
	msg     events.SQSMessage
	group   string
	conv    string
	markers []string // one per message it sends, found in the message text
	invalid bool     // can never be delivered: must end in the rejects queue

	// Set by the simulator.
	order      int // position in the queue; FIFO records keep theirs
	visibleAt  int // tick from which a reported record is visible again
	receives   int
	dead       bool
	lastBatch  int
	deliveredN int // receives after which it was not reported
}

// generate makes n records: commands to standard conversations (often in
// runs of the same conversation, so they coalesce), FIFO groups with their
// own conversations, route-mapped records, and records that can never be
// valid.
func generate(rng *rand.Rand, n int) []*record {
	var out []*record
	prevConv := "s-0"
	for i := range n {
		r := &record{seq: i}
		id := fmt.Sprintf("msg-%05d", i)
		mark := func(k int) string { m := fmt.Sprintf("rec-%d-m%d", i, k); r.markers = append(r.markers, m); return m }
		var body string
		switch p := rng.Float64(); {
		case p < 0.06:
			r.invalid = true
			body = []string{
				`{"conversationId":`,
				`{"conversationId":"s-1"}`,
				`{"converstionId":"s-1","message":{"type":"SystemMessage","text":"typo"}}`,
				`{"conversationId":"s-1","message":{"type":"UserMessage","text":"no sender"}}`,
				`[]`,
				`{"route":"nope","payload":{}}`,
			}[rng.IntN(6)]
		case p < 0.22:
			// Groups g-0..g-3 share conversations two by two, so lanes
			// must join them; the others have a conversation each.
			g := rng.IntN(14)
			r.group, r.conv = fmt.Sprintf("g-%d", g), fmt.Sprintf("f-%d", max(g-2, g/2))
			body = fmt.Sprintf(`{"conversationId":%q,"message":{"type":"SystemMessage","text":%q}}`, r.conv, mark(0))
			if rng.IntN(3) == 0 {
				body = fmt.Sprintf(`{"conversationId":%q,"idempotencyKey":"fifo-%d","messages":[{"type":"SystemMessage","text":%q},{"type":"UserMessage","sender":"bot","text":%q}]}`,
					r.conv, i, mark(0), mark(1))
			}
		case p < 0.25:
			r.conv = "alerts-soak-c06f543b3ea6" // slugid of the receiver "soak"
			body = fmt.Sprintf(`{"route":"alertmanager","payload":{"status":"firing","receiver":"soak","groupLabels":{"alertname":%q},"alerts":[{"labels":{"alertname":"x"}}],"groupKey":"%d"}}`, mark(0), i)
		default:
			r.conv = prevConv
			if rng.Float64() > 0.35 {
				r.conv = fmt.Sprintf("s-%d", rng.IntN(30))
			}
			prevConv = r.conv
			switch rng.IntN(4) {
			case 0:
				body = fmt.Sprintf(`{"conversationId":%q,"conversation":{"subject":"Soak %s","participants":["bot"]},"users":{"bot":{"name":"Soak bot"}},"message":{"type":"UserMessage","sender":"bot","text":%q}}`, r.conv, r.conv, mark(0))
			case 1:
				body = fmt.Sprintf(`{"conversationId":%q,"messages":[{"type":"SystemMessage","text":%q},{"type":"SystemMessage","text":%q,"idempotencyKey":"own-%d"}]}`, r.conv, mark(0), mark(1), i)
			default:
				body = fmt.Sprintf(`{"conversationId":%q,"message":{"type":"SystemMessage","text":%q}}`, r.conv, mark(0))
			}
		}
		r.msg = events.SQSMessage{MessageId: id, Body: body, EventSource: "aws:sqs", Attributes: map[string]string{},
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:soak"}
		if r.group != "" {
			r.msg.Attributes["MessageGroupId"] = r.group
			r.msg.EventSourceARN += ".fifo"
		}
		out = append(out, r)
	}
	return out
}

// sqsSim hands out batches the way SQS does for a Lambda event source
// mapping: up to ten visible records, a FIFO group's records in order and
// only while no other batch holds one of them; reported records come back
// (standard ones at the end of the queue), and go to the DLQ after
// maxReceiveCount receives.
type sqsSim struct {
	mu       sync.Mutex
	pending  []*record
	inFlight map[string]bool // FIFO groups held by a batch
	busy     int             // batches being handled
	next     int
	tick     int // advances with each receive: the simulator's clock
	batches  int
	redelivs int
	dead     []*record
}

func newSim(recs []*record) *sqsSim {
	s := &sqsSim{inFlight: map[string]bool{}}
	for _, r := range recs {
		r.order = s.next
		s.next++
		s.pending = append(s.pending, r)
	}
	return s
}

// receive returns the next batch, or nil when the queue is drained. It
// waits while other batches are in flight and nothing is visible.
func (s *sqsSim) receive() ([]*record, int) {
	for {
		s.mu.Lock()
		s.tick++
		var batch []*record
		blocked := map[string]bool{}
		var rest []*record
		soonest := -1
		for _, r := range s.pending {
			take := len(batch) < batchSize && r.visibleAt <= s.tick
			if r.group != "" && (s.inFlight[r.group] || blocked[r.group]) {
				take = false
			}
			if r.visibleAt > s.tick && (soonest < 0 || r.visibleAt < soonest) {
				soonest = r.visibleAt
			}
			if take {
				r.receives++
				batch = append(batch, r)
			} else {
				if r.group != "" {
					// A group's later record never overtakes an earlier one.
					blocked[r.group] = true
				}
				rest = append(rest, r)
			}
		}
		if len(batch) > 0 {
			s.pending = rest
			for _, r := range batch {
				if r.group != "" {
					s.inFlight[r.group] = true
				}
			}
			s.busy++
			s.batches++
			n := s.batches
			s.mu.Unlock()
			return batch, n
		}
		done := s.busy == 0 && len(s.pending) == 0
		if s.busy == 0 && soonest > 0 {
			// Only invisible records are left: let the time pass.
			s.tick = soonest - 1
		}
		s.mu.Unlock()
		if done {
			return nil, 0
		}
		time.Sleep(time.Millisecond)
	}
}

// settle takes a handled batch back: reported records return to the queue
// or go to the DLQ.
func (s *sqsSim) settle(batch []*record, failed map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range batch {
		if r.group != "" {
			delete(s.inFlight, r.group)
		}
		if !failed[r.msg.MessageId] {
			r.deliveredN++
			continue
		}
		if r.receives >= maxReceiveCount {
			r.dead = true
			s.dead = append(s.dead, r)
			continue
		}
		s.redelivs++
		r.visibleAt = s.tick + visibilityTicks
		if r.group == "" {
			r.order = s.next
			s.next++
		}
		s.pending = append(s.pending, r)
	}
	sort.SliceStable(s.pending, func(i, j int) bool { return s.pending[i].order < s.pending[j].order })
	s.busy--
}

// faults adds the outage mix: 10% 5xx, 5% 429 (with retryAfter as its
// Retry-After when not 0), 2% dropped connections, 1% permanent 4xx, and
// latency on a fifth of the rest. The emulator applies the first fault whose
// draw hits, so each probability is the wanted share of what the faults
// before it left.
func faults(emu *talkjstest.Emulator, seed int64, retryAfter time.Duration) {
	emu.SetSeed(seed)
	left := 1.0
	add := func(share float64, f talkjstest.Fault) {
		f.Probability = share / left
		left -= share
		emu.AddFault(f)
	}
	add(0.05, talkjstest.Fault{Status: 500})
	add(0.05, talkjstest.Fault{Status: 503})
	add(0.05, talkjstest.Fault{Status: 429, RetryAfter: retryAfter})
	add(0.02, talkjstest.Fault{Drop: true})
	add(0.01, talkjstest.Fault{Status: 400})
	add(0.20, talkjstest.Fault{Latency: 2 * time.Millisecond})
}

// variant is one way of running the soak.
type variant struct {
	name string
	// keys returns the client's key source, a hook run after each batch
	// with its number (to make an outage or rotate the key), and a report
	// for the summary line that fails t if the variant's event did not
	// happen. size is the number of records, to place the event.
	keys func(t *testing.T, emu *talkjstest.Emulator, size int) (talkjs.KeySource, func(batch int), func(t *testing.T) string)
	size int
}

func TestFaultSoak(t *testing.T) {
	n := records(t, 2000)
	variants := []variant{
		{name: "faults", size: n, keys: func(*testing.T, *talkjstest.Emulator, int) (talkjs.KeySource, func(int), func(*testing.T) string) {
			return talkjs.StaticKey(key1), func(int) {}, func(*testing.T) string { return "" }
		}},
		{name: "secrets-manager-outage", size: max(n/2, 1), keys: secretsOutage},
		{name: "key-rotation", size: max(n/2, 1), keys: keyRotation},
	}
	for i, v := range variants {
		t.Run(v.name, func(t *testing.T) { soak(t, v, int64(100+i)) })
	}
}

// fakeClock is the secret cache's clock; each batch moves it on, so a
// short TTL expires many times in one run without the test waiting.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }
func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func secretJSON(key string) string { return fmt.Sprintf(`{"appId":%q,"secretKey":%q}`, appID, key) }
func awsServer(t *testing.T) (*awstest.Server, string) {
	t.Helper()
	s := awstest.New()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// secretsOutage serves the key through the real Secrets Manager client and
// cache, then makes Secrets Manager fail for a stretch of batches. The cache
// has no grace period, so the outage reaches the records (they are retried)
// rather than being hidden by the cached key.
func secretsOutage(t *testing.T, _ *talkjstest.Emulator, size int) (talkjs.KeySource, func(int), func(*testing.T) string) {
	sm, url := awsServer(t)
	sm.SetSecret(secretID, secretJSON(key1))
	clock := newClock()
	src := secretsource.NewFromConfig(awstest.Config(url), secretID, secretsource.Options{TTL: time.Minute, Grace: -1, Now: clock.now})
	start := eventBatch(size)
	callsAtStart := -1
	after := func(batch int) {
		clock.advance(15 * time.Second)
		switch batch {
		case start:
			callsAtStart = sm.Calls(awstest.GetSecretValue)
			sm.Fail(true)
		case start + 12:
			sm.Fail(false)
		}
	}
	return src, after, func(t *testing.T) string {
		calls := sm.Calls(awstest.GetSecretValue)
		if callsAtStart < 0 || calls <= callsAtStart {
			t.Errorf("the outage never reached the key cache (began: %v; GetSecretValue calls %d, %d when it began)", callsAtStart >= 0, calls, callsAtStart)
		}
		return fmt.Sprintf("GetSecretValue calls %d", calls)
	}
}

// eventBatch is the batch after which a variant's outage or rotation
// starts: a third of the way through the records' first delivery.
func eventBatch(size int) int { return max(size/batchSize/3, 1) }

// keyRotation rotates the TalkJS key mid-run: Secrets Manager gets the new
// value, then TalkJS stops accepting the old one; the client's 401 makes the
// cache fetch the new key.
func keyRotation(t *testing.T, emu *talkjstest.Emulator, size int) (talkjs.KeySource, func(int), func(*testing.T) string) {
	sm, url := awsServer(t)
	sm.SetSecret(secretID, secretJSON(key1))
	clock := newClock()
	src := secretsource.NewFromConfig(awstest.Config(url), secretID, secretsource.Options{TTL: time.Hour, Now: clock.now})
	at, rotated := eventBatch(size), false
	after := func(batch int) {
		clock.advance(15 * time.Second)
		if batch == at {
			sm.SetSecret(secretID, secretJSON(key2))
			emu.SetSecretKey(key2)
			rotated = true
		}
	}
	return src, after, func(t *testing.T) string {
		calls := sm.Calls(awstest.GetSecretValue)
		if !rotated || calls < 2 {
			t.Errorf("the key was not rotated and refetched (rotated: %v; GetSecretValue calls %d)", rotated, calls)
		}
		return fmt.Sprintf("GetSecretValue calls %d", calls)
	}
}

// countingTalkJS counts message sends, and those that carry the messages of
// several records (coalesced runs: more markers than one record has).
type countingTalkJS struct {
	dispatch.TalkJS
	sends, coalesced atomic.Int64
}

func (c *countingTalkJS) SendMessages(ctx context.Context, conv string, msgs ...talkjs.NewMessage) ([]string, error) {
	c.sends.Add(1)
	recs := map[string]bool{}
	for _, m := range msgs {
		if mm := markerRE.FindStringSubmatch(m.Text); mm != nil {
			recs[mm[1]] = true
		}
	}
	if len(recs) > 1 {
		c.coalesced.Add(1)
	}
	return c.TalkJS.SendMessages(ctx, conv, msgs...)
}

// lossyTransport loses the answer to a share of message sends after TalkJS
// handled them, as a connection reset or a timeout on the way back would.
// The emulator's own faults all strike before handling; this is the case
// idempotency keys exist for: the send is repeated and must not show twice.
type lossyTransport struct {
	base  http.RoundTripper
	mu    sync.Mutex
	rng   *rand.Rand
	share float64
	lost  atomic.Int64
}

func (l *lossyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/messages") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	l.mu.Lock()
	lose := l.rng.Float64() < l.share
	l.mu.Unlock()
	if !lose {
		return resp, nil
	}
	_ = resp.Body.Close()
	l.lost.Add(1)
	return nil, errors.New("soak: connection reset after TalkJS answered")
}

var markerRE = regexp.MustCompile(`rec-(\d+)-m(\d+)`)

// seedTalkJS adds the user and the conversations generate's records send to.
func seedTalkJS(emu *talkjstest.Emulator) {
	emu.PutUser(talkjstest.User{ID: "bot", Name: "Soak bot"})
	for i := range 30 {
		emu.PutConversation(talkjstest.Conversation{ID: fmt.Sprintf("s-%d", i), Participants: talkjstest.Participants("bot")})
	}
	for i := range 12 {
		emu.PutConversation(talkjstest.Conversation{ID: fmt.Sprintf("f-%d", i), Participants: talkjstest.Participants("bot")})
	}
}

// handleFunc handles one SQS batch the way the queue function does: the
// handler in this process, or the real bootstrap behind the emulator.
type handleFunc func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// drive feeds recs through handle from the simulated queue with n pollers,
// until every record is acknowledged or dead-lettered. after runs after each
// batch with its number. It returns the simulator and, per batch, the
// records that batch acknowledged.
func drive(t *testing.T, recs []*record, n int, handle handleFunc, after func(batch int)) (*sqsSim, [][]*record) {
	t.Helper()
	sim := newSim(recs)
	var (
		mu       sync.Mutex
		perBatch [][]*record // records each batch delivered (not reported)
		wg       sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			for {
				batch, num := sim.receive()
				if batch == nil {
					return
				}
				ev := events.SQSEvent{}
				for _, r := range batch {
					m := r.msg
					m.Attributes = map[string]string{"ApproximateReceiveCount": strconv.Itoa(r.receives)}
					if r.group != "" {
						m.Attributes["MessageGroupId"] = r.group
					}
					ev.Records = append(ev.Records, m)
				}
				resp, err := handle(t.Context(), ev)
				failed := map[string]bool{}
				if err != nil {
					// A function error makes SQS redeliver the whole batch.
					for _, r := range batch {
						failed[r.msg.MessageId] = true
					}
				}
				for _, f := range resp.BatchItemFailures {
					failed[f.ItemIdentifier] = true
				}
				var ok []*record
				for _, r := range batch {
					if !failed[r.msg.MessageId] {
						r.lastBatch = num
						ok = append(ok, r)
					}
				}
				mu.Lock()
				perBatch = append(perBatch, ok)
				mu.Unlock()
				sim.settle(batch, failed)
				after(num)
			}
		})
	}
	wg.Wait()
	return sim, perBatch
}

// tally is how a run's records ended.
type tally struct {
	delivered, rejected, dead, lost, dups    int
	rejectedAfterDelivery, deadAfterDelivery int
}

// check asserts what a run must hold: every record of recs is delivered
// exactly once (its markers in the emulator, each idempotency key stored
// once), forwarded to the rejects queue (sent) with its reason, or
// dead-lettered; none lost or duplicated; FIFO order kept within each group
// and conversation, and batch order within each conversation. It also fails
// the run when it exercised nothing (no fault, no redelivery, most records
// lost to the faults).
func check(t *testing.T, recs []*record, sim *sqsSim, perBatch [][]*record, emu *talkjstest.Emulator, sent []awstest.Message) tally {
	t.Helper()
	// What reached TalkJS: every message, by marker and by idempotency key.
	type place struct {
		conv string
		pos  int
	}
	seen := map[string][]place{}
	keysSeen := map[string]int{}
	for _, conv := range emu.Conversations() {
		for pos, m := range emu.Messages(conv.ID) {
			if m.IdempotencyKey == "" {
				t.Errorf("message %s in %s has no idempotency key", m.ID, conv.ID)
			}
			keysSeen[conv.ID+"\x00"+m.IdempotencyKey]++
			marks := map[string]bool{}
			for _, mm := range markerRE.FindAllString(m.Text, -1) {
				marks[mm] = true
			}
			for mm := range marks {
				seen[mm] = append(seen[mm], place{conv.ID, pos})
			}
		}
	}
	for k, n := range keysSeen {
		if n > 1 {
			t.Errorf("idempotency key %q stored %d times", strings.ReplaceAll(k, "\x00", " "), n)
		}
	}

	// What reached the rejects queue.
	rejected := map[string]queue.Rejection{}
	for _, m := range sent {
		var r queue.Rejection
		if err := json.Unmarshal([]byte(m.Body), &r); err != nil {
			t.Fatalf("rejection is not JSON: %v", err)
		}
		if _, dup := rejected[r.MessageID]; dup {
			t.Errorf("record %s forwarded to the rejects queue twice", r.MessageID)
		}
		rejected[r.MessageID] = r
	}

	var n tally
	for _, r := range recs {
		copies := -1
		for _, m := range r.markers {
			c := len(seen[m])
			if c > 1 {
				n.dups++
				t.Errorf("record %s: message %s stored %d times", r.msg.MessageId, m, c)
			}
			if copies == -1 || c < copies {
				copies = c
			}
		}
		isDelivered := len(r.markers) > 0 && copies >= 1
		if len(r.markers) > 0 && !isDelivered {
			for _, m := range r.markers {
				if len(seen[m]) > 0 {
					t.Errorf("record %s delivered in part: %s stored, others not", r.msg.MessageId, m)
				}
			}
		}
		rej, isRejected := rejected[r.msg.MessageId]
		if isRejected && (strings.Contains(rej.Reason, "unavailable") || rej.Status == 401 || rej.Status == 429 || rej.Status >= 500) {
			t.Errorf("record %s rejected for a temporary failure (it must be retried): %s", r.msg.MessageId, rej.Reason)
		}
		if isRejected && (rej.Reason == "" || rej.Body != r.msg.Body || rej.Group != r.group) {
			t.Errorf("record %s rejected without a reason, its body or its group: %+v", r.msg.MessageId, rej)
		}
		switch {
		case r.invalid && isDelivered:
			t.Errorf("invalid record %s was delivered", r.msg.MessageId)
		case r.invalid && !isRejected && !r.dead:
			t.Errorf("invalid record %s was neither rejected nor dead-lettered", r.msg.MessageId)
		}
		switch {
		case isDelivered && isRejected:
			// Possible only when a send reached TalkJS but its answer did
			// not reach the client, and a later receive was refused for
			// good; the redrive would be deduplicated by the key.
			n.rejectedAfterDelivery++
			n.delivered++
		case isDelivered && r.dead:
			n.deadAfterDelivery++
			n.delivered++
		case isDelivered:
			n.delivered++
			if r.deliveredN != 1 {
				t.Errorf("record %s delivered, but acknowledged %d times", r.msg.MessageId, r.deliveredN)
			}
		case isRejected:
			n.rejected++
		case r.dead:
			n.dead++
			if n.dead <= 5 {
				t.Logf("dead-lettered: %s (group %q) after %d receives", r.msg.MessageId, r.group, r.receives)
			}
		default:
			n.lost++
			t.Errorf("record %s lost: not delivered, not rejected, not dead-lettered (receives %d, acknowledged %d)", r.msg.MessageId, r.receives, r.deliveredN)
		}
	}

	// Order: within a FIFO conversation the delivered records appear in
	// the order they were sent; within one batch, records for the same
	// conversation appear in batch order.
	type posOf struct{ seq, m int }
	for i := range 12 {
		conv := fmt.Sprintf("f-%d", i)
		byGroup := map[string][]posOf{}
		for _, m := range emu.Messages(conv) {
			if mm := markerRE.FindStringSubmatch(m.Text); mm != nil {
				seq, _ := strconv.Atoi(mm[1])
				k, _ := strconv.Atoi(mm[2])
				g := recs[seq].group
				byGroup[g] = append(byGroup[g], posOf{seq, k})
			}
		}
		for g, got := range byGroup {
			if !slices.IsSortedFunc(got, func(a, b posOf) int {
				if a.seq != b.seq {
					return a.seq - b.seq
				}
				return a.m - b.m
			}) {
				t.Errorf("FIFO group %s out of order in conversation %s: %v", g, conv, got)
			}
		}
	}
	for _, batch := range perBatch {
		last := map[string]int{}
		for _, r := range batch {
			if r.receives > 1 {
				// An earlier receive may have stored it already (its
				// answer lost); a standard queue promises no order then.
				continue
			}
			for _, m := range r.markers {
				ps := seen[m]
				if len(ps) != 1 {
					continue
				}
				if p, ok := last[ps[0].conv]; ok && ps[0].pos < p {
					t.Errorf("batch order broken in %s: %s stored before an earlier record of its batch", ps[0].conv, r.msg.MessageId)
				}
				last[ps[0].conv] = ps[0].pos
			}
		}
	}

	if n.delivered+n.rejected+n.dead+n.lost != len(recs) {
		t.Errorf("accounting: %d+%d+%d+%d != %d", n.delivered, n.rejected, n.dead, n.lost, len(recs))
	}
	if emu.Counts().Faults == 0 {
		t.Error("no fault was injected: the soak proved nothing")
	}
	if sim.redelivs == 0 {
		t.Error("no record was redelivered: the retry path was not exercised")
	}
	if n.delivered < len(recs)/2 {
		t.Errorf("only %d of %d records delivered: the faults drowned the run", n.delivered, len(recs))
	}
	return n
}

func soak(t *testing.T, v variant, seed int64) {
	start := time.Now()
	srv, emu := talkjstest.NewServer(appID, key1)
	t.Cleanup(srv.Close)
	emu.SetLogLimit(1) // the counters are enough; the log would hold every body
	keys, after, extra := v.keys(t, emu, v.size)
	httpClient := srv.Client()
	lossy := &lossyTransport{base: httpClient.Transport, rng: rand.New(rand.NewPCG(uint64(seed), 11)), share: 0.03}
	httpClient.Transport = lossy
	c, err := talkjs.NewClient(appID, keys, talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(httpClient),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	seedTalkJS(emu)
	faults(emu, seed, time.Millisecond)

	rejects, rejectsURLBase := awsServer(t)
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingTalkJS{TalkJS: c}
	h := &queue.Handler{
		Routes: routes, TalkJS: counted, Concurrency: 4, Logger: slog.New(slog.DiscardHandler),
		Rejects: queue.SQSRejects{Client: sqs.NewFromConfig(awstest.Config(rejectsURLBase)), QueueURL: rejectsURL},
	}
	handle := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, invocationTimeout)
		defer cancel()
		return h.Handle(ctx, ev)
	}

	recs := generate(rand.New(rand.NewPCG(uint64(seed), 7)), v.size)
	sim, perBatch := drive(t, recs, pollers, handle, after)
	n := check(t, recs, sim, perBatch, emu, rejects.Sent())

	counts := emu.Counts()
	t.Logf("soak %s: %d records: delivered %d / rejected %d / dead-lettered %d / lost %d / duplicated %d; TalkJS calls %d (faulted %d, idempotent replays %d; %d sends, %d of them coalesced); answers lost %d; redeliveries %d in %d batches; delivered-then-rejected %d, delivered-then-dead-lettered %d; %s; %s",
		v.name, len(recs), n.delivered, n.rejected, n.dead, n.lost, n.dups, counts.Requests, counts.Faults, counts.IdempotentReplays,
		counted.sends.Load(), counted.coalesced.Load(), lossy.lost.Load(), sim.redelivs, sim.batches, n.rejectedAfterDelivery, n.deadAfterDelivery, extra(t), time.Since(start).Round(time.Millisecond))
	if lossy.lost.Load() > 0 && counts.IdempotentReplays == 0 {
		t.Error("answers were lost after TalkJS stored the messages, yet no send was replayed: the duplicate path was not exercised")
	}
	if counted.coalesced.Load() == 0 {
		t.Error("no send coalesced several records: the runs of one conversation were not exercised")
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// P8 is a fleet of queue functions under one app's rate limit: K containers,
// each the real queue handler and client built by setup (Deps.Queue), share
// one emulator that allows R requests per second to the whole app, as many
// Lambda containers share one TalkJS app. A stand-in for SQS hands them N
// records to M conversations in batches and delivers the records a function
// reports as failed again, as SQS does after the visibility timeout.

// fleetConfig is one P8 run.
type fleetConfig struct {
	k     int     // concurrent queue functions (QueueMaxConcurrency)
	rps   float64 // the app's limit, requests per second
	burst int     // the limiter's bucket; 0 means one second's worth (rps)
	n     int     // records
	m     int     // conversations
	batch int     // records per invocation (QueueBatchSize); 0 means 10
	// timeout is the function's (template.yaml: 30 s); every invocation
	// runs under it, so the client never waits past it.
	timeout time.Duration
	// redeliver stands in for the visibility timeout (180 s in
	// template.yaml) before a record reported as failed comes back: SQS's
	// real wait would only stretch the run, not change what is counted.
	redeliver time.Duration
}

func (c fleetConfig) normalized() fleetConfig {
	if c.burst <= 0 {
		c.burst = max(int(c.rps), 1)
	}
	if c.batch <= 0 {
		c.batch = 10
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.redeliver <= 0 {
		c.redeliver = time.Second
	}
	return c
}

// fleetResult is what one run measured.
type fleetResult struct {
	cfg         fleetConfig
	elapsed     time.Duration // from the first receive to the last record done
	requests    int           // every request the emulator received
	limited     int           // answered 429 by the rate limit
	sendCalls   int           // message sends answered 2xx
	stored      int           // messages stored
	replays     int           // messages a send repeated (its idempotency key was stored already)
	invocations int
	redelivered int // records delivered more than once
	lost        int // records with no message
	duplicated  int // records with more than one message
	trace       []fleetSecond
}

// rate is the requests per second TalkJS accepted (429s left out).
func (r fleetResult) rate() float64 {
	return float64(r.requests-r.limited) / r.elapsed.Seconds()
}

// share is the rate against the app's limit.
func (r fleetResult) share() float64 { return r.rate() / r.cfg.rps }

// limitedShare is the share of requests answered 429.
func (r fleetResult) limitedShare() float64 {
	if r.requests == 0 {
		return 0
	}
	return float64(r.limited) / float64(r.requests)
}

func (r fleetResult) perCall() float64 {
	if r.sendCalls == 0 {
		return 0
	}
	return float64(r.stored) / float64(r.sendCalls)
}

// met is P8's goal: at least 0.8 of R, at most 5% 429s, nothing lost or
// duplicated.
func (r fleetResult) met() bool {
	return r.share() >= 0.8 && r.limitedShare() <= 0.05 && r.lost == 0 && r.duplicated == 0
}

func (r fleetResult) String() string {
	return fmt.Sprintf("K=%d: %.1f/s = %.2f of R, %.1f msgs/call, 429 %d of %d (%.1f%%), lost %d, dup %d, %d invocations, %d redelivered, %v",
		r.cfg.k, r.rate(), r.share(), r.perCall(), r.limited, r.requests, 100*r.limitedShare(),
		r.lost, r.duplicated, r.invocations, r.redelivered, r.elapsed.Round(100*time.Millisecond))
}

// fleetConversation is the conversation record i goes to: records come in
// runs of n/m to one conversation, as a burst of events about one order or
// ticket does, so a batch of consecutive records shares conversations and
// the handler can put several messages in one call.
func fleetConversation(i, n, m int) string {
	return "p8-" + strconv.Itoa(i*m/n)
}

func fleetRecordID(i int) string { return "p8-rec-" + strconv.Itoa(i) }

// fleetQueue is the SQS stand-in: records in order, handed out in batches;
// a failed record comes back after the redelivery delay.
type fleetQueue struct {
	mu       sync.Mutex
	cond     *sync.Cond
	pending  []int // record indexes, oldest first
	delayed  int   // failed records waiting to come back
	inFlight int   // records handed out and not yet answered
	receives []int // per record
}

func newFleetQueue(n int) *fleetQueue {
	q := &fleetQueue{pending: make([]int, n), receives: make([]int, n)}
	q.cond = sync.NewCond(&q.mu)
	for i := range q.pending {
		q.pending[i] = i
	}
	return q
}

// receive blocks until there are records, and returns nil when every record
// is done.
func (q *fleetQueue) receive(max int) []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.pending) == 0 {
		if q.inFlight == 0 && q.delayed == 0 {
			return nil
		}
		q.cond.Wait()
	}
	n := min(max, len(q.pending))
	got := append([]int(nil), q.pending[:n]...)
	q.pending = q.pending[n:]
	q.inFlight += n
	for _, i := range got {
		q.receives[i]++
	}
	return got
}

// answer takes a batch's result: failed records come back after delay.
func (q *fleetQueue) answer(batch, failed []int, delay time.Duration) {
	q.mu.Lock()
	q.inFlight -= len(batch)
	q.delayed += len(failed)
	q.mu.Unlock()
	q.cond.Broadcast()
	if len(failed) == 0 {
		return
	}
	time.AfterFunc(delay, func() {
		q.mu.Lock()
		q.pending = append(q.pending, failed...)
		q.delayed -= len(failed)
		q.mu.Unlock()
		q.cond.Broadcast()
	})
}

// fleetEvent is the SQS event for records idx: one send command each, the
// record's id as the message's idempotency key (as an SQS message id would
// derive it) and in its custom data, so the messages can be matched to
// records afterwards.
func fleetEvent(idx, receives []int, n, m int) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(idx))}
	for j, i := range idx {
		id := fleetRecordID(i)
		msg := talkjs.NewMessage{Type: talkjs.SystemMessage, Text: "Order update " + id,
			Custom: map[string]string{"record": id}, IdempotencyKey: id}
		body, _ := json.Marshal(map[string]any{"conversationId": fleetConversation(i, n, m), "message": msg})
		ev.Records[j] = events.SQSMessage{
			MessageId:      id,
			ReceiptHandle:  "AQEB" + id,
			Body:           string(body),
			Attributes:     map[string]string{"ApproximateReceiveCount": strconv.Itoa(receives[j]), "SentTimestamp": "1795597200000"},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:talkjs-bridge-CommandQueue",
			AWSRegion:      "us-east-1",
		}
	}
	return ev
}

// runFleet runs one P8 configuration against a fresh emulator.
func runFleet(ctx context.Context, cfg fleetConfig) (fleetResult, error) {
	cfg = cfg.normalized()
	if cfg.k < 1 || cfg.n < 1 || cfg.m < 1 || cfg.m > cfg.n || cfg.rps <= 0 {
		return fleetResult{}, fmt.Errorf("p8: bad configuration %+v", cfg)
	}
	emu := talkjstest.New(benchAppID, benchKey)
	emu.SetRateLimit(cfg.rps, cfg.burst)
	tr := &fleetTrace{start: time.Now()}
	srv := httptest.NewServer(tr.wrap(emu))
	defer srv.Close()
	for c := range cfg.m {
		emu.PutConversation(talkjstest.Conversation{ID: "p8-" + strconv.Itoa(c), Subject: "P8"})
	}

	// Each function is its own container: its own setup, client and pacing.
	fns := make([]*queueFunc, cfg.k)
	for i := range fns {
		f, err := newQueueFunc(ctx, srv.URL, queueConcurrency)
		if err != nil {
			return fleetResult{}, err
		}
		fns[i] = f
	}

	q := newFleetQueue(cfg.n)
	var mu sync.Mutex
	res := fleetResult{cfg: cfg}
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	tr.reset(start)
	for w, f := range fns {
		wg.Go(func() {
			for inv := 0; ; inv++ {
				idx := q.receive(cfg.batch)
				if idx == nil || ctx.Err() != nil {
					if idx != nil {
						q.answer(idx, nil, 0)
					}
					return
				}
				q.mu.Lock()
				receives := make([]int, len(idx))
				for j, i := range idx {
					receives[j] = q.receives[i]
				}
				q.mu.Unlock()
				failed, err := f.invokeBatch(ctx, fmt.Sprintf("p8-%d-%d", w, inv), fleetEvent(idx, receives, cfg.n, cfg.m), cfg.timeout)
				mu.Lock()
				res.invocations++
				// A batch whose every record failed is an invocation error
				// on purpose (queue.ErrBatchFailed): the event source backs
				// off and delivers the batch again, as below. Any other
				// error is the bench's to report.
				if err != nil && !errors.Is(err, queue.ErrBatchFailed) && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil {
					failed = idx // a failed invocation redelivers the whole batch
				}
				q.answer(idx, failed, cfg.redeliver)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.trace = tr.bins()
	if err := ctx.Err(); err != nil {
		return res, err
	}

	counts := emu.Counts()
	res.requests, res.limited, res.stored, res.replays = counts.Requests, counts.RateLimited, counts.MessagesStored, counts.IdempotentReplays
	for _, r := range emu.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/messages") && r.Status/100 == 2 {
			res.sendCalls++
		}
	}
	seen := make(map[string]int, cfg.n)
	for c := range cfg.m {
		for _, msg := range emu.Messages("p8-" + strconv.Itoa(c)) {
			seen[msg.Custom["record"]]++
		}
	}
	for i := range cfg.n {
		switch seen[fleetRecordID(i)] {
		case 0:
			res.lost++
		case 1:
		default:
			res.duplicated++
		}
		if q.receives[i] > 1 {
			res.redelivered++
		}
	}
	if firstErr != nil {
		return res, fmt.Errorf("p8: an invocation failed: %w", firstErr)
	}
	return res, nil
}

// invokeBatch runs one SQS batch as aws-lambda-go would, under the
// function's timeout, and returns the records reported for redelivery.
func (q *queueFunc) invokeBatch(ctx context.Context, requestID string, ev events.SQSEvent, timeout time.Duration) ([]int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID})
	resp, err := q.h(ctx, ev)
	if err != nil {
		return nil, err
	}
	var failed []int
	for _, f := range resp.BatchItemFailures {
		i, err := strconv.Atoi(strings.TrimPrefix(f.ItemIdentifier, "p8-rec-"))
		if err != nil {
			return nil, fmt.Errorf("p8: unknown item identifier %q", f.ItemIdentifier)
		}
		failed = append(failed, i)
	}
	return failed, nil
}

// fleetFlags are P8's knobs.
type fleetFlags struct {
	ks   []int   // functions per run, one row each
	rps  float64 // the app's limit
	n, m int     // records, conversations
}

func (f *fleetFlags) register() {
	f.ks = []int{1, 5, 20, 50}
	flag.Func("fleet-k", "P8: comma-separated numbers of concurrent queue functions, one row each (default 1,5,20,50)", func(v string) error {
		ks, err := parseInts(v)
		f.ks = ks
		return err
	})
	flag.Float64Var(&f.rps, "fleet-rate", 20, "P8: the app's rate limit in the emulator, requests per second")
	flag.IntVar(&f.n, "fleet-n", 5000, "P8: records per run; the goal is stated for 5000 (about 30 s per K at 20/s)")
	flag.IntVar(&f.m, "fleet-m", 200, "P8: conversations the records go to")
}

func (f *fleetFlags) check() error {
	if len(f.ks) == 0 || f.rps <= 0 || f.n < 1 || f.m < 1 || f.m > f.n {
		return fmt.Errorf("-fleet-k needs at least one K ≥ 1, -fleet-rate > 0, and 1 ≤ -fleet-m ≤ -fleet-n")
	}
	return nil
}

func parseInts(v string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(v, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || k < 1 {
			return nil, fmt.Errorf("%q is not a whole number ≥ 1", part)
		}
		out = append(out, k)
	}
	return out, nil
}

// measureFleet is P8's rows: one per K, the goal checked at K=20.
func measureFleet(ctx context.Context, s settings, stdout io.Writer) ([]row, error) {
	f := s.fleet
	var rows []row
	for _, k := range f.ks {
		progress(stdout, "P8: K=%d functions, R=%g/s, N=%d records to M=%d conversations", k, f.rps, f.n, f.m)
		r, err := runFleet(ctx, fleetConfig{k: k, rps: f.rps, n: f.n, m: f.m})
		if err != nil {
			return nil, err
		}
		progress(stdout, "P8: %s", r)
		progress(stdout, "P8: 429s per second: %s", r.traceString())
		rw := row{id: "P8",
			measure: fmt.Sprintf("fleet of K=%d queue functions under one app's limit R=%g/s, N=%d records to M=%d conversations (in process)", k, f.rps, f.n, f.m),
			value: fmt.Sprintf("%.2f of R (%.1f/s); %.1f msgs/call; 429: %d of %d calls (%.1f%%); lost %d, duplicated %d; %d redelivered; %v",
				r.share(), r.rate(), r.perCall(), r.limited, r.requests, 100*r.limitedShare(), r.lost, r.duplicated, r.redelivered, r.elapsed.Round(100*time.Millisecond)),
		}
		if k == 20 {
			rw.goal = "≥ 0.80 of R; 429 ≤ 5%; 0 lost, 0 duplicated"
			rw.met = verdict(r.met())
		} else if r.lost != 0 || r.duplicated != 0 {
			rw.goal = "0 lost, 0 duplicated"
			rw.met = verdict(false)
		}
		rows = append(rows, rw)
	}
	return rows, nil
}

// fleetSecond is one second of a run, as the emulator answered it.
type fleetSecond struct{ ok, limited int }

// fleetTrace counts answers per second of a run, so where the 429s fall
// (start-up, steady state) can be read off.
type fleetTrace struct {
	start time.Time
	mu    sync.Mutex
	secs  []fleetSecond
}

func (t *fleetTrace) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, r)
		t.mu.Lock()
		s := int(time.Since(t.start) / time.Second)
		defer t.mu.Unlock()
		for len(t.secs) <= s {
			t.secs = append(t.secs, fleetSecond{})
		}
		if sw.status == http.StatusTooManyRequests {
			t.secs[s].limited++
		} else {
			t.secs[s].ok++
		}
	})
}

// reset starts the count again at start: the run begins once every
// function is built.
func (t *fleetTrace) reset(start time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start, t.secs = start, nil
}

func (t *fleetTrace) bins() []fleetSecond {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.secs)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// traceString is the run's 429s per second, with each second's accepted
// calls: "3/17 0/20 ...".
func (r fleetResult) traceString() string {
	var b strings.Builder
	for i, s := range r.trace {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d/%d", s.limited, s.ok)
	}
	return b.String()
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// queueConcurrency is the queue function's.
const queueConcurrency = queue.DefaultConcurrency

// benchMessage is the message every warm send carries.
var benchMessage = talkjs.NewMessage{Type: talkjs.SystemMessage, Text: "Order #1042 has shipped", Custom: map[string]string{"carrier": "ups"}}

// queueFunc is the queue function as functions/queue wires it, run in this
// process: what Lambda calls, from the event's JSON to the answer's.
type queueFunc struct {
	h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
}

// newQueueFunc builds the queue handler through setup.From and Deps.Queue,
// as main does, against the TalkJS at apiURL with the key given directly (a warm container
// has its key cached either way). Logs and metrics go to io.Discard after
// being formatted.
func newQueueFunc(ctx context.Context, apiURL string, concurrency int) (*queueFunc, error) {
	env := map[string]string{
		"TALKJS_APP_ID":     benchAppID,
		"TALKJS_SECRET_KEY": benchKey,
		"TALKJS_API_URL":    apiURL,
	}
	d, err := setup.From(ctx, func(k string) string { return env[k] }, "queue", io.Discard)
	if err != nil {
		return nil, err
	}
	h, err := d.Queue(ctx)
	if err != nil {
		return nil, err
	}
	// Only the benchmark that compares concurrencies sets one; every other
	// row runs the handler exactly as the function builds it.
	if concurrency != queueConcurrency {
		h.Concurrency = concurrency
	}
	return &queueFunc{h: setup.Invoke(d, h.Handle)}, nil
}

// invoke runs one event as aws-lambda-go would: decode, call, encode.
func (q *queueFunc) invoke(ctx context.Context, requestID string, event []byte) error {
	var ev events.SQSEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return err
	}
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID})
	resp, err := q.h(ctx, ev)
	if err != nil {
		return err
	}
	if _, err := json.Marshal(resp); err != nil {
		return err
	}
	if len(resp.BatchItemFailures) > 0 {
		return fmt.Errorf("%d batch item failures", len(resp.BatchItemFailures))
	}
	return nil
}

// sqsEvent is an SQS batch with one record per conversation id, each a send
// command of benchMessage, with message ids (and idempotency keys) prefix-0,
// prefix-1, ...
func sqsEvent(prefix string, conversations ...string) []byte {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(conversations))}
	for i, conv := range conversations {
		id := prefix + "-" + strconv.Itoa(i)
		// The message carries its own key, so every record is a new message
		// however the handler derives keys for messages without one.
		m := benchMessage
		m.IdempotencyKey = id
		body, _ := json.Marshal(map[string]any{"conversationId": conv, "message": m})
		ev.Records[i] = events.SQSMessage{
			MessageId:      id,
			ReceiptHandle:  "AQEB" + prefix,
			Body:           string(body),
			Attributes:     map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1795597200000"},
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:talkjs-bridge-CommandQueue",
			AWSRegion:      "us-east-1",
		}
	}
	b, _ := json.Marshal(ev)
	return b
}

// barePost is the floor of one send: the bytes the handler's send carries,
// posted with net/http on a keep-alive connection, nothing else.
type barePost struct {
	client *http.Client
	url    string
}

func newBarePost(baseURL, conversation string) *barePost {
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &barePost{client: &http.Client{Transport: t}, url: baseURL + "/v1/" + benchAppID + "/conversations/" + conversation + "/messages"}
}

// bareBody is what the handler sends for the record with message id id.
func bareBody(id string) []byte {
	m := benchMessage
	m.IdempotencyKey = id
	b, _ := json.Marshal([]talkjs.NewMessage{m})
	return b
}

func (p *barePost) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+benchKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "bench")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bare POST: status %d", resp.StatusCode)
	}
	return nil
}

func measureWarm(ctx context.Context, s settings, stdout io.Writer) ([]row, error) {
	var rows []row
	if s.want("P3") {
		progress(stdout, "P3: %d rounds of %d handler sends interleaved with bare POSTs and SQS event decodes", s.rounds, s.sends)
		p3, p3bare, err := measureSend(ctx, s.rounds, s.sends)
		if err != nil {
			return nil, fmt.Errorf("P3: %w", err)
		}
		rows = append(rows, row{id: "P3", measure: "warm send through the queue handler / (bare net/http POST + aws-lambda-go's decode of the same SQS event) (1 record → 1 message, loopback)",
			value: fmt.Sprintf("%s (%s / %s per send%s)", ratio2(p3.ratio), us(p3.a), us(p3.b), p3.spread),
			goal:  "≤ 1.15x", met: verdict(p3.ratio <= 1.15)})
		rows = append(rows, row{id: "P3", measure: "warm send through the queue handler / bare net/http POST alone, P3's floor before the event decode counted (context)",
			value: fmt.Sprintf("%s (%s / %s per send%s)", ratio2(p3bare.ratio), us(p3bare.a), us(p3bare.b), p3bare.spread)})
	}

	if s.want("P4") {
		progress(stdout, "P4: %d rounds of %d 10-record batches at %v latency interleaved with bare round trips", s.rounds, s.batches, s.latency)
		p4, err := measureBatch(ctx, s.rounds, s.batches, s.latency, queueConcurrency)
		if err != nil {
			return nil, fmt.Errorf("P4: %w", err)
		}
		rows = append(rows, row{id: "P4", measure: fmt.Sprintf("10-record batch (10 conversations) at %v / one bare round trip, in process, Concurrency %d", s.latency, queueConcurrency),
			value: fmt.Sprintf("%s (%s / %s)", ratio2(p4.ratio), ms(p4.a), ms(p4.b)),
			goal:  "≤ 1.50x", met: verdict(p4.ratio <= 1.5)})
	}

	if s.want("P5") {
		progress(stdout, "P5: TalkJS calls for n records to one conversation")
		p5, ok, err := measureCoalescing(ctx, []int{1, 10, 25, 100})
		if err != nil {
			return nil, fmt.Errorf("P5: %w", err)
		}
		rows = append(rows, row{id: "P5", measure: "TalkJS message calls for n records to one conversation (n: calls)", value: p5, goal: "ceil(n/10)", met: verdict(ok)})
	}

	if s.want("P6") {
		progress(stdout, "P6: GetSecretValue calls for %d concurrent sends in a new container", s.concurrent)
		calls, err := measureSecretFetches(ctx, s.concurrent)
		if err != nil {
			return nil, fmt.Errorf("P6: %w", err)
		}
		rows = append(rows, row{id: "P6", measure: fmt.Sprintf("GetSecretValue calls for %d concurrent sends in a new container (setup.From, in process)", s.concurrent),
			value: strconv.Itoa(calls), goal: "1", met: verdict(calls == 1)})
	}

	if s.want("P9") {
		progress(stdout, "P9: %d rounds of %d webhook deliveries in queue mode interleaved with bare SendMessage calls", s.rounds, s.sends)
		p9, err := measureIntake(ctx, s.rounds, s.sends)
		if err != nil {
			return nil, fmt.Errorf("P9: %w", err)
		}
		rows = append(rows, intakeRow(p9))
	}
	return rows, nil
}

// pair is an interleaved comparison: a and b are medians over rounds of the
// mean per operation, ratio the median of the rounds' ratios.
type pair struct {
	a, b   time.Duration
	ratio  float64
	spread string
}

func pairOf(as, bs []time.Duration) pair {
	ratios := make([]float64, len(as))
	for i := range as {
		ratios[i] = float64(as[i]) / float64(bs[i])
	}
	p := pair{a: medianDuration(as), b: medianDuration(bs), ratio: median(ratios)}
	if q := spread(ratios, ratio2); q != "" {
		p.spread = "; middle half of rounds " + q
	}
	return p
}

// measureSend is P3: one record, one message, through the whole handler,
// against its floor: the same bytes posted bare plus the decode of the same
// SQS event into events.SQSEvent, which aws-lambda-go does before any
// handler runs. The handler and the POST alternate which goes first; the
// decode is timed on its own in the same loop. It also returns the ratio to
// the bare POST alone, the floor P3 had before, as context.
func measureSend(ctx context.Context, rounds, sends int) (floor, bare pair, err error) {
	srv, emu := talkjstest.NewServer(benchAppID, benchKey)
	defer srv.Close()
	emu.SetLogLimit(16)
	emu.PutConversation(talkjstest.Conversation{ID: "p3", Subject: "p3"})
	q, err := newQueueFunc(ctx, srv.URL, queueConcurrency)
	if err != nil {
		return pair{}, pair{}, err
	}
	post := newBarePost(srv.URL, "p3")
	var as, bs, ds []time.Duration
	n := 0
	for round := -1; round < rounds; round++ { // round -1 warms up
		evs := make([][]byte, sends)
		bodies := make([][]byte, sends)
		for i := range sends {
			n++
			evs[i] = sqsEvent("h"+strconv.Itoa(n), "p3")
			bodies[i] = bareBody("b" + strconv.Itoa(n) + "-0")
		}
		var ta, tb, td time.Duration
		for i := range sends {
			a := func() error { return q.invoke(ctx, "req", evs[i]) }
			b := func() error { return post.post(ctx, bodies[i]) }
			da, db, err := timePair(a, b, i%2 == 1)
			if err != nil {
				return pair{}, pair{}, err
			}
			t := time.Now()
			var ev events.SQSEvent
			if err := json.Unmarshal(evs[i], &ev); err != nil {
				return pair{}, pair{}, err
			}
			td += time.Since(t)
			ta += da
			tb += db
		}
		if round >= 0 {
			as = append(as, ta/time.Duration(sends))
			bs = append(bs, tb/time.Duration(sends))
			ds = append(ds, td/time.Duration(sends))
		}
	}
	if c := emu.Counts(); c.MessagesStored != 2*(rounds+1)*sends {
		return pair{}, pair{}, fmt.Errorf("emulator stored %d messages, want %d", c.MessagesStored, 2*(rounds+1)*sends)
	}
	floors := make([]time.Duration, len(bs))
	for i := range bs {
		floors[i] = bs[i] + ds[i]
	}
	return pairOf(as, floors), pairOf(as, bs), nil
}

// timePair times a and b, b first when swap is set.
func timePair(a, b func() error, swap bool) (da, db time.Duration, err error) {
	timed := func(f func() error) (time.Duration, error) {
		t := time.Now()
		err := f()
		return time.Since(t), err
	}
	if swap {
		if db, err = timed(b); err != nil {
			return
		}
		da, err = timed(a)
		return
	}
	if da, err = timed(a); err != nil {
		return
	}
	db, err = timed(b)
	return
}

// measureBatch is P4: ten records to ten conversations with every TalkJS
// call taking latency, against one bare round trip at the same latency.
func measureBatch(ctx context.Context, rounds, batches int, latency time.Duration, concurrency int) (pair, error) {
	srv, emu := talkjstest.NewServer(benchAppID, benchKey)
	defer srv.Close()
	emu.SetLogLimit(16)
	convs := make([]string, 10)
	for i := range convs {
		convs[i] = "p4-" + strconv.Itoa(i)
		emu.PutConversation(talkjstest.Conversation{ID: convs[i], Subject: convs[i]})
	}
	emu.AddFault(talkjstest.Fault{Latency: latency})
	q, err := newQueueFunc(ctx, srv.URL, concurrency)
	if err != nil {
		return pair{}, err
	}
	bare := newBarePost(srv.URL, convs[0])
	var as, bs []time.Duration
	n := 0
	for round := -1; round < rounds; round++ { // round -1 opens the connections
		var ta, tb time.Duration
		for i := range batches {
			n++
			ev := sqsEvent("h"+strconv.Itoa(n), convs...)
			body := bareBody("b" + strconv.Itoa(n) + "-0")
			da, db, err := timePair(func() error { return q.invoke(ctx, "req", ev) }, func() error { return bare.post(ctx, body) }, i%2 == 1)
			if err != nil {
				return pair{}, err
			}
			ta += da
			tb += db
		}
		if round >= 0 {
			as = append(as, ta/time.Duration(batches))
			bs = append(bs, tb/time.Duration(batches))
		}
	}
	if got, want := emu.Counts().MessagesStored, 11*(rounds+1)*batches; got != want {
		return pair{}, fmt.Errorf("emulator stored %d messages, want %d", got, want)
	}
	return pairOf(as, bs), nil
}

// measureCoalescing is P5: for each n, n one-message records to one
// conversation in one batch, and the message sends TalkJS received.
func measureCoalescing(ctx context.Context, ns []int) (string, bool, error) {
	var parts []string
	ok := true
	for _, n := range ns {
		srv, emu := talkjstest.NewServer(benchAppID, benchKey)
		emu.PutConversation(talkjstest.Conversation{ID: "p5", Subject: "p5"})
		q, err := newQueueFunc(ctx, srv.URL, queueConcurrency)
		if err != nil {
			srv.Close()
			return "", false, err
		}
		convs := make([]string, n)
		for i := range convs {
			convs[i] = "p5"
		}
		err = q.invoke(ctx, "req", sqsEvent("p5-"+strconv.Itoa(n), convs...))
		reqs := emu.Requests()
		stored := emu.Counts().MessagesStored
		srv.Close()
		if err != nil {
			return "", false, err
		}
		calls := 0
		for _, r := range reqs {
			if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/conversations/p5/messages") {
				calls++
			}
		}
		if stored != n {
			return "", false, fmt.Errorf("n=%d: emulator stored %d messages", n, stored)
		}
		want := (n + 9) / 10
		if calls != want {
			ok = false
		}
		parts = append(parts, fmt.Sprintf("%d: %d", n, calls))
	}
	return strings.Join(parts, ", "), ok, nil
}

// measureSecretFetches is P6: a new container (setup.From with
// TALKJS_SECRET_ID, as deployed) whose first sends all start at once.
func measureSecretFetches(ctx context.Context, concurrent int) (int, error) {
	tsrv, emu := talkjstest.NewServer(benchAppID, benchKey)
	defer tsrv.Close()
	emu.PutConversation(talkjstest.Conversation{ID: "p6", Subject: "p6"})
	aws := awstest.New()
	aws.SetSecret(benchSecretID, benchSecret)
	asrv := httptest.NewServer(aws)
	defer asrv.Close()

	// The SDK reads these from the process environment, as in Lambda.
	restore := setenv(map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": asrv.URL,
		"AWS_ACCESS_KEY_ID":                "AKIDTESTTESTTESTTEST",
		"AWS_SECRET_ACCESS_KEY":            "fake-secret-access-key",
		"AWS_REGION":                       awstest.Region,
		"AWS_CONFIG_FILE":                  os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":      os.DevNull,
	})
	defer restore()
	env := map[string]string{
		"TALKJS_APP_ID":    benchAppID,
		"TALKJS_SECRET_ID": benchSecretID,
		"TALKJS_API_URL":   tsrv.URL,
	}
	d, err := setup.From(ctx, func(k string) string { return env[k] }, "queue", io.Discard)
	if err != nil {
		return 0, err
	}
	start := make(chan struct{})
	errs := make(chan error, concurrent)
	var wg sync.WaitGroup
	for i := range concurrent {
		wg.Go(func() {
			<-start
			m := benchMessage
			m.IdempotencyKey = "p6-" + strconv.Itoa(i)
			_, err := d.TalkJS.SendMessages(ctx, "p6", m)
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return 0, err
	}
	if got := emu.Counts().MessagesStored; got != concurrent {
		return 0, fmt.Errorf("emulator stored %d messages, want %d", got, concurrent)
	}
	if u := aws.Unsigned(); len(u) > 0 {
		return 0, fmt.Errorf("unsigned AWS requests: %v", u)
	}
	return aws.Calls(awstest.GetSecretValue), nil
}

func setenv(vars map[string]string) (restore func()) {
	type old struct {
		v  string
		ok bool
	}
	prev := make(map[string]old)
	for k, v := range vars {
		ov, ok := os.LookupEnv(k)
		prev[k] = old{ov, ok}
		os.Setenv(k, v)
	}
	return func() {
		for k, o := range prev {
			if o.ok {
				os.Setenv(k, o.v)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

func us(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + " µs"
}

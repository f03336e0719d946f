package soak_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// bootstrapTimeout is the queue function's timeout under the emulator. The
// client's default retry policy waits at most 0.7 s per call once 429s carry
// no Retry-After, so a batch needs far less; a hung batch still ends, and
// the emulator restarts the bootstrap, as Lambda would.
const bootstrapTimeout = 10 * time.Second

// deadConv is the conversation of FIFO group g-13 only (see generate).
const deadConv = "f-11"

// bootstrapRecords is the size of the run through the real bootstrap:
// 300, or SOAK_RECORDS scaled as TestFaultSoak's 2000 default scales to it
// (`make soak`'s 10,000 gives 1,500), at most 2,000. One bootstrap handles
// one batch at a time, so the run takes far longer per record than the
// in-process one.
func bootstrapRecords(t *testing.T) int {
	t.Helper()
	const def, limit = 300, 2000
	n := records(t, 2000)
	return min(max(n*def/2000, 1), limit)
}

// TestFaultSoakBootstrap is the fault soak through the queue function's real
// bootstrap, run under the Lambda Runtime Interface Emulator by localrun: the
// real setup (secret from the local Secrets Manager, the default TalkJS
// retry policy, the rejects queue over the SDK), the real runtime API loop
// and JSON answers. SQS is simulated as in TestFaultSoak, with one poller:
// the emulator serves one invoke at a time, as one execution environment.
//
// Three things differ from TestFaultSoak. The 429s carry no Retry-After: the
// client honours it, the emulator rounds it up to a whole second, and the
// function's deadline is seconds away, so each 429 would cost a second.
// And no answers are lost after TalkJS handled a send: that trick wraps the
// client's transport, which lives in another process here; the in-process
// soak covers the replay path. And three outages are added to the mix:
// with four attempts per call the mix alone rarely makes a record fail
// (about one redelivery in 300 records), so two bursts longer than the
// client's attempts (one on a FIFO conversation shared by two groups, one
// on a standard conversation) make records be reported and redelivered
// through the real process, and one that never ends dead-letters a FIFO
// group.
func TestFaultSoakBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the queue bootstrap and runs it under the runtime emulator")
	}
	start := time.Now()
	const seed = 200
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	stack, err := localrun.Start(ctx, localrun.Options{
		AppID: appID, SecretKey: key1,
		Functions: []string{localrun.Queue},
		Timeout:   bootstrapTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("queue function logs (tail):\n%s", tail(stack.Logs(localrun.Queue), 40))
		}
		if err := stack.Close(); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	built := time.Since(start)

	emu := stack.TalkJS
	seedTalkJS(emu)
	emu.AddFault(talkjstest.Fault{ConversationID: "f-1", Status: 503, Times: 12})
	emu.AddFault(talkjstest.Fault{ConversationID: "s-3", Status: 500, Times: 12})
	// deadConv never recovers: its group's records go to the dead-letter
	// queue after five receives.
	emu.AddFault(talkjstest.Fault{ConversationID: deadConv, Status: 502})
	faults(emu, seed, 0)

	var invokeErrs atomic.Int64
	handle := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		b, err := json.Marshal(ev)
		if err != nil {
			return resp, err
		}
		out, err := stack.Invoke(ctx, localrun.Queue, b)
		if err != nil {
			// A handler error, a timeout or a crash: SQS would redeliver
			// the whole batch, and drive does.
			if invokeErrs.Add(1) <= 3 {
				t.Logf("invoke: %v", err)
			}
			return resp, err
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Errorf("queue answer is not an SQSEventResponse: %v: %s", err, out)
			return resp, err
		}
		inBatch := map[string]bool{}
		for _, r := range ev.Records {
			inBatch[r.MessageId] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !inBatch[f.ItemIdentifier] {
				t.Errorf("batch item failure %q names no record of its batch", f.ItemIdentifier)
			}
		}
		return resp, nil
	}

	recs := generate(rand.New(rand.NewPCG(seed, 7)), bootstrapRecords(t))
	soakStart := time.Now()
	sim, perBatch := drive(t, recs, 1, handle, func(int) {})
	var sent []awstest.Message
	for _, m := range stack.AWS.Sent() {
		if m.QueueURL == stack.RejectsQueueURL {
			sent = append(sent, m)
		}
	}
	n := check(t, recs, sim, perBatch, emu, sent)

	sends, coalesced := storedSends(emu)
	counts := emu.Counts()
	f := stack.Function(localrun.Queue)
	t.Logf("soak bootstrap: %d records: delivered %d / rejected %d / dead-lettered %d / lost %d / duplicated %d; TalkJS calls %d (faulted %d, idempotent replays %d; %d sends stored, %d of them coalesced); redeliveries %d in %d batches (%d invokes failed, %d cold starts); delivered-then-rejected %d, delivered-then-dead-lettered %d; build and start %s, soak %s",
		len(recs), n.delivered, n.rejected, n.dead, n.lost, n.dups, counts.Requests, counts.Faults, counts.IdempotentReplays,
		sends, coalesced, sim.redelivs, sim.batches, invokeErrs.Load(), len(f.Inits()), n.rejectedAfterDelivery, n.deadAfterDelivery,
		built.Round(time.Millisecond), time.Since(soakStart).Round(time.Millisecond))
	if coalesced == 0 {
		t.Error("no send coalesced several records: the runs of one conversation were not exercised")
	}
	if n.dead == 0 && slices.ContainsFunc(recs, func(r *record) bool { return r.conv == deadConv }) {
		t.Errorf("no record was dead-lettered, though %s never recovers: the dead-letter path was not exercised", deadConv)
	}
	if n.rejected == 0 {
		t.Error("no record reached the rejects queue: the function's rejects path was not exercised")
	}
}

// storedSends counts, from the emulator's request log, the message sends
// TalkJS accepted, and those carrying the messages of several records.
func storedSends(emu *talkjstest.Emulator) (sends, coalesced int) {
	for _, r := range emu.Requests() {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/messages") || r.Status != http.StatusOK {
			continue
		}
		sends++
		recs := map[string]bool{}
		for _, mm := range markerRE.FindAllStringSubmatch(string(r.Body), -1) {
			recs[mm[1]] = true
		}
		if len(recs) > 1 {
			coalesced++
		}
	}
	return sends, coalesced
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

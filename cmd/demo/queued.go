package main

import (
	"encoding/json"
	"io"
	"path/filepath"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// queuedIntake shows the webhook in queue mode, as template.yaml deploys it
// by default: a second stack runs the same bootstraps with COMMAND_QUEUE_URL
// set, and what the webhook queues is handed to the queue function as the
// SQS event source would (localrun's DeliverQueued). First a delivery with
// TalkJS up, then one while TalkJS is down. It reports whether both behaved.
// n is the number of its first step in the transcript.
func (d *demo) queuedIntake(n int, eventsDir string, logs io.Writer) bool {
	d.printf("\n%d. Queued intake (COMMAND_QUEUE_URL set, the deployed default): the webhook verifies, maps, queues and answers 202; the queue function delivers\n", n)
	qs, err := localrun.Start(d.ctx, localrun.Options{BuildDir: d.stack.BuildDir, Prebuilt: true,
		Functions: []string{localrun.Webhook, localrun.Queue}, Queued: true, Logs: logs})
	if err != nil {
		d.printf("   ✗ %v\n", err)
		return false
	}
	defer qs.Close()
	client, err := qs.Client()
	if err != nil {
		d.printf("   ✗ %v\n", err)
		return false
	}
	q := &demo{ctx: d.ctx, stack: qs, client: client, out: d.out, fnFor: d.fnFor, seq: d.seq}
	ok := q.queuedStep(filepath.Join(eventsDir, "webhook-github-issue-rest.json"), false)

	d.printf("\n%d. Queued intake with TalkJS down (the emulator answers 503 to every call)\n", n+1)
	ok = q.queuedStep(filepath.Join(eventsDir, "webhook-stripe.json"), true) && ok
	d.seq = q.seq
	return ok
}

// queuedStep sends one webhook to the queue-mode stack, then delivers what
// it queued, with TalkJS down first when down is set.
func (d *demo) queuedStep(path string, down bool) bool {
	emu := d.stack.TalkJS
	event, err := localrun.LoadEvent(path)
	if err != nil {
		d.printf("   ✗ %v\n", err)
		return false
	}
	// Read before TalkJS goes down: the listing would fail then.
	before := d.snapshot()
	if down {
		emu.AddFault(talkjstest.Fault{Status: 503})
	}
	callsBefore, storedBefore := emu.Counts().Requests, emu.Counts().MessagesStored
	d.printf("   in:     %s → webhook function (queue mode): %s\n", filepath.Base(path), describe(localrun.Webhook, event))
	answer, _, err := d.invoke(localrun.Webhook, event)
	if err != nil {
		d.printf("   ✗ the function failed: %v\n", err)
		return false
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	_ = json.Unmarshal(answer, &resp)
	d.printf("   out:    %d %s\n", resp.StatusCode, oneLine(resp.Body, 160))
	queued := d.stack.Queued()
	calls := emu.Counts().Requests - callsBefore
	d.printf("   SQS:    %d message(s) waiting on %s; TalkJS calls made by the webhook: %d\n", len(queued), localrun.CommandQueueName, calls)
	ok := resp.StatusCode == 202 && len(queued) == 1 && calls == 0

	if down {
		run, err := d.stack.DeliverQueued(d.ctx, false)
		if err != nil {
			d.printf("   ✗ %v\n", err)
			return false
		}
		d.printf("   queue:  %d delivered, %d left on the queue to retry (every record failed, so the invocation fails and the SQS event source backs off), %d rejected\n",
			len(run.Delivered), len(run.Retried), len(d.rejects()))
		ok = ok && len(run.Retried) == 1 && len(run.Delivered) == 0 && len(d.rejects()) == 0
		emu.ClearFaults()
		d.printf("   TalkJS recovers; SQS delivers the record again, twice (at-least-once delivery):\n")
	}
	run, err := d.stack.DeliverQueued(d.ctx, down)
	if err != nil {
		d.printf("   ✗ %v\n", err)
		return false
	}
	d.printf("   queue:  %d delivered in %d invocation(s), %d left to retry\n", len(run.Delivered), run.Invocations, len(run.Retried))
	ok = ok && len(run.Delivered) == 1 && len(run.Retried) == 0
	d.printChanges(before)
	stored := emu.Counts().MessagesStored - storedBefore
	d.printf("   TalkJS: %d message stored for this webhook\n", stored)
	ok = ok && stored == 1
	switch {
	case !ok:
		d.printf("   ✗ expected 202 with nothing sent to TalkJS, then the queued record delivered exactly once\n")
	case down:
		d.printf("   ✓ accepted while TalkJS was down, retried, delivered once TalkJS was back\n")
	default:
		d.printf("   ✓ accepted and queued, then delivered by the queue function\n")
	}
	return ok
}

package dispatch

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"golang.org/x/sync/errgroup"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Item is one record of a batch and what it maps to.
type Item struct {
	// ID names the record in results and logs (the SQS messageId).
	ID string
	// Group is the FIFO message group, empty for standard queues.
	Group string
	// Sends are what the record asks for, in order.
	Sends []mapping.Send
	// Err is set when the record could not be decoded or mapped; such a
	// record is rejected without anything being sent.
	Err error
}

// Result is what became of one Item.
type Result struct {
	ID string
	// Outcome is Sent when every send was delivered.
	Outcome Outcome
	// Err says why, when Outcome is not Sent.
	Err error
	// Delivered lists what reached TalkJS, even for a record that failed
	// part way (its retry is deduplicated by idempotency keys).
	Delivered []Delivered
	// Held is true when the record was not attempted because an earlier
	// record of its FIFO group or conversation failed in this batch.
	Held bool
}

// Batch delivers the items of one SQS batch.
type Batch struct {
	Sender *Sender
	// Concurrency bounds how many lanes are sent at once; below 1 means 1.
	Concurrency int
	// Around, when set, wraps the delivery of each record or coalesced run
	// of records (tracing uses it for per-record subsegments).
	Around func(ctx context.Context, ids []string, fn func(context.Context) error) error
}

// Run delivers items and returns one Result per item, in the same order.
//
// Items that share a conversation or a FIFO group form a lane and are sent in
// batch order; lanes run concurrently. After a retryable failure, the rest of
// its lane that shares the failed conversation or group is held back and
// reported for retry without being sent, so redelivery cannot overtake it.
// A rejected item does not hold anything back: it can never succeed, and
// blocking its group on it would stall the queue.
func (b *Batch) Run(ctx context.Context, items []Item) []Result {
	results := make([]Result, len(items))
	for i, it := range items {
		results[i].ID = it.ID
	}
	ls := lanes(items)
	if len(ls) == 1 {
		// One lane needs no goroutine: spawning one costs a handoff per batch.
		b.runLane(ctx, items, ls[0], results)
		return results
	}
	var g errgroup.Group
	g.SetLimit(max(b.Concurrency, 1))
	for _, lane := range ls {
		g.Go(func() error {
			b.runLane(ctx, items, lane, results)
			return nil
		})
	}
	_ = g.Wait()
	return results
}

// lanes partitions item indexes so that items sharing a conversation or a
// FIFO group are in one lane, each lane in batch order.
func lanes(items []Item) [][]int {
	parent := make([]int, len(items))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := make(map[string]int)
	join := func(key string, i int) {
		if j, ok := owner[key]; ok {
			a, b := find(i), find(j)
			if a != b {
				parent[max(a, b)] = min(a, b)
			}
			return
		}
		owner[key] = i
	}
	for i, it := range items {
		for _, k := range keysOf(it) {
			join(k, i)
		}
	}
	byRoot := make(map[int]int)
	var out [][]int
	for i := range items {
		r := find(i)
		k, ok := byRoot[r]
		if !ok {
			k = len(out)
			byRoot[r] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], i)
	}
	return out
}

// keysOf names what orders an item: its FIFO group and its conversations.
// Items sharing a key go in one lane, and a failure holds back the later
// items with any of its keys.
func keysOf(it Item) []string {
	var keys []string
	if it.Group != "" {
		keys = append(keys, "g\x00"+it.Group)
	}
	for _, s := range it.Sends {
		keys = append(keys, "c\x00"+s.ConversationID)
	}
	return keys
}

func (b *Batch) runLane(ctx context.Context, items []Item, lane []int, results []Result) {
	failed := make(map[string]bool)
	blocked := func(i int) bool {
		for _, k := range keysOf(items[i]) {
			if failed[k] {
				return true
			}
		}
		return false
	}
	fail := func(i int, err error, held bool) {
		results[i].Outcome, results[i].Err, results[i].Held = Retry, err, held
		for _, k := range keysOf(items[i]) {
			failed[k] = true
		}
	}
	for pos := 0; pos < len(lane); {
		i := lane[pos]
		it := items[i]
		switch {
		case it.Err != nil:
			results[i].Outcome, results[i].Err = Reject, it.Err
			pos++
			continue
		case blocked(i):
			fail(i, fmt.Errorf("held back: an earlier record of its conversation or group failed"), true)
			pos++
			continue
		case ctx.Err() != nil:
			fail(i, fmt.Errorf("not attempted: %w", context.Cause(ctx)), true)
			pos++
			continue
		}
		run := b.coalesce(items, lane[pos:], blocked)
		if len(run) > 1 {
			if err := b.deliverRun(ctx, items, run, results, fail); err != nil {
				for _, j := range run {
					if results[j].Outcome == Sent {
						fail(j, err, false)
					}
				}
			}
			pos += len(run)
			continue
		}
		err := b.around(ctx, []string{it.ID}, func(ctx context.Context) error {
			return b.deliverItem(ctx, it, &results[i])
		})
		if err != nil {
			if Classify(err) == Reject {
				results[i].Outcome, results[i].Err = Reject, err
			} else {
				fail(i, err, false)
			}
		}
		pos++
	}
}

// coalesce returns the longest prefix of lane (at least its first item) whose
// items each send messages to one and the same conversation, with at most
// MaxMessagesPerCall messages in all.
func (b *Batch) coalesce(items []Item, lane []int, blocked func(int) bool) []int {
	single := func(it Item) bool {
		return it.Err == nil && len(it.Sends) == 1 && len(it.Sends[0].Messages) > 0
	}
	first := items[lane[0]]
	if !single(first) {
		return lane[:1]
	}
	conv := first.Sends[0].ConversationID
	n := len(first.Sends[0].Messages)
	end := 1
	for end < len(lane) {
		it := items[lane[end]]
		if !single(it) || it.Sends[0].ConversationID != conv || blocked(lane[end]) ||
			n+len(it.Sends[0].Messages) > MaxMessagesPerCall {
			break
		}
		n += len(it.Sends[0].Messages)
		end++
	}
	return lane[:end]
}

// errPanic marks an error made from a recovered panic: the records it hit
// are retried rather than lost, and PanicStack gives the stack for the log.
type errPanic struct {
	value any
	stack []byte
}

func (e *errPanic) Error() string { return fmt.Sprintf("panic while delivering: %v", e.value) }

// PanicStack returns the stack of the panic err comes from, if it does (a
// record's Result.Err after Run recovered one), for the log line about it.
func PanicStack(err error) ([]byte, bool) {
	var p *errPanic
	if errors.As(err, &p) {
		return p.stack, true
	}
	return nil, false
}

func (b *Batch) around(ctx context.Context, ids []string, fn func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &errPanic{value: r, stack: debug.Stack()}
		}
	}()
	if b.Around == nil {
		return fn(ctx)
	}
	return b.Around(ctx, ids, fn)
}

func (b *Batch) deliverItem(ctx context.Context, it Item, res *Result) error {
	for _, s := range it.Sends {
		d, err := b.Sender.Deliver(ctx, s)
		if len(d.MessageIDs) > 0 || err == nil {
			res.Delivered = append(res.Delivered, d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deliverRun sends a coalesced run as one TalkJS call. If TalkJS refuses the
// call as a whole, each record is sent alone so that only the bad one is
// rejected.
//
// It returns an error only for a panic; every other outcome is in results.
func (b *Batch) deliverRun(ctx context.Context, items []Item, run []int, results []Result, fail func(int, error, bool)) error {
	ids := make([]string, len(run))
	for k, i := range run {
		ids[k] = items[i].ID
	}
	err := b.around(ctx, ids, func(ctx context.Context) error {
		var ready []int
		for k, i := range run {
			send := items[i].Sends[0]
			err := b.Sender.Prepare(About(ctx, send.Route, send.ConversationID), send)
			switch Classify(err) {
			case Sent:
				ready = append(ready, i)
				continue
			case Reject:
				results[i].Outcome, results[i].Err = Reject, err
				continue
			}
			fail(i, err, false)
			for _, j := range run[k+1:] {
				fail(j, fmt.Errorf("held back: an earlier record of its conversation failed"), true)
			}
			break
		}
		if len(ready) == 0 {
			return nil
		}
		conv := items[ready[0]].Sends[0].ConversationID
		ctx = About(ctx, items[ready[0]].Sends[0].Route, conv)
		var msgs []talkjs.NewMessage
		for _, i := range ready {
			msgs = append(msgs, items[i].Sends[0].Messages...)
		}
		got, err := b.Sender.send(ctx, conv, msgs)
		switch Classify(err) {
		case Sent:
			for _, i := range ready {
				n := len(items[i].Sends[0].Messages)
				d := Delivered{ConversationID: conv}
				if len(got) >= n {
					d.MessageIDs, got = got[:n], got[n:]
				}
				results[i].Delivered = append(results[i].Delivered, d)
			}
			return nil
		case Retry:
			for _, i := range ready {
				fail(i, fmt.Errorf("send to conversation %q: %w", conv, err), false)
			}
			return err
		}
		for k, i := range ready {
			err := b.deliverItem(ctx, items[i], &results[i])
			switch Classify(err) {
			case Sent:
				continue
			case Reject:
				results[i].Outcome, results[i].Err = Reject, err
				continue
			}
			fail(i, err, false)
			for _, j := range ready[k+1:] {
				fail(j, fmt.Errorf("held back: an earlier record of its conversation failed"), true)
			}
			break
		}
		return nil
	})
	var p *errPanic
	if errors.As(err, &p) {
		return err
	}
	return nil
}

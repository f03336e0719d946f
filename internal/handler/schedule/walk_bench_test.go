package schedule_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// snapshotFirst is the other way to make reminders correct under
// last-activity order, kept here only to measure it against the handler's:
// take the whole listing first (TalkJS's default order), then send, in
// creation order so the handler's order check holds.
type snapshotFirst struct{ *talkjs.Client }

func (c snapshotFirst) ListConversations(ctx context.Context, opts talkjs.ListOptions) iter.Seq2[talkjs.Conversation, error] {
	return func(yield func(talkjs.Conversation, error) bool) {
		var all []talkjs.Conversation
		for conv, err := range c.Client.ListConversations(ctx, talkjs.ListOptions{Limit: opts.Limit, OrderBy: talkjs.OrderByLastActivity}) {
			if err != nil {
				yield(conv, err)
				return
			}
			all = append(all, conv)
		}
		slices.SortStableFunc(all, func(a, b talkjs.Conversation) int { return cmp.Compare(b.CreatedAt, a.CreatedAt) })
		for _, conv := range all {
			if !yield(conv, nil) {
				return
			}
		}
	}
}

// lister is what the schedule handler needs of TalkJS.
type lister interface {
	dispatch.TalkJS
	ListConversations(ctx context.Context, opts talkjs.ListOptions) iter.Seq2[talkjs.Conversation, error]
}

// liveAtFirstSend measures the heap a walk holds while it sends: at the
// first send it collects garbage and reads the live heap.
type liveAtFirstSend struct {
	lister
	once sync.Once
	live uint64
}

func (l *liveAtFirstSend) SendMessages(ctx context.Context, conv string, msgs ...talkjs.NewMessage) ([]string, error) {
	l.once.Do(func() { l.live = liveHeap() })
	return l.lister.SendMessages(ctx, conv, msgs...)
}

func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkReminderWalk measures the two ways to send a reminder to every
// selected conversation under last-activity order: the handler's walk in
// creation order, which sends while it lists, and taking the whole listing
// first. Every conversation is selected, each TalkJS call takes 5 ms, so the time is mostly
// waiting, as it is against TalkJS.
//
//	go test -run '^$' -bench ReminderWalk -benchtime 3x ./internal/handler/schedule/
func BenchmarkReminderWalk(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		for _, walk := range []string{"created", "snapshot"} {
			b.Run(fmt.Sprintf("n=%d/walk=%s", n, walk), func(b *testing.B) {
				srv, emu := talkjstest.NewServer(appID, key)
				b.Cleanup(srv.Close)
				emu.SetLogLimit(1)
				for i := range n {
					emu.PutConversation(talkjstest.Conversation{ID: fmt.Sprintf("w-%05d", i), Subject: "Subject of a conversation",
						Custom: map[string]string{"source": "github", "team": "platform"}, Participants: talkjstest.Participants("alice", "bob"),
						CreatedAt: time.Now().Add(-time.Hour).UnixMilli() + int64(i)})
				}
				emu.AddFault(talkjstest.Fault{Latency: 5 * time.Millisecond})
				c, err := talkjs.NewClient(appID, talkjs.StaticKey(key), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()))
				if err != nil {
					b.Fatal(err)
				}
				routes, err := mapping.Default()
				if err != nil {
					b.Fatal(err)
				}
				h := &schedule.Handler{Routes: routes, TalkJS: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
				if walk == "snapshot" {
					h.TalkJS = snapshotFirst{c}
				}
				// The heap the walk holds while it sends, once, outside the
				// timed loop: what the walk adds to the live heap before the
				// first send, with the emulator's share taken out.
				base := liveHeap()
				probe := &liveAtFirstSend{lister: h.TalkJS}
				h.TalkJS = probe
				if _, err := h.Handle(b.Context(), []byte(`{"reminder":"standup","scheduledTime":"2026-11-25T08:00:00Z"}`)); err != nil {
					b.Fatal(err)
				}
				h.TalkJS = probe.lister
				held := int64(probe.live) - int64(base)

				var calls int
				i := 0
				for b.Loop() {
					i++
					in := fmt.Sprintf(`{"reminder":"standup","scheduledTime":"2026-11-25T09:%02d:00Z"}`, i%60)
					before := emu.Counts().Requests
					sum, err := h.Handle(b.Context(), []byte(in))
					if err != nil {
						b.Fatal(err)
					}
					if sum.Sent != n {
						b.Fatalf("sent %d, want %d", sum.Sent, n)
					}
					calls += emu.Counts().Requests - before
				}
				b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
				b.ReportMetric(float64(held)/(1<<10), "held-KiB")
			})
		}
	}
}

package dispatch_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

const (
	appID = "tBridgeTest"
	key   = "sk_test_dispatch_0123456789"
)

// newClient starts an emulator and a client that retries quickly, so that
// fault tests stay fast.
func newClient(t *testing.T) (*talkjs.Client, *talkjstest.Emulator) {
	t.Helper()
	srv, emu := talkjstest.NewServer(appID, key)
	t.Cleanup(srv.Close)
	c, err := talkjs.NewClient(appID, talkjs.StaticKey(key),
		talkjs.WithBaseURL(srv.URL),
		talkjs.WithHTTPClient(srv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, u := range []string{"alice", "bob"} {
		name := u
		if err := c.UpsertUser(ctx, u, talkjs.UserUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	return c, emu
}

func msg(conv string, n int) talkjs.NewMessage {
	return talkjs.NewMessage{Type: talkjs.SystemMessage, Text: fmt.Sprintf("%s #%d", conv, n), IdempotencyKey: fmt.Sprintf("%s-%d", conv, n)}
}

func item(id, group, conv string, msgs ...talkjs.NewMessage) dispatch.Item {
	return dispatch.Item{ID: id, Group: group, Sends: []mapping.Send{{
		ConversationID: conv,
		Conversation:   &talkjs.ConversationUpdate{Participants: []string{"alice", "bob"}},
		Messages:       msgs,
	}}}
}

func sends(emu *talkjstest.Emulator, conv string) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Method == http.MethodPost && r.ConversationID == conv && !r.Fault {
			n++
		}
	}
	return n
}

func outcomes(rs []dispatch.Result) map[string]dispatch.Outcome {
	out := make(map[string]dispatch.Outcome, len(rs))
	for _, r := range rs {
		out[r.ID] = r.Outcome
	}
	return out
}

func TestBatchCoalescesPerConversation(t *testing.T) {
	for _, n := range []int{1, 9, 10, 11, 25} {
		t.Run(fmt.Sprintf("%d records", n), func(t *testing.T) {
			c, emu := newClient(t)
			var items []dispatch.Item
			for i := range n {
				items = append(items, item(fmt.Sprint("r", i), "", "conv-a", msg("conv-a", i)))
			}
			b := dispatch.Batch{Sender: dispatch.NewSender(c), Concurrency: 4}
			for _, r := range b.Run(t.Context(), items) {
				if r.Outcome != dispatch.Sent {
					t.Fatalf("%s: %v %v", r.ID, r.Outcome, r.Err)
				}
				if len(r.Delivered) != 1 || len(r.Delivered[0].MessageIDs) != 1 {
					t.Fatalf("%s: delivered %+v, want one message id", r.ID, r.Delivered)
				}
			}
			if got, want := sends(emu, "conv-a"), (n+9)/10; got != want {
				t.Errorf("TalkJS send calls = %d, want ceil(%d/10) = %d", got, n, want)
			}
			stored := emu.Messages("conv-a")
			if len(stored) != n {
				t.Fatalf("stored %d messages, want %d", len(stored), n)
			}
			for i, m := range stored {
				if want := fmt.Sprintf("conv-a #%d", i); m.Text != want {
					t.Errorf("message %d = %q, want %q (batch order)", i, m.Text, want)
				}
			}
			// One conversation upsert for the whole batch, not one per record.
			puts := 0
			for _, r := range emu.Requests() {
				if r.Method == http.MethodPut && r.Path == "/v1/"+appID+"/conversations/conv-a" {
					puts++
				}
			}
			if puts != 1 {
				t.Errorf("conversation upserts = %d, want 1", puts)
			}
		})
	}
}

func TestBatchFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault talkjstest.Fault
		items []dispatch.Item
		want  map[string]dispatch.Outcome
		held  []string
	}{
		{
			name:  "5xx on one conversation retries only its records",
			fault: talkjstest.Fault{ConversationID: "conv-bad", Status: 503},
			items: []dispatch.Item{
				item("a1", "", "conv-ok", msg("conv-ok", 1)),
				item("b1", "", "conv-bad", msg("conv-bad", 1)),
				item("a2", "", "conv-ok", msg("conv-ok", 2)),
				item("b2", "", "conv-bad", msg("conv-bad", 2)),
			},
			want: map[string]dispatch.Outcome{"a1": dispatch.Sent, "a2": dispatch.Sent, "b1": dispatch.Retry, "b2": dispatch.Retry},
		},
		{
			name:  "429 is retried",
			fault: talkjstest.Fault{ConversationID: "conv-bad", Status: 429},
			items: []dispatch.Item{item("b1", "", "conv-bad", msg("conv-bad", 1))},
			want:  map[string]dispatch.Outcome{"b1": dispatch.Retry},
		},
		{
			name:  "dropped connections are retried",
			fault: talkjstest.Fault{ConversationID: "conv-bad", Drop: true},
			items: []dispatch.Item{item("b1", "", "conv-bad", msg("conv-bad", 1))},
			want:  map[string]dispatch.Outcome{"b1": dispatch.Retry},
		},
		{
			name:  "a 4xx is rejected, not retried",
			fault: talkjstest.Fault{ConversationID: "conv-bad", Status: 400},
			items: []dispatch.Item{item("b1", "", "conv-bad", msg("conv-bad", 1))},
			want:  map[string]dispatch.Outcome{"b1": dispatch.Reject},
		},
		{
			name:  "FIFO: after a failure the rest of the group is held, other groups go on",
			fault: talkjstest.Fault{ConversationID: "conv-bad", Status: 500},
			items: []dispatch.Item{
				item("g1-1", "g1", "conv-x", msg("conv-x", 1)),
				item("g1-2", "g1", "conv-bad", msg("conv-bad", 1)),
				item("g1-3", "g1", "conv-y", msg("conv-y", 1)),
				item("g2-1", "g2", "conv-z", msg("conv-z", 1)),
			},
			want: map[string]dispatch.Outcome{"g1-1": dispatch.Sent, "g1-2": dispatch.Retry, "g1-3": dispatch.Retry, "g2-1": dispatch.Sent},
			held: []string{"g1-3"},
		},
		{
			name: "an invalid record is rejected without holding its group",
			items: []dispatch.Item{
				{ID: "bad", Group: "g1", Err: fmt.Errorf("%w: no conversationId", dispatch.ErrInvalidRecord)},
				item("g1-2", "g1", "conv-x", msg("conv-x", 1)),
			},
			want: map[string]dispatch.Outcome{"bad": dispatch.Reject, "g1-2": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, emu := newClient(t)
			emu.AddFault(tt.fault)
			b := dispatch.Batch{Sender: dispatch.NewSender(c), Concurrency: 2}
			rs := b.Run(t.Context(), tt.items)
			got := outcomes(rs)
			for id, want := range tt.want {
				if got[id] != want {
					t.Errorf("%s: outcome %v, want %v", id, got[id], want)
				}
			}
			for _, r := range rs {
				if r.Outcome == dispatch.Sent && r.Err != nil {
					t.Errorf("%s: delivered with error %v", r.ID, r.Err)
				}
				if r.Outcome != dispatch.Sent && r.Err == nil {
					t.Errorf("%s: outcome %v without a reason", r.ID, r.Outcome)
				}
			}
			for _, id := range tt.held {
				for _, r := range rs {
					if r.ID == id && !r.Held {
						t.Errorf("%s: not marked held", id)
					}
				}
				if n := sends(emu, "conv-y"); n != 0 {
					t.Errorf("held record was sent (%d calls)", n)
				}
			}
		})
	}
}

// TestBatchSplitsRefusedRun checks that when TalkJS refuses a coalesced call,
// only the bad record is rejected and the others still arrive, in order.
func TestBatchSplitsRefusedRun(t *testing.T) {
	c, emu := newClient(t)
	bad := talkjs.NewMessage{Type: talkjs.UserMessage, Sender: "mallory", Text: "not a participant", IdempotencyKey: "bad-1"}
	items := []dispatch.Item{
		item("r1", "", "conv-a", msg("conv-a", 1)),
		item("r2", "", "conv-a", bad),
		item("r3", "", "conv-a", msg("conv-a", 3)),
	}
	b := dispatch.Batch{Sender: dispatch.NewSender(c)}
	got := outcomes(b.Run(t.Context(), items))
	want := map[string]dispatch.Outcome{"r1": 0, "r2": dispatch.Reject, "r3": 0}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %v, want %v", id, got[id], w)
		}
	}
	var texts []string
	for _, m := range emu.Messages("conv-a") {
		texts = append(texts, m.Text)
	}
	if fmt.Sprint(texts) != "[conv-a #1 conv-a #3]" {
		t.Errorf("stored %q, want the two good messages in order", texts)
	}
}

// TestBatchRedeliveryIsIdempotent runs the same batch twice, as SQS does
// after a partial failure, and expects each message once.
func TestBatchRedeliveryIsIdempotent(t *testing.T) {
	c, emu := newClient(t)
	items := []dispatch.Item{item("r1", "", "conv-a", msg("conv-a", 1)), item("r2", "", "conv-a", msg("conv-a", 2))}
	for range 2 {
		b := dispatch.Batch{Sender: dispatch.NewSender(c)}
		for _, r := range b.Run(t.Context(), items) {
			if r.Outcome != dispatch.Sent {
				t.Fatalf("%s: %v", r.ID, r.Err)
			}
		}
	}
	if n := len(emu.Messages("conv-a")); n != 2 {
		t.Errorf("stored %d messages after a redelivery, want 2", n)
	}
}

type panicky struct{ dispatch.TalkJS }

func (p panicky) SendMessages(ctx context.Context, conv string, msgs ...talkjs.NewMessage) ([]string, error) {
	if conv == "conv-boom" {
		panic("boom")
	}
	return p.TalkJS.SendMessages(ctx, conv, msgs...)
}

func TestBatchRecoversPanics(t *testing.T) {
	c, _ := newClient(t)
	items := []dispatch.Item{
		item("boom1", "", "conv-boom", msg("conv-boom", 1)),
		item("boom2", "", "conv-boom", msg("conv-boom", 2)),
		item("ok", "", "conv-ok", msg("conv-ok", 1)),
	}
	b := dispatch.Batch{Sender: dispatch.NewSender(panicky{c})}
	got := outcomes(b.Run(t.Context(), items))
	if got["boom1"] != dispatch.Retry || got["boom2"] != dispatch.Retry || got["ok"] != 0 {
		t.Errorf("outcomes %v: want the panicking conversation retried and the other delivered", got)
	}
}

func TestBatchStopsAtDeadline(t *testing.T) {
	c, _ := newClient(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b := dispatch.Batch{Sender: dispatch.NewSender(c)}
	for _, r := range b.Run(ctx, []dispatch.Item{item("r1", "", "conv-a", msg("conv-a", 1))}) {
		if r.Outcome != dispatch.Retry || !r.Held {
			t.Errorf("%s: %v held=%v, want a held retry once the context has ended", r.ID, r.Outcome, r.Held)
		}
	}
}

// slowUser answers user upserts slowly and fails the first one, as a TalkJS
// hiccup would, so two lanes sharing a bot user overlap on its upsert.
type slowUser struct {
	dispatch.TalkJS
	mu    sync.Mutex
	calls int
}

func (s *slowUser) UpsertUser(ctx context.Context, id string, u talkjs.UserUpdate) error {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	if first {
		return &talkjs.APIError{StatusCode: 503, Method: "PUT", Path: "/users/" + id}
	}
	return s.TalkJS.UpsertUser(ctx, id, u)
}

// TestLanesShareAUserUpsert: a lane that finds a user upsert in flight must
// wait for it, and try again itself if it failed, never send as a user
// that does not exist (TalkJS 400, a valid record rejected for good).
func TestLanesShareAUserUpsert(t *testing.T) {
	c, emu := newClient(t)
	bot := "Bot"
	withBot := func(id, conv string) dispatch.Item {
		it := item(id, "", conv, talkjs.NewMessage{Type: talkjs.UserMessage, Sender: "bot", Text: "hi " + conv, IdempotencyKey: "k-" + conv})
		it.Sends[0].Users = map[string]talkjs.UserUpdate{"bot": {Name: &bot}}
		it.Sends[0].Conversation.Participants = []string{"bot"}
		return it
	}
	b := dispatch.Batch{Sender: dispatch.NewSender(&slowUser{TalkJS: c}), Concurrency: 2}
	got := outcomes(b.Run(t.Context(), []dispatch.Item{withBot("a", "conv-a"), withBot("b", "conv-b")}))
	for id, o := range got {
		if o == dispatch.Reject {
			t.Errorf("%s rejected: a record sharing a failed upsert must be retried or sent, never rejected", id)
		}
	}
	// One lane's upsert failed (503): that lane is retried; the other one
	// upserted the user itself and was sent.
	if got["a"] == got["b"] {
		t.Errorf("outcomes %v: want one lane retried and the other sent", got)
	}
	if n := emu.Counts().MessagesStored; n != 1 {
		t.Errorf("stored %d messages, want 1", n)
	}
}

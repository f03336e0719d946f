package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// seedActive seeds n conversations, every third one not selected by the
// standup reminder, and gives every fourth one a message, so that the
// emulator's default order (last activity, latest first) differs from the
// creation order before the reminder runs. It returns the selected ids.
func seedActive(t *testing.T, emu *talkjstest.Emulator, c *talkjs.Client, n int) []string {
	t.Helper()
	var selected []string
	for i := range n {
		id := fmt.Sprintf("act-%03d", i)
		src := "github"
		if i%3 == 2 {
			src = "stripe"
		} else {
			selected = append(selected, id)
		}
		// Distinct creation times, a second apart and in the past, so that
		// the creation order is total and every message is newer activity.
		emu.PutConversation(talkjstest.Conversation{ID: id, Subject: "Subject of " + id, Custom: map[string]string{"source": src},
			CreatedAt: time.Now().Add(-time.Hour).UnixMilli() + int64(i)*1000})
	}
	for i := 0; i < n; i += 4 {
		id := fmt.Sprintf("act-%03d", i)
		msg := talkjs.NewMessage{Type: talkjs.SystemMessage, Text: "earlier activity", IdempotencyKey: "earlier-" + id}
		if _, err := c.SendMessages(t.Context(), id, msg); err != nil {
			t.Fatal(err)
		}
	}
	return selected
}

// listCalls counts the conversation listings in the emulator's log from
// the from-th request on.
func listCalls(emu *talkjstest.Emulator, from int) int {
	n := 0
	for _, r := range emu.Requests()[from:] {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/conversations") {
			n++
		}
	}
	return n
}

// sendCalls counts the message sends in the emulator's log from the
// from-th request on, per conversation.
func sendCalls(emu *talkjstest.Emulator, from int) map[string]int {
	calls := map[string]int{}
	for _, r := range emu.Requests()[from:] {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/messages") {
			calls[r.ConversationID]++
		}
	}
	return calls
}

// TestReminderUnderLastActivityOrder: the emulator lists conversations by
// last activity, as TalkJS does, so every reminder sent moves its
// conversation to the top of that listing. A reminder over more than 200
// selected conversations must still send exactly one message to each, in
// one call each, and count each once.
func TestReminderUnderLastActivityOrder(t *testing.T) {
	for _, conc := range []int{1, 4, 16} {
		t.Run(fmt.Sprintf("concurrency=%d", conc), func(t *testing.T) {
			h, emu := newHandler(t)
			h.Concurrency = conc
			c := h.TalkJS.(*talkjs.Client)
			selected := seedActive(t, emu, c, 330)
			if len(selected) < 200 {
				t.Fatalf("only %d selected; the test needs 200+", len(selected))
			}
			before := emu.Counts()
			logged := len(emu.Requests())
			sum, err := h.Handle(t.Context(), []byte(`{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00Z"}`))
			if err != nil {
				t.Fatal(err)
			}
			if sum.Sent != len(selected) || sum.Rejected != 0 || sum.Retry != 0 {
				t.Errorf("summary %+v, want %d sent and nothing else", sum, len(selected))
			}
			after := emu.Counts()
			if got := after.MessagesStored - before.MessagesStored; got != len(selected) {
				t.Errorf("%d messages stored, want %d", got, len(selected))
			}
			if got := after.IdempotentReplays - before.IdempotentReplays; got != 0 {
				t.Errorf("%d sends repeated a reminder already stored, want 0", got)
			}
			// 330 conversations in pages of 100: four pages, the last short.
			if got := listCalls(emu, logged); got != 4 {
				t.Errorf("%d listing calls, want 4", got)
			}
			calls := sendCalls(emu, logged)
			for _, id := range selected {
				reminders := 0
				for _, m := range emu.Messages(id) {
					if strings.Contains(m.Text, "Standup") {
						reminders++
					}
				}
				if reminders != 1 || calls[id] != 1 {
					t.Errorf("%s: %d reminders in %d calls, want 1 in 1", id, reminders, calls[id])
				}
				delete(calls, id)
			}
			for id, n := range calls {
				t.Errorf("%s, not selected: %d sends", id, n)
			}
		})
	}
}

// activityDuringWalk is a TalkJS where, while the reminder walks the
// listing, other users write in the oldest conversations, the ones the walk
// reaches last: under last-activity order they jump to the top, behind the
// walk's cursor.
type activityDuringWalk struct {
	*talkjs.Client
	t      *testing.T
	oldest []string
}

func (c activityDuringWalk) ListConversations(ctx context.Context, opts talkjs.ListOptions) iter.Seq2[talkjs.Conversation, error] {
	return func(yield func(talkjs.Conversation, error) bool) {
		n := 0
		for conv, err := range c.Client.ListConversations(ctx, opts) {
			if !yield(conv, err) {
				return
			}
			// At the end of the first page: before the walk asks for the next.
			if n++; n == opts.Limit {
				for _, id := range c.oldest {
					msg := talkjs.NewMessage{Type: talkjs.SystemMessage, Text: "meanwhile", IdempotencyKey: "meanwhile-" + id}
					if _, err := c.Client.SendMessages(ctx, id, msg); err != nil {
						c.t.Error(err)
					}
				}
			}
		}
	}
}

// TestReminderWhileOthersWrite: messages from elsewhere during the walk
// must not make it skip the conversations they land in.
func TestReminderWhileOthersWrite(t *testing.T) {
	h, emu := newHandler(t)
	c := h.TalkJS.(*talkjs.Client)
	selected := seedActive(t, emu, c, 250)
	// The oldest selected conversations without earlier activity.
	var oldest []string
	for _, id := range selected {
		if len(emu.Messages(id)) == 0 && len(oldest) < 30 {
			oldest = append(oldest, id)
		}
	}
	h.TalkJS = activityDuringWalk{Client: c, t: t, oldest: oldest}
	sum, err := h.Handle(t.Context(), []byte(`{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != len(selected) {
		t.Errorf("summary %+v, want %d sent", sum, len(selected))
	}
	for _, id := range oldest {
		if n := len(emu.Messages(id)); n < 2 {
			t.Errorf("%s: %d messages; the reminder skipped it", id, n)
		}
	}
}

// TestExplicitListCountsOnce: a conversation named twice gets one message
// and counts once.
func TestExplicitListCountsOnce(t *testing.T) {
	h, emu := newHandler(t)
	seed(emu, "a", "github")
	seed(emu, "b", "github")
	sum, err := h.Handle(t.Context(), []byte(`{"conversationIds":["a","b","a"],"text":"hi","scheduledTime":"2026-11-25T09:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 2 {
		t.Errorf("summary %+v, want 2 sent", sum)
	}
	if calls := sendCalls(emu, 0); calls["a"] != 1 || calls["b"] != 1 {
		t.Errorf("send calls %v, want one each", calls)
	}
}

// ignoresOrder is a TalkJS that lists by last activity (TalkJS's default
// since REST API version 2021-02-09) whatever order the walk asks for, as a
// server that ignored orderBy would.
type ignoresOrder struct{ *talkjs.Client }

func (c ignoresOrder) ListConversations(ctx context.Context, opts talkjs.ListOptions) iter.Seq2[talkjs.Conversation, error] {
	return c.Client.ListConversations(ctx, talkjs.ListOptions{Limit: opts.Limit, OrderBy: talkjs.OrderByLastActivity})
}

// TestListingOutOfOrderFailsTheRun: a listing that is not latest-created
// first could skip conversations, so the run fails (Lambda retries it, and
// the Errors alarm shows it) instead of reporting success.
func TestListingOutOfOrderFailsTheRun(t *testing.T) {
	h, emu := newHandler(t)
	c := h.TalkJS.(*talkjs.Client)
	seedActive(t, emu, c, 40)
	h.TalkJS = ignoresOrder{c}
	_, err := h.Handle(t.Context(), []byte(`{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00Z"}`))
	if err == nil || !strings.Contains(err.Error(), "not latest-created first") {
		t.Fatalf("err %v, want the run failed for a listing out of creation order", err)
	}
	if errors.Is(err, schedule.ErrInvalidInput) {
		t.Errorf("err %v: the input was fine; the listing was not", err)
	}
}

package dispatch_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// TestMemoAcrossInvocations: a warm container sends an event for a known
// conversation with one TalkJS call; when the memo is stale (the
// conversation was deleted in TalkJS) the send is repeated with the upserts
// and nothing is lost; after the TTL the upserts are made again.
func TestMemoAcrossInvocations(t *testing.T) {
	c, emu := newClient(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	memo := &dispatch.Memo{TTL: time.Minute, Now: func() time.Time { return now }}
	bot := "Bot"
	send := func(n int) mapping.Send {
		return mapping.Send{
			ConversationID: "conv-m",
			Conversation:   &talkjs.ConversationUpdate{Participants: []string{"bot"}},
			Users:          map[string]talkjs.UserUpdate{"bot": {Name: &bot}},
			Messages:       []talkjs.NewMessage{{Type: talkjs.UserMessage, Sender: "bot", Text: "event", IdempotencyKey: "m-" + string(rune('0'+n))}},
		}
	}
	calls := func() (puts, posts int) {
		for _, r := range emu.Requests() {
			switch r.Method {
			case http.MethodPut:
				puts++
			case http.MethodPost:
				posts++
			}
		}
		return puts, posts
	}
	deliver := func(n int) {
		t.Helper()
		s := dispatch.NewSender(c)
		s.Memo = memo
		if _, err := s.Deliver(t.Context(), send(n)); err != nil {
			t.Fatalf("event %d: %v", n, err)
		}
	}

	deliver(1)
	puts0, _ := calls() // includes newClient's own user setup
	deliver(2)
	if puts, posts := calls(); puts != puts0 || posts != 2 {
		t.Errorf("warm event: %d upserts, %d sends; want no new upsert and one send", puts-puts0, posts)
	}

	// Someone deletes the conversation in TalkJS: the memo is stale.
	if err := c.DeleteConversation(t.Context(), "conv-m"); err != nil {
		t.Fatal(err)
	}
	deliver(3)
	if n := len(emu.Messages("conv-m")); n != 1 {
		t.Errorf("after the conversation was deleted, it holds %d messages, want the new one", n)
	}
	refused := 0
	for _, r := range emu.Requests() {
		if r.Status == http.StatusNotFound {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d sends refused with 404, want the one the stale memo caused", refused)
	}

	// After the TTL the upserts are made again.
	puts1, _ := calls()
	now = now.Add(2 * time.Minute)
	deliver(4)
	if puts, _ := calls(); puts != puts1+2 {
		t.Errorf("after the TTL: %d upserts, want 2 (user and conversation)", puts-puts1)
	}
}

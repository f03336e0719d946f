package dispatch_test

import (
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// TestDeliverJoinsRecipients: a route's recipients join the conversation
// with their settings before its messages go out, so TalkJS can notify
// them of the bot's UserMessage.
func TestDeliverJoinsRecipients(t *testing.T) {
	c, emu := newClient(t)
	name := "Ops"
	send := mapping.Send{
		Route: "ops", ConversationID: "ops",
		Users:        map[string]talkjs.UserUpdate{"ops-bot": {Name: &name}},
		Conversation: &talkjs.ConversationUpdate{Participants: []string{"ops-bot"}},
		Recipients: map[string]talkjs.Participation{
			"alice": {},
			"bob":   {Access: talkjs.AccessRead, Notify: talkjs.NotifyMentionsOnly},
		},
		Messages: []talkjs.NewMessage{{Type: talkjs.UserMessage, Sender: "ops-bot", Text: "deploy", IdempotencyKey: "ops:1:0"}},
	}
	s := dispatch.NewSender(c)
	for range 2 { // the second Deliver repeats nothing but the (deduplicated) send
		if _, err := s.Deliver(t.Context(), send); err != nil {
			t.Fatal(err)
		}
	}
	conv, ok := emu.Conversation("ops")
	if !ok {
		t.Fatal("conversation not created")
	}
	want := map[string]talkjstest.Participant{
		"ops-bot": {Access: "ReadWrite", Notify: true},
		"alice":   {Access: "ReadWrite", Notify: true},
		"bob":     {Access: "Read", MentionsOnly: true},
	}
	for id, p := range want {
		if got := conv.Participants[id]; got != p {
			t.Errorf("participant %s = %+v, want %+v", id, got, p)
		}
	}
	joins := 0
	for _, r := range emu.Requests() {
		if r.Method == "PUT" && strings.Contains(r.Path, "/participants/") {
			joins++
		}
	}
	if joins != 2 {
		t.Errorf("%d participant joins, want 2 (one per recipient, not repeated)", joins)
	}
	if msgs := emu.Messages("ops"); len(msgs) != 1 || msgs[0].SenderID != "ops-bot" || msgs[0].Type != "UserMessage" {
		t.Errorf("messages %+v", msgs)
	}
}

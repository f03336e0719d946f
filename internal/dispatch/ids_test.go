package dispatch_test

import (
	"errors"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// TestDeliverRefusesBadIDs: whatever path built the send, an id that breaks
// the one rule (talkjs.ValidateID) is refused before any request, as a
// Reject, so "." or ".." never become a URL path segment (issue 14.7).
func TestDeliverRefusesBadIDs(t *testing.T) {
	msgs := []talkjs.NewMessage{{Type: talkjs.SystemMessage, Text: "x", IdempotencyKey: "k"}}
	tests := []struct {
		name string
		send mapping.Send
	}{
		{"conversation ..", mapping.Send{ConversationID: "..", Messages: msgs}},
		{"conversation .", mapping.Send{ConversationID: ".", Messages: msgs}},
		{"participant a/b", mapping.Send{ConversationID: "c", Conversation: &talkjs.ConversationUpdate{Participants: []string{"a/b"}}, Messages: msgs}},
		{"user NUL", mapping.Send{ConversationID: "c", Users: map[string]talkjs.UserUpdate{"a\x00": {}}, Messages: msgs}},
		{"sender ..", mapping.Send{ConversationID: "c", Messages: []talkjs.NewMessage{{Type: talkjs.UserMessage, Sender: "..", Text: "x", IdempotencyKey: "k"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, emu := newClient(t)
			before := emu.Counts().Requests
			_, err := dispatch.NewSender(c).Deliver(t.Context(), tt.send)
			if !errors.Is(err, dispatch.ErrInvalidRecord) || !errors.Is(err, talkjs.ErrInvalidID) || dispatch.Classify(err) != dispatch.Reject {
				t.Errorf("err = %v, want an invalid record, rejected", err)
			}
			if n := emu.Counts().Requests - before; n != 0 {
				t.Errorf("TalkJS got %d requests", n)
			}
		})
	}
}

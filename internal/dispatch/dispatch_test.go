package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want dispatch.Outcome
	}{
		{"nil", nil, 0},
		{"TalkJS 500", &talkjs.APIError{StatusCode: 500}, dispatch.Retry},
		{"TalkJS 503 wrapped", fmt.Errorf("send: %w", &talkjs.APIError{StatusCode: 503}), dispatch.Retry},
		{"TalkJS 429", &talkjs.APIError{StatusCode: 429}, dispatch.Retry},
		{"TalkJS 400", &talkjs.APIError{StatusCode: 400}, dispatch.Reject},
		{"TalkJS 404", &talkjs.APIError{StatusCode: 404}, dispatch.Reject},
		{"TalkJS 401 after the key was fetched again", &talkjs.APIError{StatusCode: 401}, dispatch.Retry},
		{"secret unavailable", fmt.Errorf("fetch: %w", talkjs.ErrKeyUnavailable), dispatch.Retry},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, dispatch.Retry},
		{"deadline", context.DeadlineExceeded, dispatch.Retry},
		{"invalid record", fmt.Errorf("%w: no text", dispatch.ErrInvalidRecord), dispatch.Reject},
		{"invalid payload", fmt.Errorf("%w: not JSON", mapping.ErrInvalidPayload), dispatch.Reject},
		{"unknown route", fmt.Errorf("%w: nope", mapping.ErrRouteNotFound), dispatch.Reject},
		{"unknown error", errors.New("something odd"), dispatch.Retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dispatch.Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestDeliverChunksAndSkipsRepeatedUpserts(t *testing.T) {
	c, emu := newClient(t)
	s := dispatch.NewSender(c)
	var msgs []talkjs.NewMessage
	for i := range 23 {
		msgs = append(msgs, msg("conv-big", i))
	}
	send := mapping.Send{ConversationID: "conv-big", Conversation: &talkjs.ConversationUpdate{Participants: []string{"alice"}}, Messages: msgs}
	for range 2 {
		d, err := s.Deliver(t.Context(), send)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.MessageIDs) != 23 {
			t.Fatalf("got %d ids, want 23", len(d.MessageIDs))
		}
	}
	if n := sends(emu, "conv-big"); n != 6 {
		t.Errorf("send calls = %d, want 6 (3 per delivery of 23 messages)", n)
	}
	if n := len(emu.Messages("conv-big")); n != 23 {
		t.Errorf("stored %d, want 23 (the second delivery is deduplicated)", n)
	}
	puts := 0
	for _, r := range emu.Requests() {
		if r.Method == "PUT" && r.ConversationID == "conv-big" {
			puts++
		}
	}
	if puts != 1 {
		t.Errorf("conversation upserts = %d, want 1", puts)
	}
}

package talkjs

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string // "" for valid; else a substring of the error
	}{
		{name: "plain", id: "order-1042"},
		{name: "spaces, colons, query and fragment characters", id: "acme web:42 ?#%&"},
		{name: "non-ASCII letters", id: "bestellung-ü-42-注文"},
		{name: "255 bytes", id: strings.Repeat("a", MaxIDBytes)},
		{name: "empty", id: "", want: "is empty"},
		{name: "256 bytes", id: strings.Repeat("a", MaxIDBytes+1), want: "256 bytes"},
		{name: "dot", id: ".", want: "relative path segment"},
		{name: "dot dot", id: "..", want: "relative path segment"},
		{name: "three dots are a name", id: "..."},
		{name: "slash", id: "a/b", want: "'/'"},
		{name: "NUL", id: "a\x00b", want: "U+0000"},
		{name: "newline", id: "a\nb", want: "U+000A"},
		{name: "tab", id: "a\tb", want: "U+0009"},
		{name: "DEL", id: "a\x7fb", want: "U+007F"},
		{name: "C1 control", id: "a\u0085b", want: "U+0085"},
		{name: "invalid UTF-8", id: "a\xffb", want: "UTF-8"},
		{name: "bidi override", id: "user\u202Egnp.exe", want: "U+202E"},
		{name: "zero-width space", id: "ali\u200Bce", want: "U+200B"},
		{name: "byte-order mark", id: "\uFEFFalice", want: "U+FEFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateID(KindConversation, tt.id)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ValidateID(%q) = %v, want nil", tt.id, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "conversation id") {
				t.Fatalf("ValidateID = %v, want an error naming the conversation id and %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidID) || !errors.Is(err, ErrInvalidRequest) || Retryable(err) {
				t.Errorf("error %v: want ErrInvalidID and ErrInvalidRequest, not retryable", err)
			}
		})
	}
}

// TestBadIDsSendNothing checks that every method applies ValidateID before
// any request.
func TestBadIDsSendNothing(t *testing.T) {
	srv, rec := okServer(t, "{}")
	c := newTestClient(t, srv)
	ctx := t.Context()
	bad := ".."
	calls := map[string]func() error{
		"UpsertUser":         func() error { return c.UpsertUser(ctx, bad, UserUpdate{}) },
		"UpsertUsers":        func() error { return c.UpsertUsers(ctx, map[string]UserUpdate{bad: {}}) },
		"GetUser":            func() error { _, err := c.GetUser(ctx, bad); return err },
		"UpsertConversation": func() error { return c.UpsertConversation(ctx, bad, ConversationUpdate{}) },
		"participant in UpsertConversation": func() error {
			return c.UpsertConversation(ctx, "c1", ConversationUpdate{Participants: []string{"a/b"}})
		},
		"GetConversation":       func() error { _, err := c.GetConversation(ctx, bad); return err },
		"DeleteConversation":    func() error { return c.DeleteConversation(ctx, bad) },
		"ListUserConversations": func() error { return firstErr(c.ListUserConversations(ctx, bad, UserConversationsOptions{})) },
		"SendMessages": func() error {
			_, err := c.SendMessages(ctx, bad, NewMessage{Type: SystemMessage, Text: "x"})
			return err
		},
		"sender in SendMessages": func() error {
			_, err := c.SendMessages(ctx, "c1", NewMessage{Type: UserMessage, Sender: "a\x00", Text: "x"})
			return err
		},
		"GetMessage":          func() error { _, err := c.GetMessage(ctx, "c1", bad); return err },
		"ListMessages":        func() error { return firstErr(c.ListMessages(ctx, bad, ListOptions{})) },
		"EditMessage":         func() error { return c.EditMessage(ctx, bad, "m1", MessageUpdate{}) },
		"DeleteMessage":       func() error { return c.DeleteMessage(ctx, "c1", "a/b") },
		"JoinConversation":    func() error { return c.JoinConversation(ctx, "c1", bad, Participation{}) },
		"ModifyParticipation": func() error { return c.ModifyParticipation(ctx, bad, "u1", Participation{}) },
		"LeaveConversation":   func() error { return c.LeaveConversation(ctx, "c1", ".") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d requests sent for invalid ids", n)
	}
}

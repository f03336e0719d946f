package talkjs

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestUpdatesSendNulls(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{name: "user without clears is unchanged", v: UserUpdate{Name: ptr("A"), Custom: map[string]string{"k": "v"}},
			want: `{"name":"A","custom":{"k":"v"}}`},
		{name: "user fields cleared", v: UserUpdate{Name: ptr("A"), Clear: []string{FieldPhotoURL, FieldEmail, FieldCustom}},
			want: `{"custom":null,"email":null,"name":"A","photoUrl":null}`},
		{name: "user custom keys cleared next to set ones", v: UserUpdate{Custom: map[string]string{"k": "v"}, ClearCustom: []string{"gone"}},
			want: `{"custom":{"gone":null,"k":"v"}}`},
		{name: "conversation subject and photo cleared", v: ConversationUpdate{Participants: []string{"u1"}, Clear: []string{FieldSubject, FieldPhotoURL, FieldWelcomeMessages}},
			want: `{"participants":["u1"],"photoUrl":null,"subject":null,"welcomeMessages":null}`},
		{name: "conversation custom key cleared", v: ConversationUpdate{ClearCustom: []string{"a"}},
			want: `{"custom":{"a":null}}`},
		{name: "message custom cleared", v: MessageUpdate{Text: ptr("[DELETED]"), Clear: []string{FieldCustom}},
			want: `{"custom":null,"text":"[DELETED]"}`},
		{name: "attachment token", v: NewMessage{Type: UserMessage, Sender: "u1", AttachmentToken: "tok"},
			want: `{"type":"UserMessage","sender":"u1","text":"","attachmentToken":"tok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestClearsAreChecked(t *testing.T) {
	srv, rec := okServer(t, "{}")
	c := newTestClient(t, srv)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
	}{
		{"user name cannot be cleared", func() error { return c.UpsertUser(ctx, "u1", UserUpdate{Clear: []string{"name"}}) }},
		{"user field set and cleared", func() error {
			return c.UpsertUser(ctx, "u1", UserUpdate{PhotoURL: ptr("x"), Clear: []string{FieldPhotoURL}})
		}},
		{"user custom key set and cleared", func() error {
			return c.UpsertUser(ctx, "u1", UserUpdate{Custom: map[string]string{"k": "v"}, ClearCustom: []string{"k"}})
		}},
		{"custom key cleared with all of custom", func() error {
			return c.UpsertUser(ctx, "u1", UserUpdate{Clear: []string{FieldCustom}, ClearCustom: []string{"k"}})
		}},
		{"conversation unknown field", func() error {
			return c.UpsertConversation(ctx, "c1", ConversationUpdate{Clear: []string{"participants"}})
		}},
		{"batch user with a bad clear", func() error {
			return c.UpsertUsers(ctx, map[string]UserUpdate{"u1": {Clear: []string{FieldSubject}}})
		}},
		{"message subject", func() error { return c.EditMessage(ctx, "c1", "m1", MessageUpdate{Clear: []string{FieldSubject}}) }},
		{"message custom set and cleared", func() error {
			return c.EditMessage(ctx, "c1", "m1", MessageUpdate{Custom: map[string]*string{"k": nil}, Clear: []string{FieldCustom}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

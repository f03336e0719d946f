package talkjstest

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
)

// TestDocumentedLeniency covers what TalkJS's docs and examples send that an
// over-strict emulator would refuse.
func TestDocumentedLeniency(t *testing.T) {
	t.Run("id inside user and conversation bodies, as the anonymisation example sends", func(t *testing.T) {
		f := newFixture(t)
		f.mustOK(t, "PUT", "/users/alice", map[string]any{"id": "alice", "name": "[DELETED]", "email": nil, "availabilityText": nil})
		f.mustOK(t, "PUT", "/conversations/order-1", map[string]any{"id": "order-1", "participants": []string{"alice"}, "photoUrl": nil, "custom": nil, "welcomeMessages": nil})
		if got := f.emu.Counts().IgnoredFields; got != 2 {
			t.Errorf("IgnoredFields = %d, want 2", got)
		}
		if u, _ := f.emu.User("alice"); u.Name != "[DELETED]" || u.Email != nil {
			t.Errorf("user = %+v", u)
		}
	})
	t.Run("sender null on a SystemMessage", func(t *testing.T) {
		f := newFixture(t)
		f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "SystemMessage", "text": "hi", "sender": nil}})
		if got := f.emu.Messages("order-1"); len(got) != 1 || got[0].SenderID != "" {
			t.Errorf("messages = %+v", got)
		}
	})
	t.Run("attachmentToken without text", func(t *testing.T) {
		f := newFixture(t)
		f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "UserMessage", "sender": "alice", "attachmentToken": "tok_1"}})
		got := decode[struct {
			Data []struct {
				Attachment *struct {
					URL string `json:"url"`
				} `json:"attachment"`
			} `json:"data"`
		}](t, f.mustOK(t, "GET", "/conversations/order-1/messages", nil))
		if len(got.Data) != 1 || got.Data[0].Attachment == nil || got.Data[0].Attachment.URL == "" {
			t.Errorf("listed %+v, want one message with an attachment", got.Data)
		}
	})
}

func TestNullClearing(t *testing.T) {
	f := newFixture(t)
	f.mustOK(t, "PUT", "/users/alice", map[string]any{"photoUrl": "https://x/p.png", "custom": map[string]string{"a": "1", "b": "2"}})
	f.mustOK(t, "PUT", "/conversations/order-1", map[string]any{"photoUrl": "https://x/c.png", "custom": map[string]string{"a": "1", "b": "2"}})
	// Custom merges: b is removed by its null, c added, a kept.
	f.mustOK(t, "PUT", "/users/alice", map[string]any{"photoUrl": nil, "custom": map[string]any{"b": nil, "c": "3"}})
	f.mustOK(t, "PUT", "/conversations/order-1", map[string]any{"subject": nil, "photoUrl": nil, "custom": map[string]any{"b": nil, "c": "3"}})
	want := map[string]string{"a": "1", "c": "3"}
	u, _ := f.emu.User("alice")
	if u.PhotoURL != "" || !maps.Equal(u.Custom, want) {
		t.Errorf("user after clearing = %+v", u)
	}
	c, _ := f.emu.Conversation("order-1")
	if c.Subject != "" || c.PhotoURL != "" || !maps.Equal(c.Custom, want) {
		t.Errorf("conversation after clearing = %+v", c)
	}
	id := decode[[]struct {
		ID string `json:"id"`
	}](t, f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "SystemMessage", "text": "x", "custom": map[string]string{"k": "v"}}}))[0].ID
	f.mustOK(t, "PUT", "/conversations/order-1/messages/"+id, map[string]any{"text": "[DELETED]", "custom": nil})
	if m := f.emu.Messages("order-1")[0]; m.Text != "[DELETED]" || len(m.Custom) != 0 {
		t.Errorf("message after clearing custom = %+v", m)
	}
}

func TestParticipantLimit(t *testing.T) {
	f := newFixture(t)
	f.emu.SetParticipantLimit(3) // order-1 has alice and bob
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		want   int
	}{
		{"join up to the limit", "PUT", "/conversations/order-1/participants/carol", nil, http.StatusOK},
		{"join past the limit", "PUT", "/conversations/order-1/participants/dave", nil, http.StatusBadRequest},
		{"rejoin does not count twice", "PUT", "/conversations/order-1/participants/carol", map[string]string{"access": "Read"}, http.StatusOK},
		{"PUT past the limit", "PUT", "/conversations/big", map[string]any{"participants": []string{"a", "b", "c", "d"}}, http.StatusBadRequest},
		{"PUT at the limit", "PUT", "/conversations/big", map[string]any{"participants": []string{"a", "b", "c"}}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := f.call(t, tc.method, tc.path, tc.body); status != tc.want {
				t.Errorf("status %d, want %d; body %s", status, tc.want, body)
			}
		})
	}
	if c, _ := f.emu.Conversation("order-1"); len(c.Participants) != 3 {
		t.Errorf("order-1 has %d participants, want 3", len(c.Participants))
	}
	if _, ok := f.emu.Conversation("big"); !ok {
		t.Error("the PUT at the limit did not store the conversation")
	}
}

// TestBatchRunsInAnyOrder checks that operations do not run in request order
// (TalkJS: "may execute in a different order"), that the order depends only
// on the seed, and that answers carry their sequence numbers.
func TestBatchRunsInAnyOrder(t *testing.T) {
	run := func(seed int64) []string {
		f := newFixture(t)
		f.emu.SetSeed(seed)
		var ops []any
		for i := range 10 {
			ops = append(ops, []any{i + 1, "POST", "/conversations/order-1/messages", []map[string]string{{"type": "SystemMessage", "text": fmt.Sprint(i + 1)}}})
		}
		answers := decode[[][3]any](t, f.mustOK(t, "POST", "/batch", ops))
		for _, a := range answers {
			if a[1].(float64) != 200 {
				t.Fatalf("operation %v: %v", a[0], a)
			}
		}
		var texts []string
		for _, m := range f.emu.Messages("order-1") {
			texts = append(texts, m.Text)
		}
		return texts
	}
	inOrder := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
	a, b := run(7), run(7)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different orders: %v and %v", a, b)
	}
	if slices.Equal(a, inOrder) {
		t.Errorf("operations ran in request order %v", a)
	}
	sorted := slices.Clone(a)
	slices.SortFunc(sorted, func(x, y string) int { return len(x)*100 + int(x[0]) - len(y)*100 - int(y[0]) })
	if !slices.Equal(sorted, inOrder) {
		t.Errorf("operations lost or repeated: %v", a)
	}
}

package talkjstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

type sent []struct {
	ID string `json:"id"`
}

type messagePage struct {
	Data []struct {
		ID                  string            `json:"id"`
		ConversationID      string            `json:"conversationId"`
		Type                string            `json:"type"`
		SenderID            *string           `json:"senderId"`
		Text                string            `json:"text"`
		Custom              map[string]string `json:"custom"`
		ReferencedMessageID *string           `json:"referencedMessageId"`
		Origin              string            `json:"origin"`
		CreatedAt           int64             `json:"createdAt"`
		EditedAt            *int64            `json:"editedAt"`
	} `json:"data"`
}

func TestSendAndRead(t *testing.T) {
	f := newFixture(t)
	got := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{
		{"type": "SystemMessage", "text": "Order shipped", "custom": map[string]string{"carrier": "ups"}},
		{"type": "UserMessage", "sender": "alice", "text": "Thanks!"},
	}))
	if len(got) != 2 || !strings.HasPrefix(got[0].ID, "msg_") || len(got[0].ID) != 26 || got[0].ID == got[1].ID {
		t.Fatalf("ids %v, want two distinct msg_ ids of 26 characters", got)
	}
	reply := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{
		{"type": "UserMessage", "sender": "bob", "text": "You're welcome", "referencedMessageId": got[1].ID},
	}))

	stored := f.emu.Messages("order-1")
	if len(stored) != 3 {
		t.Fatalf("stored %d messages, want 3", len(stored))
	}
	if m := stored[0]; m.ID != got[0].ID || m.Type != "SystemMessage" || m.SenderID != "" || m.Custom["carrier"] != "ups" {
		t.Errorf("first stored message %+v", m)
	}
	if m := stored[2]; m.ReferencedMessageID != got[1].ID || m.SenderID != "bob" {
		t.Errorf("reply stored as %+v", m)
	}
	if !(stored[0].CreatedAt <= stored[1].CreatedAt && stored[1].CreatedAt <= stored[2].CreatedAt) {
		t.Errorf("createdAt goes back: %d %d %d", stored[0].CreatedAt, stored[1].CreatedAt, stored[2].CreatedAt)
	}

	one := decode[map[string]any](t, f.mustOK(t, "GET", "/conversations/order-1/messages/"+got[0].ID, nil))
	if one["senderId"] != nil || one["text"] != "Order shipped" || one["origin"] != "rest" || one["conversationId"] != "order-1" {
		t.Errorf("GET message answered %v", one)
	}

	list := decode[messagePage](t, f.mustOK(t, "GET", "/conversations/order-1/messages", nil))
	if len(list.Data) != 3 || list.Data[0].ID != reply[0].ID || list.Data[2].ID != got[0].ID {
		t.Errorf("listing is not newest first: %+v", list.Data)
	}
	conv := decode[map[string]any](t, f.mustOK(t, "GET", "/conversations/order-1", nil))
	if last, _ := conv["lastMessage"].(map[string]any); last == nil || last["id"] != reply[0].ID {
		t.Errorf("lastMessage %v, want %s", conv["lastMessage"], reply[0].ID)
	}
	if c := f.emu.Counts(); c.MessagesStored != 3 || c.IdempotentReplays != 0 {
		t.Errorf("counts %+v", c)
	}
}

func TestIdempotency(t *testing.T) {
	tests := []struct {
		name        string
		first       []map[string]any
		second      []map[string]any
		wantStored  int
		wantReplays int
		sameIDs     [][2]int // pairs (index in first, index in second) answered with the same id
	}{
		{
			name:        "repeated send stores nothing",
			first:       []map[string]any{{"type": "SystemMessage", "text": "a", "idempotencyKey": "k1"}},
			second:      []map[string]any{{"type": "SystemMessage", "text": "a", "idempotencyKey": "k1"}},
			wantStored:  1,
			wantReplays: 1,
			sameIDs:     [][2]int{{0, 0}},
		},
		{
			name:        "replay returns the first id even if the text changed",
			first:       []map[string]any{{"type": "SystemMessage", "text": "a", "idempotencyKey": "k1"}},
			second:      []map[string]any{{"type": "SystemMessage", "text": "b", "idempotencyKey": "k1"}},
			wantStored:  1,
			wantReplays: 1,
			sameIDs:     [][2]int{{0, 0}},
		},
		{
			name: "mixed send stores only the new key",
			first: []map[string]any{
				{"type": "SystemMessage", "text": "a", "idempotencyKey": "k1"},
			},
			second: []map[string]any{
				{"type": "SystemMessage", "text": "a", "idempotencyKey": "k1"},
				{"type": "UserMessage", "sender": "alice", "text": "b", "idempotencyKey": "k2"},
			},
			wantStored:  2,
			wantReplays: 1,
			sameIDs:     [][2]int{{0, 0}},
		},
		{
			name:        "messages without a key are stored every time",
			first:       []map[string]any{{"type": "SystemMessage", "text": "a"}},
			second:      []map[string]any{{"type": "SystemMessage", "text": "a"}},
			wantStored:  2,
			wantReplays: 0,
		},
		{
			name:        "same key twice in one send",
			first:       []map[string]any{{"type": "SystemMessage", "text": "x", "idempotencyKey": "other"}},
			second:      []map[string]any{{"type": "SystemMessage", "text": "a", "idempotencyKey": "dup"}, {"type": "SystemMessage", "text": "a", "idempotencyKey": "dup"}},
			wantStored:  2,
			wantReplays: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			first := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", tc.first))
			second := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", tc.second))
			if len(second) != len(tc.second) {
				t.Fatalf("answered %d ids for %d messages", len(second), len(tc.second))
			}
			for _, p := range tc.sameIDs {
				if first[p[0]].ID != second[p[1]].ID {
					t.Errorf("first[%d]=%s, second[%d]=%s, want the same id", p[0], first[p[0]].ID, p[1], second[p[1]].ID)
				}
			}
			if got := len(f.emu.Messages("order-1")); got != tc.wantStored {
				t.Errorf("stored %d messages, want %d", got, tc.wantStored)
			}
			if c := f.emu.Counts(); c.IdempotentReplays != tc.wantReplays || c.MessagesStored != tc.wantStored {
				t.Errorf("counts %+v, want %d replays and %d stored", c, tc.wantReplays, tc.wantStored)
			}
		})
	}
}

func TestIdempotencyKeysArePerConversation(t *testing.T) {
	f := newFixture(t)
	f.mustOK(t, "PUT", "/conversations/order-2", map[string]any{"participants": []string{"alice"}})
	msg := []map[string]any{{"type": "SystemMessage", "text": "a", "idempotencyKey": "k"}}
	a := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", msg))
	b := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-2/messages", msg))
	if a[0].ID == b[0].ID {
		t.Errorf("the same key in two conversations gave one id %s", a[0].ID)
	}
	if n := f.emu.Counts().MessagesStored; n != 2 {
		t.Errorf("stored %d, want 2", n)
	}
}

func TestPagingNewestFirst(t *testing.T) {
	f := newFixture(t)
	const total = 250
	var ids []string // oldest first
	for i := 0; i < total; i += 10 {
		batch := make([]map[string]any, 10)
		for j := range batch {
			batch[j] = map[string]any{"type": "SystemMessage", "text": fmt.Sprintf("m%03d", i+j)}
		}
		for _, s := range decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", batch)) {
			ids = append(ids, s.ID)
		}
	}
	tests := []struct {
		name      string
		limit     string
		wantPages int
	}{
		{"limit 100", "100", 3},
		{"limit 7", "7", 36},
		{"default limit", "", 25},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			pages, cursor := 0, ""
			for {
				path := "/conversations/order-1/messages?"
				if tc.limit != "" {
					path += "limit=" + tc.limit + "&"
				}
				if cursor != "" {
					path += "startingAfter=" + cursor
				}
				p := decode[messagePage](t, f.mustOK(t, "GET", path, nil))
				if len(p.Data) == 0 {
					break
				}
				pages++
				for _, m := range p.Data {
					got = append(got, m.ID)
				}
				cursor = p.Data[len(p.Data)-1].ID
			}
			want := slices.Clone(ids)
			slices.Reverse(want)
			if !slices.Equal(got, want) {
				t.Fatalf("paged %d ids, want all %d newest first; first got %v", len(got), len(want), got[:min(3, len(got))])
			}
			if pages != tc.wantPages {
				t.Errorf("%d pages, want %d", pages, tc.wantPages)
			}
		})
	}
}

func TestEditAndDeleteMessage(t *testing.T) {
	f := newFixture(t)
	ids := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{
		{"type": "UserMessage", "sender": "alice", "text": "hello", "custom": map[string]string{"a": "1", "b": "2"}, "idempotencyKey": "k"},
	}))
	id := ids[0].ID
	f.mustOK(t, "PATCH", "/conversations/order-1/messages/"+id, map[string]any{"text": "hello again", "custom": map[string]any{"b": nil, "c": "3"}})
	m := f.emu.Messages("order-1")[0]
	if m.Text != "hello again" || m.Custom["a"] != "1" || m.Custom["c"] != "3" || len(m.Custom) != 2 || m.EditedAt == 0 {
		t.Errorf("after edit %+v", m)
	}
	if status, body := f.call(t, "PATCH", "/conversations/order-1/messages/"+id, map[string]any{"custom": map[string]any{"x": 1}}); status != http.StatusBadRequest {
		t.Errorf("edit with a number custom value: %d %s", status, body)
	}
	if status, _ := f.call(t, "GET", "/conversations/order-2/messages/"+id, nil); status != http.StatusNotFound {
		t.Errorf("message fetched through another conversation: %d", status)
	}
	f.mustOK(t, "DELETE", "/conversations/order-1/messages/"+id, nil)
	if status, _ := f.call(t, "GET", "/conversations/order-1/messages/"+id, nil); status != http.StatusNotFound {
		t.Errorf("deleted message: status %d, want 404", status)
	}
	if status, _ := f.call(t, "DELETE", "/conversations/order-1/messages/"+id, nil); status != http.StatusNotFound {
		t.Errorf("deleting twice: status %d, want 404", status)
	}
	// A late retry of the deleted message must not bring it back.
	again := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{
		{"type": "UserMessage", "sender": "alice", "text": "hello", "idempotencyKey": "k"},
	}))
	if again[0].ID != id || len(f.emu.Messages("order-1")) != 0 {
		t.Errorf("retry after delete: id %s, %d stored", again[0].ID, len(f.emu.Messages("order-1")))
	}
}

func TestConcurrentSends(t *testing.T) {
	f := newFixture(t)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				// Every worker sends the same keys, so each key must be stored once.
				status, body, err := post(t.Context(), f, "/conversations/order-1/messages", []map[string]any{
					{"type": "UserMessage", "sender": "alice", "text": "hi", "idempotencyKey": fmt.Sprintf("k%d", i)},
					{"type": "SystemMessage", "text": fmt.Sprintf("w%d-%d", w, i)},
				})
				if err != nil || status != http.StatusOK {
					errs <- fmt.Sprintf("status %d, err %v: %s", status, err, body)
				}
				_ = f.emu.Counts()
				_ = f.emu.Requests()
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	stored := f.emu.Messages("order-1")
	if want := each + workers*each; len(stored) != want {
		t.Errorf("stored %d, want %d", len(stored), want)
	}
	seen := map[string]bool{}
	for i, m := range stored {
		if seen[m.ID] {
			t.Fatalf("id %s stored twice", m.ID)
		}
		seen[m.ID] = true
		if i > 0 && m.CreatedAt < stored[i-1].CreatedAt {
			t.Fatalf("createdAt goes back at %d", i)
		}
	}
	if c := f.emu.Counts(); c.IdempotentReplays != (workers-1)*each {
		t.Errorf("replays %d, want %d", c.IdempotentReplays, (workers-1)*each)
	}
}

// post is a goroutine-safe send: it reports failures instead of stopping the test.
func post(ctx context.Context, f fixture, path string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", f.srv.URL+"/v1/"+testApp+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("User-Agent", "talkjstest-test/1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return resp.StatusCode, got, err
}

func TestLegacySendAnswer(t *testing.T) {
	f := newFixture(t)
	f.emu.SetLegacySendAnswer(true)
	if got := f.mustOK(t, "POST", "/conversations/order-1/messages", oneMessage); string(got) != "{}" {
		t.Errorf("legacy send answered %s, want {}", got)
	}
	if n := len(f.emu.Messages("order-1")); n != 1 {
		t.Errorf("legacy send stored %d, want 1", n)
	}
	f.emu.SetLegacySendAnswer(false)
	if got := decode[sent](t, f.mustOK(t, "POST", "/conversations/order-1/messages", oneMessage)); len(got) != 1 {
		t.Errorf("answer %v, want one id", got)
	}
}

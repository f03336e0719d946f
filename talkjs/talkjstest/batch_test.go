package talkjstest

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBatch(t *testing.T) {
	f := newFixture(t)
	body := f.mustOK(t, "POST", "/batch", []any{
		[]any{1, "PUT", "/users/dave", map[string]any{"name": "Dave"}},
		[]any{2, "GET", "/users/alice/conversations", map[string]string{"limit": "30", "unreadsOnly": "false"}},
		[]any{3, "POST", "/conversations/order-1/messages", []map[string]any{{"text": "system", "type": "SystemMessage", "idempotencyKey": "b1"}}},
		[]any{4, "PUT", "/users/erin", map[string]any{"name": "Erin"}, map[string]string{"api_version": "2021-02-09"}},
		[]any{5, "GET", "/non/existing/endpoint"},
		[]any{6, "POST", "/conversations/order-1/messages", []map[string]any{{"text": "x", "type": "UserMessage", "sender": "carol"}}},
		[]any{7, "POST", "/batch", []any{}},
		[]any{8, "get", "/users?limit=1"},
	})
	var answers [][3]json.RawMessage
	if err := json.Unmarshal(body, &answers); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	tests := []struct {
		name       string
		seq        string
		wantStatus string
		wantBody   string // substring of the decoded operation_response
	}{
		{"upsert user", "1", "200", "{}"},
		{"GET with query payload", "2", "200", `"id":"order-1"`},
		{"send message", "3", "200", `"id":"msg_`},
		{"options accepted", "4", "200", "{}"},
		{"unknown endpoint", "5", "404", "NOT_FOUND"},
		{"invalid sender", "6", "400", "not a participant"},
		{"nested batch", "7", "400", "batch"},
		{"lower-case method and query in path", "8", "200", `"data":[`},
	}
	if len(answers) != len(tests) {
		t.Fatalf("%d answers, want %d: %s", len(answers), len(tests), body)
	}
	// Operations run, and are answered, in any order: match by sequence number.
	bySeq := map[string][3]json.RawMessage{}
	for _, a := range answers {
		bySeq[string(a[0])] = a
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := bySeq[tc.seq]
			if string(a[0]) != tc.seq || string(a[1]) != tc.wantStatus {
				t.Fatalf("answer [%s, %s, ...], want [%s, %s, ...]", a[0], a[1], tc.seq, tc.wantStatus)
			}
			var resp string
			if err := json.Unmarshal(a[2], &resp); err != nil {
				t.Fatalf("operation_response %s is not a JSON string: %v", a[2], err)
			}
			if !json.Valid([]byte(resp)) || !strings.Contains(resp, tc.wantBody) {
				t.Errorf("operation_response %s, want JSON containing %s", resp, tc.wantBody)
			}
		})
	}
	if _, ok := f.emu.Conversation("order-1"); !ok {
		t.Fatal("order-1 gone")
	}
	if n := len(f.emu.Messages("order-1")); n != 1 {
		t.Errorf("%d messages stored through the batch, want 1", n)
	}
	if c := f.emu.Counts(); c.BatchOperations != 8 || c.MessagesStored != 1 {
		t.Errorf("counts %+v", c)
	}
	if len(f.emu.Users()) != 5 {
		t.Errorf("%d users, want 5", len(f.emu.Users()))
	}
}

func TestBatchOperationFault(t *testing.T) {
	f := newFixture(t)
	f.mustOK(t, "PUT", "/conversations/order-2", map[string]any{"participants": []string{"alice"}})
	f.emu.AddFault(Fault{ConversationID: "order-2", Status: 503, Times: 1})
	send := []map[string]any{{"text": "x", "type": "SystemMessage"}}
	body := f.mustOK(t, "POST", "/batch", []any{
		[]any{1, "POST", "/conversations/order-1/messages", send},
		[]any{2, "POST", "/conversations/order-2/messages", send},
		[]any{3, "GET", "/users/alice"},
	})
	var answers [][3]json.RawMessage
	if err := json.Unmarshal(body, &answers); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	want := map[string]string{"1": "200", "2": "503", "3": "200"}
	if len(answers) != len(want) {
		t.Fatalf("%d answers, want %d", len(answers), len(want))
	}
	for _, a := range answers {
		if string(a[1]) != want[string(a[0])] {
			t.Errorf("operation %s: status %s, want %s", a[0], a[1], want[string(a[0])])
		}
	}
	if len(f.emu.Messages("order-1")) != 1 || len(f.emu.Messages("order-2")) != 0 {
		t.Errorf("stored %d and %d, want 1 and 0", len(f.emu.Messages("order-1")), len(f.emu.Messages("order-2")))
	}
	if c := f.emu.Counts(); c.Faults != 1 {
		t.Errorf("faults %d, want 1", c.Faults)
	}
}

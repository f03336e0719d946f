package talkjs

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSendMessagesValidation(t *testing.T) {
	sys := NewMessage{Type: SystemMessage, Text: "x"}
	tests := []struct {
		name string
		conv string
		msgs []NewMessage
		want string
	}{
		{name: "no messages", conv: "c1", want: "0 messages"},
		{name: "eleven messages", conv: "c1", msgs: make11(sys), want: "11 messages"},
		{name: "empty conversation", msgs: []NewMessage{sys}, want: "conversation id"},
		{name: "unknown type", conv: "c1", msgs: []NewMessage{{Type: "Shout", Text: "x"}}, want: "type"},
		{name: "user message without sender", conv: "c1", msgs: []NewMessage{{Type: UserMessage, Text: "x"}}, want: "needs a sender"},
		{name: "system message with sender", conv: "c1", msgs: []NewMessage{{Type: SystemMessage, Sender: "u", Text: "x"}}, want: "has no sender"},
		{name: "empty text", conv: "c1", msgs: []NewMessage{sys, {Type: SystemMessage}}, want: "message 1: text is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, "[]")
			_, err := newTestClient(t, srv).SendMessages(t.Context(), tt.conv, tt.msgs...)
			if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalidRequest mentioning %q", err, tt.want)
			}
			if rec.count() != 0 {
				t.Errorf("%d requests made, want none", rec.count())
			}
		})
	}
}

func make11(m NewMessage) []NewMessage {
	out := make([]NewMessage, 11)
	for i := range out {
		out[i] = m
	}
	return out
}

func TestSendMessages(t *testing.T) {
	msgs := []NewMessage{
		{Type: SystemMessage, Text: "Your order has shipped"},
		{Type: UserMessage, Sender: "support", Text: "Tracking: 1Z", Custom: map[string]string{"carrier": "ups"},
			ReferencedMessageID: "msg_0", IdempotencyKey: "ship-1042"},
	}
	wantBody := `[{"type":"SystemMessage","text":"Your order has shipped"},` +
		`{"type":"UserMessage","sender":"support","text":"Tracking: 1Z","custom":{"carrier":"ups"},"referencedMessageId":"msg_0","idempotencyKey":"ship-1042"}]`
	tests := []struct {
		name    string
		answer  string
		wantIDs []string
	}{
		{name: "ids", answer: `[{"id":"msg_a"},{"id":"msg_b"}]`, wantIDs: []string{"msg_a", "msg_b"}},
		{name: "older API answers {}", answer: `{}`, wantIDs: nil},
		{name: "empty body", answer: ``, wantIDs: nil},
		{name: "unexpected shape", answer: `[1,2]`, wantIDs: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, tt.answer)
			ids, err := newTestClient(t, srv).SendMessages(t.Context(), "order-1042", msgs...)
			if err != nil {
				t.Fatalf("err = %v, want success: the status alone decides", err)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids = %#v, want %#v", ids, tt.wantIDs)
			}
			r := rec.all()[0]
			if r.Method != "POST" || r.Path != "/v1/app1/conversations/order-1042/messages" || string(r.Body) != wantBody {
				t.Errorf("got %s %s %s", r.Method, r.Path, r.Body)
			}
		})
	}
}

func TestGetMessage(t *testing.T) {
	srv, rec := okServer(t, `{"id":"msg_1","conversationId":"c1","type":"SystemMessage","senderId":null,"text":"hi",
		"custom":{"a":"b"},"createdAt":5,"editedAt":7,"attachment":{"url":"https://x/f.pdf","size":12},"location":[51.4,-3.1],"origin":"rest","readBy":["u1"]}`)
	m, err := newTestClient(t, srv).GetMessage(t.Context(), "c1", "msg_1")
	if err != nil {
		t.Fatal(err)
	}
	want := Message{ID: "msg_1", ConversationID: "c1", Type: SystemMessage, Text: "hi", Custom: map[string]string{"a": "b"},
		CreatedAt: 5, EditedAt: 7, Attachment: &Attachment{URL: "https://x/f.pdf", Size: 12}, Location: []float64{51.4, -3.1},
		Origin: "rest", ReadBy: []string{"u1"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("GetMessage = %+v\nwant %+v", m, want)
	}
	if r := rec.all()[0]; r.Method != "GET" || r.Path != "/v1/app1/conversations/c1/messages/msg_1" {
		t.Errorf("got %s %s", r.Method, r.Path)
	}
}

func TestEditAndDeleteMessage(t *testing.T) {
	const path = "/v1/app1/conversations/c1/messages/msg_1"
	tests := []struct {
		name       string
		call       func(*Client) error
		wantMethod string
		wantBody   string
		wantErr    bool
	}{
		{name: "edit text and custom", wantMethod: "PUT", wantBody: `{"text":"new","custom":{"gone":null,"k":"v"}}`,
			call: func(c *Client) error {
				return c.EditMessage(t.Context(), "c1", "msg_1", MessageUpdate{Text: ptr("new"), Custom: map[string]*string{"k": ptr("v"), "gone": nil}})
			}},
		{name: "edit custom only", wantMethod: "PUT", wantBody: `{"custom":{"k":"v"}}`,
			call: func(c *Client) error {
				return c.EditMessage(t.Context(), "c1", "msg_1", MessageUpdate{Custom: map[string]*string{"k": ptr("v")}})
			}},
		{name: "delete", wantMethod: "DELETE",
			call: func(c *Client) error { return c.DeleteMessage(t.Context(), "c1", "msg_1") }},
		{name: "edit to empty text", wantErr: true,
			call: func(c *Client) error { return c.EditMessage(t.Context(), "c1", "msg_1", MessageUpdate{Text: ptr("")}) }},
		{name: "delete without message id", wantErr: true,
			call: func(c *Client) error { return c.DeleteMessage(t.Context(), "c1", "") }},
		{name: "get without conversation", wantErr: true,
			call: func(c *Client) error { _, err := c.GetMessage(t.Context(), "", "m"); return err }},
		{name: "list without conversation", wantErr: true,
			call: func(c *Client) error { return firstErr(c.ListMessages(t.Context(), "", ListOptions{})) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, "{}")
			err := tt.call(newTestClient(t, srv))
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidRequest) || rec.count() != 0 {
					t.Errorf("err = %v after %d requests, want ErrInvalidRequest and none", err, rec.count())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := rec.all()[0]
			if r.Method != tt.wantMethod || r.Path != path || string(r.Body) != tt.wantBody {
				t.Errorf("got %s %s %s, want %s %s", r.Method, r.Path, r.Body, tt.wantMethod, tt.wantBody)
			}
		})
	}
}

func TestListMessages(t *testing.T) {
	srv, rec := okServer(t, `{"data":[{"id":"m2","type":"UserMessage","senderId":"u"},{"id":"m1","type":"SystemMessage"}]}`)
	var ids []string
	for m, err := range newTestClient(t, srv).ListMessages(t.Context(), "c1", ListOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
		if len(ids) > 10 {
			break
		}
	}
	reqs := rec.all()
	// A full page means there may be more: the second request asks after m1.
	if len(reqs) < 2 || reqs[1].Query != "limit=2&startingAfter=m1" || reqs[0].Path != "/v1/app1/conversations/c1/messages" {
		t.Errorf("requests %+v", reqs)
	}
}

func TestNewMessageValidate(t *testing.T) {
	tests := []struct {
		name string
		m    NewMessage
		want string // "" means valid
	}{
		{name: "system message", m: NewMessage{Type: SystemMessage, Text: "x"}},
		{name: "user message", m: NewMessage{Type: UserMessage, Sender: "u", Text: "x"}},
		{name: "no type", m: NewMessage{Text: "x"}, want: "type is missing"},
		{name: "other type", m: NewMessage{Type: "Bot", Text: "x"}, want: `type "Bot" is not`},
		{name: "user message without sender", m: NewMessage{Type: UserMessage, Text: "x"}, want: "needs a sender"},
		{name: "system message with sender", m: NewMessage{Type: SystemMessage, Sender: "u", Text: "x"}, want: "has no sender"},
		{name: "no text", m: NewMessage{Type: SystemMessage}, want: "text is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

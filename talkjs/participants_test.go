package talkjs

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParticipantCalls(t *testing.T) {
	const path = "/v1/app1/conversations/c1/participants/u1"
	tests := []struct {
		name       string
		call       func(*Client) error
		wantMethod string
		wantBody   string
		wantErr    bool
	}{
		{name: "join with defaults", wantMethod: "PUT", wantBody: "{}",
			call: func(c *Client) error { return c.JoinConversation(t.Context(), "c1", "u1", Participation{}) }},
		{name: "join read-only muted", wantMethod: "PUT", wantBody: `{"access":"Read","notify":false}`,
			call: func(c *Client) error {
				return c.JoinConversation(t.Context(), "c1", "u1", Participation{Access: AccessRead, Notify: NotifyOff})
			}},
		{name: "modify notify only", wantMethod: "PATCH", wantBody: `{"notify":"MentionsOnly"}`,
			call: func(c *Client) error {
				return c.ModifyParticipation(t.Context(), "c1", "u1", Participation{Notify: NotifyMentionsOnly})
			}},
		{name: "modify access to None", wantMethod: "PATCH", wantBody: `{"access":"None","notify":true}`,
			call: func(c *Client) error {
				return c.ModifyParticipation(t.Context(), "c1", "u1", Participation{Access: AccessNone, Notify: NotifyOn})
			}},
		{name: "leave", wantMethod: "DELETE",
			call: func(c *Client) error { return c.LeaveConversation(t.Context(), "c1", "u1") }},
		{name: "join with None is refused", wantErr: true,
			call: func(c *Client) error {
				return c.JoinConversation(t.Context(), "c1", "u1", Participation{Access: AccessNone})
			}},
		{name: "unknown access", wantErr: true,
			call: func(c *Client) error {
				return c.ModifyParticipation(t.Context(), "c1", "u1", Participation{Access: "Write"})
			}},
		{name: "unknown notify", wantErr: true,
			call: func(c *Client) error {
				return c.JoinConversation(t.Context(), "c1", "u1", Participation{Notify: "yes"})
			}},
		{name: "empty user", wantErr: true,
			call: func(c *Client) error { return c.LeaveConversation(t.Context(), "c1", "") }},
		{name: "empty conversation", wantErr: true,
			call: func(c *Client) error { return c.JoinConversation(t.Context(), "", "u1", Participation{}) }},
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
				t.Errorf("got %s %s %s, want %s %s %s", r.Method, r.Path, r.Body, tt.wantMethod, path, tt.wantBody)
			}
		})
	}
}

func TestNotifyJSON(t *testing.T) {
	tests := []struct {
		json string
		want Notify
	}{
		{`true`, NotifyOn},
		{`false`, NotifyOff},
		{`"MentionsOnly"`, NotifyMentionsOnly},
		{`null`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var n Notify
			if err := json.Unmarshal([]byte(tt.json), &n); err != nil || n != tt.want {
				t.Fatalf("Unmarshal(%s) = %q, %v; want %q", tt.json, n, err, tt.want)
			}
			if n == "" {
				return
			}
			b, err := json.Marshal(n)
			if err != nil || string(b) != tt.json {
				t.Errorf("Marshal(%q) = %s, %v; want %s", n, b, err, tt.json)
			}
		})
	}
	var n Notify
	if err := json.Unmarshal([]byte(`3`), &n); err == nil {
		t.Errorf("a number decoded as %q", n)
	}
}

package talkjs

import (
	"errors"
	"net/url"
	"reflect"
	"testing"
)

func TestUpsertConversation(t *testing.T) {
	srv, rec := okServer(t, "{}")
	err := newTestClient(t, srv).UpsertConversation(t.Context(), "order-1042", ConversationUpdate{
		Subject: ptr("Order #1042"), Participants: []string{"cust-7", "support"},
		Custom: map[string]string{"order": "1042"}, WelcomeMessages: []string{"hi"}, PhotoURL: ptr("https://x/p.png"),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := rec.all()[0]
	want := `{"subject":"Order #1042","photoUrl":"https://x/p.png","participants":["cust-7","support"],"custom":{"order":"1042"},"welcomeMessages":["hi"]}`
	if r.Method != "PUT" || r.Path != "/v1/app1/conversations/order-1042" || string(r.Body) != want {
		t.Errorf("got %s %s %s", r.Method, r.Path, r.Body)
	}
}

func TestGetConversation(t *testing.T) {
	srv, _ := okServer(t, `{"createdAt":1623926680929,"custom":{},"id":"c1",
		"lastMessage":{"attachment":null,"conversationId":"c1","createdAt":1632919967033,"editedAt":null,"custom":{},
			"id":"msg_1","location":null,"origin":"web","readBy":[],"senderId":"u2","text":"Hey","type":"UserMessage","referencedMessageId":null},
		"participants":{"u1":{"access":"ReadWrite","notify":true},"u2":{"access":"Read","notify":"MentionsOnly","isUnread":true},"u3":{"access":"Read","notify":false}},
		"photoUrl":null,"subject":"Random","topicId":null,"welcomeMessages":null}`)
	conv, err := newTestClient(t, srv).GetConversation(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	want := Conversation{
		ID: "c1", Subject: "Random", Custom: map[string]string{}, CreatedAt: 1623926680929,
		Participants: map[string]Participant{
			"u1": {Access: AccessReadWrite, Notify: NotifyOn},
			"u2": {Access: AccessRead, Notify: NotifyMentionsOnly, IsUnread: true},
			"u3": {Access: AccessRead, Notify: NotifyOff},
		},
		LastMessage: &Message{ID: "msg_1", ConversationID: "c1", Type: UserMessage, SenderID: "u2", Text: "Hey",
			Custom: map[string]string{}, CreatedAt: 1632919967033, Origin: "web", ReadBy: []string{}},
	}
	if !reflect.DeepEqual(conv, want) {
		t.Errorf("GetConversation =\n%+v\nwant\n%+v", conv, want)
	}
}

func TestConversationCallsValidateIDs(t *testing.T) {
	srv, rec := okServer(t, "{}")
	c := newTestClient(t, srv)
	calls := map[string]func() error{
		"upsert": func() error { return c.UpsertConversation(t.Context(), "", ConversationUpdate{}) },
		"get":    func() error { _, err := c.GetConversation(t.Context(), ""); return err },
		"delete": func() error { return c.DeleteConversation(t.Context(), "") },
		"list for user": func() error {
			return firstErr(c.ListUserConversations(t.Context(), "", UserConversationsOptions{}))
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
	if rec.count() != 0 {
		t.Errorf("%d requests made, want none", rec.count())
	}
}

func TestDeleteConversation(t *testing.T) {
	srv, rec := okServer(t, "{}")
	if err := newTestClient(t, srv).DeleteConversation(t.Context(), "c 1"); err != nil {
		t.Fatal(err)
	}
	if r := rec.all()[0]; r.Method != "DELETE" || r.Path != "/v1/app1/conversations/c%201" || len(r.Body) != 0 {
		t.Errorf("got %s %s %q", r.Method, r.Path, r.Body)
	}
}

func TestListUserConversationsFilters(t *testing.T) {
	tests := []struct {
		name string
		opts UserConversationsOptions
		want url.Values
	}{
		{name: "no filters: stable creation order", want: url.Values{"limit": {"10"}, "orderBy": {"createdAt"}}},
		{
			name: "all filters",
			opts: UserConversationsOptions{Limit: 30, UnreadsOnly: true, LastMessageBefore: 200, LastMessageAfter: 100},
			want: url.Values{"limit": {"30"}, "unreadsOnly": {"true"}, "lastMessageBefore": {"200"}, "lastMessageAfter": {"100"}, "orderBy": {"createdAt"}},
		},
		{
			name: "last activity, oldest first, from a time",
			opts: UserConversationsOptions{OrderBy: OrderByLastActivity, OrderDirection: Ascending, OffsetTs: 5},
			want: url.Values{"limit": {"10"}, "orderBy": {"lastMessageTs"}, "orderDirection": {"ASC"}, "offsetTs": {"5"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, `{"data":[{"id":"c1"}]}`)
			var ids []string
			for conv, err := range newTestClient(t, srv).ListUserConversations(t.Context(), "u 1", tt.opts) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, conv.ID)
			}
			r := rec.all()[0]
			got, _ := url.ParseQuery(r.Query)
			if r.Path != "/v1/app1/users/u%201/conversations" || !reflect.DeepEqual(got, tt.want) || len(ids) != 1 {
				t.Errorf("got %s?%s and %v; want query %v", r.Path, r.Query, ids, tt.want)
			}
		})
	}
}

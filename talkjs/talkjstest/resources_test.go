package talkjstest

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	f := newFixture(t)
	f.mustOK(t, "PUT", "/users/dave", map[string]any{"name": "Dave", "email": []string{"d@example.com"}, "role": "buyer", "custom": map[string]string{"tier": "gold"}})
	// PUT updates only what it names; null clears.
	f.mustOK(t, "PUT", "/users/dave", map[string]any{"role": nil, "locale": "nl-NL"})
	u := decode[map[string]any](t, f.mustOK(t, "GET", "/users/dave", nil))
	if u["id"] != "dave" || u["name"] != "Dave" || u["role"] != nil || u["locale"] != "nl-NL" || u["custom"].(map[string]any)["tier"] != "gold" {
		t.Errorf("user after two PUTs: %v", u)
	}
	if _, ok := u["createdAt"].(float64); !ok {
		t.Errorf("createdAt missing: %v", u)
	}

	list := decode[struct {
		Data []map[string]any `json:"data"`
	}](t, f.mustOK(t, "GET", "/users?limit=2", nil))
	if len(list.Data) != 2 || list.Data[0]["id"] != "dave" {
		t.Errorf("users newest first, limit 2: %v", list.Data)
	}
	next := decode[struct {
		Data []map[string]any `json:"data"`
	}](t, f.mustOK(t, "GET", "/users?startingAfter="+list.Data[1]["id"].(string), nil))
	if len(next.Data) != 2 {
		t.Errorf("second page of 4 users after 2: %v", next.Data)
	}
}

func TestBatchUsersAllOrNothing(t *testing.T) {
	f := newFixture(t)
	status, body := f.call(t, "PUT", "/users", map[string]any{
		"erin":  map[string]any{"name": "Erin"},
		"frank": map[string]any{"name": 42},
	})
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400; %s", status, body)
	}
	reasons := decode[struct {
		Reasons map[string]string `json:"reasons"`
	}](t, body).Reasons
	if _, ok := reasons["frank"]; !ok || len(reasons) != 1 {
		t.Errorf("reasons %v, want one for frank", reasons)
	}
	if status, _ := f.call(t, "GET", "/users/erin", nil); status != http.StatusNotFound {
		t.Errorf("valid user of a refused batch was stored (status %d)", status)
	}
	f.mustOK(t, "PUT", "/users", map[string]any{"erin": map[string]any{"name": "Erin"}, "alice": map[string]any{"role": "admin"}})
	if got := len(f.emu.Users()); got != 4 {
		t.Errorf("%d users, want 4", got)
	}
}

func TestConversationsAndParticipants(t *testing.T) {
	f := newFixture(t)
	// PUT merges: participants are added, never removed; fields given overwrite.
	f.mustOK(t, "PUT", "/conversations/order-1", map[string]any{"participants": []string{"carol"}, "custom": map[string]string{"k": "v"}, "photoUrl": "https://example.com/p.png"})
	c, ok := f.emu.Conversation("order-1")
	if !ok || len(c.Participants) != 3 || c.Subject != "Order 1" || c.Custom["k"] != "v" || c.PhotoURL == "" {
		t.Fatalf("after merge: %+v", c)
	}
	if p := c.Participants["carol"]; p.Access != "ReadWrite" || !p.Notify {
		t.Errorf("default participation %+v", p)
	}
	// Participants need not exist yet.
	f.mustOK(t, "PUT", "/conversations/order-1", map[string]any{"participants": []string{"future-user"}})

	f.mustOK(t, "PUT", "/conversations/order-1/participants/carol", map[string]any{"access": "Read", "notify": "MentionsOnly"})
	f.mustOK(t, "PATCH", "/conversations/order-1/participants/carol", map[string]any{"access": "None"})
	got := decode[struct {
		Participants map[string]struct {
			Access string `json:"access"`
			Notify any    `json:"notify"`
		} `json:"participants"`
		Subject *string `json:"subject"`
	}](t, f.mustOK(t, "GET", "/conversations/order-1", nil))
	if p := got.Participants["carol"]; p.Access != "None" || p.Notify != "MentionsOnly" {
		t.Errorf("carol after PUT and PATCH: %+v", p)
	}
	if p := got.Participants["alice"]; p.Access != "ReadWrite" || p.Notify != true {
		t.Errorf("alice: %+v", p)
	}
	f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "UserMessage", "sender": "alice", "text": "hi"}})
	unread := decode[struct {
		Participants map[string]struct {
			IsUnread bool `json:"isUnread"`
		} `json:"participants"`
	}](t, f.mustOK(t, "GET", "/conversations/order-1", nil))
	if unread.Participants["alice"].IsUnread || !unread.Participants["bob"].IsUnread {
		t.Errorf("after alice's message: %+v, want unread for bob only", unread.Participants)
	}
	// Join overwrites earlier settings with the defaults when none are given.
	f.mustOK(t, "PUT", "/conversations/order-1/participants/carol", nil)
	if c, _ := f.emu.Conversation("order-1"); c.Participants["carol"] != defaultParticipant() {
		t.Errorf("rejoin kept old settings: %+v", c.Participants["carol"])
	}
	f.mustOK(t, "DELETE", "/conversations/order-1/participants/carol", nil)
	f.mustOK(t, "DELETE", "/conversations/order-1/participants/carol", nil) // idempotent
	if status, body := f.call(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "UserMessage", "sender": "carol", "text": "hi"}}); status != http.StatusBadRequest {
		t.Errorf("send by a user who left: %d %s", status, body)
	}

	f.mustOK(t, "PUT", "/conversations/order-2", map[string]any{"subject": "Two"})
	list := decode[struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}](t, f.mustOK(t, "GET", "/conversations", nil))
	if len(list.Data) != 2 || list.Data[0].ID != "order-2" {
		t.Errorf("conversations newest first: %+v", list.Data)
	}

	f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "SystemMessage", "text": "x"}})
	f.mustOK(t, "DELETE", "/conversations/order-1", nil)
	if status, _ := f.call(t, "GET", "/conversations/order-1", nil); status != http.StatusNotFound {
		t.Errorf("deleted conversation: %d", status)
	}
	if len(f.emu.Messages("order-1")) != 0 || len(f.emu.Conversations()) != 1 {
		t.Errorf("delete left data behind")
	}
}

func TestUserConversationFilters(t *testing.T) {
	f := newFixture(t)
	now := time.Now().Add(time.Hour)
	f.emu.SetClock(func() time.Time { return now })
	f.mustOK(t, "PUT", "/conversations/order-2", map[string]any{"participants": []string{"alice"}})
	f.mustOK(t, "PUT", "/conversations/quiet", map[string]any{"participants": []string{"alice"}})
	f.mustOK(t, "PUT", "/conversations/not-alices", map[string]any{"participants": []string{"bob"}})
	f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "UserMessage", "sender": "bob", "text": "from bob"}})
	now = now.Add(time.Minute)
	f.mustOK(t, "POST", "/conversations/order-2/messages", []map[string]any{{"type": "UserMessage", "sender": "alice", "text": "from alice"}})
	t1 := strconv.FormatInt(now.Add(-time.Second).UnixMilli(), 10)

	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		// Latest activity first: a message moves a conversation up.
		{"all of alice's", nil, []string{"order-2", "order-1", "quiet"}},
		{"by creation", url.Values{"orderBy": {"createdAt"}}, []string{"quiet", "order-2", "order-1"}},
		{"by activity, oldest first", url.Values{"orderDirection": {"asc"}}, []string{"quiet", "order-1", "order-2"}},
		{"unreads only", url.Values{"unreadsOnly": {"true"}}, []string{"order-1"}},
		{"unreadsOnly false", url.Values{"unreadsOnly": {"false"}}, []string{"order-2", "order-1", "quiet"}},
		{"last message after", url.Values{"lastMessageAfter": {t1}}, []string{"order-2"}},
		{"last message before", url.Values{"lastMessageBefore": {t1}}, []string{"order-1"}},
		{"limit", url.Values{"limit": {"1"}}, []string{"order-2"}},
		{"cursor", url.Values{"startingAfter": {"order-2"}}, []string{"order-1", "quiet"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decode[struct {
				Data []struct {
					ID string `json:"id"`
				} `json:"data"`
			}](t, f.mustOK(t, "GET", "/users/alice/conversations?"+tc.query.Encode(), nil))
			var ids []string
			for _, c := range got.Data {
				ids = append(ids, c.ID)
			}
			if len(ids) != len(tc.want) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
			for i := range ids {
				if ids[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", ids, tc.want)
				}
			}
		})
	}
}

func TestEscapedIDs(t *testing.T) {
	f := newFixture(t)
	f.mustOK(t, "PUT", "/conversations/a%2Fb%20c", map[string]any{"participants": []string{"alice"}})
	if _, ok := f.emu.Conversation("a/b c"); !ok {
		t.Fatalf("escaped id not stored as %q: %+v", "a/b c", f.emu.Conversations())
	}
	f.mustOK(t, "POST", "/conversations/a%2Fb%20c/messages", []map[string]any{{"type": "SystemMessage", "text": "x"}})
	if reqs := f.emu.Requests(); reqs[len(reqs)-1].ConversationID != "a/b c" {
		t.Errorf("logged conversation id %q", reqs[len(reqs)-1].ConversationID)
	}
}

func TestReset(t *testing.T) {
	f := newFixture(t)
	f.emu.AddFault(Fault{ConversationID: "elsewhere", Status: 500})
	f.emu.Reset()
	if len(f.emu.Users()) != 0 || len(f.emu.Conversations()) != 0 || len(f.emu.Requests()) != 0 || f.emu.Counts() != (Counters{}) {
		t.Fatalf("Reset left data behind")
	}
	// Faults are gone too: a request for "elsewhere" is now handled (404).
	if status, _ := f.call(t, "GET", "/conversations/elsewhere", nil); status != http.StatusNotFound {
		t.Errorf("after Reset: %d, want 404", status)
	}
}

func TestPutHelpers(t *testing.T) {
	f := newFixture(t)
	f.emu.PutUser(User{ID: "zed", Name: "Zed", Custom: map[string]string{"k": "v"}})
	f.emu.PutConversation(Conversation{ID: "direct", Subject: "Direct", Participants: Participants("zed", "alice")})
	ids := decode[sent](t, f.mustOK(t, "POST", "/conversations/direct/messages", []map[string]any{{"type": "UserMessage", "sender": "zed", "text": "hi"}}))
	if len(ids) != 1 {
		t.Fatalf("answer %v", ids)
	}
	u := decode[map[string]any](t, f.mustOK(t, "GET", "/users/zed", nil))
	if u["name"] != "Zed" || u["createdAt"].(float64) == 0 {
		t.Errorf("user %v", u)
	}
	// Replacing keeps the messages and the creation time.
	before, _ := f.emu.Conversation("direct")
	f.emu.PutConversation(Conversation{ID: "direct", Subject: "Renamed", Participants: Participants("zed")})
	after, _ := f.emu.Conversation("direct")
	if after.Subject != "Renamed" || after.CreatedAt != before.CreatedAt || len(after.Participants) != 1 || len(f.emu.Messages("direct")) != 1 {
		t.Errorf("after replace: %+v, %d messages", after, len(f.emu.Messages("direct")))
	}
}

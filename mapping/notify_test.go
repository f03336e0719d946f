package mapping

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

const notifyRoutes = `
routes:
  ops:
    verify: none
    notify:
      bot: {id: ops-bot, name: Ops, photoUrl: 'https://example.com/ops.png'}
      recipients:
        - {id: alice, notify: true}
        - {id: bob, access: Read, notify: MentionsOnly}
        - carol
        - id: '{{ get .payload "owner" }}'
    actions:
      - name: plain
        conversation: {id: ops}
        message: {text: 'deploy {{ .payload.version }}'}
      - name: system
        conversation: {id: ops, subject: Ops}
        messages:
          - {type: SystemMessage, text: 'note {{ .payload.version }}'}
          - {text: 'said by the bot'}
`

func TestNotifyMakesUserMessagesFromBot(t *testing.T) {
	c := mustParse(t, notifyRoutes)
	cases := []struct {
		name           string
		body           string
		wantRecipients []string
	}{
		{"owner in payload", `{"version":"1.2","owner":"dave"}`, []string{"alice", "bob", "carol", "dave"}},
		{"no owner: template says nobody", `{"version":"1.2"}`, []string{"alice", "bob", "carol"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := runTrusted(t, c, "ops", tc.body, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Sends) != 2 {
				t.Fatalf("%d sends, want 2", len(res.Sends))
			}
			for _, s := range res.Sends {
				if u, ok := s.Users["ops-bot"]; !ok || u.Name == nil || *u.Name != "Ops" {
					t.Errorf("action %d: bot not upserted: %+v", s.Action, s.Users)
				}
				if s.Conversation == nil || !slices.Contains(s.Conversation.Participants, "ops-bot") {
					t.Errorf("action %d: bot is not a participant: %+v", s.Action, s.Conversation)
				}
				got := slices.Sorted(func(yield func(string) bool) {
					for id := range s.Recipients {
						if !yield(id) {
							return
						}
					}
				})
				if !slices.Equal(got, tc.wantRecipients) {
					t.Errorf("action %d: recipients %v, want %v", s.Action, got, tc.wantRecipients)
				}
				if p := s.Recipients["bob"]; p.Access != talkjs.AccessRead || p.Notify != talkjs.NotifyMentionsOnly {
					t.Errorf("bob's settings %+v", p)
				}
				if p := s.Recipients["carol"]; p != (talkjs.Participation{}) {
					t.Errorf("carol (bare id) got settings %+v, want TalkJS's defaults", p)
				}
			}
			plain := res.Sends[0].Messages[0]
			if plain.Type != talkjs.UserMessage || plain.Sender != "ops-bot" {
				t.Errorf("plain message is %s from %q, want a UserMessage from ops-bot", plain.Type, plain.Sender)
			}
			sys := res.Sends[1].Messages
			if sys[0].Type != talkjs.SystemMessage || sys[0].Sender != "" {
				t.Errorf("an explicit SystemMessage became %s from %q", sys[0].Type, sys[0].Sender)
			}
			if sys[1].Type != talkjs.UserMessage || sys[1].Sender != "ops-bot" {
				t.Errorf("second message is %s from %q", sys[1].Type, sys[1].Sender)
			}
			// alice and carol and dave are notified; bob only of mentions
			// (listed: MentionsOnly is not off); the bot never.
			n := res.Sends[0].Notified()
			if slices.Contains(n, "ops-bot") || !slices.Contains(n, "alice") {
				t.Errorf("Notified() = %v", n)
			}
		})
	}
}

func TestNotifiedSystemMessagesNobody(t *testing.T) {
	s := Send{
		Conversation: &talkjs.ConversationUpdate{Participants: []string{"alice"}},
		Recipients:   map[string]talkjs.Participation{"bob": {}},
		Messages:     []talkjs.NewMessage{{Type: talkjs.SystemMessage, Text: "x"}},
	}
	if n := s.Notified(); len(n) != 0 {
		t.Errorf("SystemMessages notify %v, want nobody", n)
	}
	s.Messages = []talkjs.NewMessage{{Type: talkjs.UserMessage, Sender: "alice", Text: "x"}}
	s.Recipients["eve"] = talkjs.Participation{Notify: talkjs.NotifyOff}
	if n := s.Notified(); !slices.Equal(n, []string{"bob"}) {
		t.Errorf("Notified() = %v, want [bob] (not the sender, not notify off)", n)
	}
}

func TestNotifyParseProblems(t *testing.T) {
	cases := []struct {
		name, notify, want string
	}{
		{"no bot", `{recipients: [alice]}`, "notify.bot: missing"},
		{"bot without name", `{bot: {id: b}}`, "notify.bot.name: missing"},
		{"bad access", `{bot: {id: b, name: B}, recipients: [{id: a, access: Write}]}`, "want ReadWrite or Read"},
		{"bad notify", `{bot: {id: b, name: B}, recipients: [{id: a, notify: sometimes}]}`, "want true, false or MentionsOnly"},
		{"recipient without id", `{bot: {id: b, name: B}, recipients: [{notify: true}]}`, "recipients[0].id: missing"},
		{"unknown key", `{bot: {id: b, name: B}, everyone: true}`, "unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "routes:\n  r:\n    verify: none\n    notify: " + tc.notify + "\n    actions:\n      - conversation: {id: c}\n        message: {text: hi}\n"
			_, err := Parse([]byte(src), "t.yaml")
			var le *LoadError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

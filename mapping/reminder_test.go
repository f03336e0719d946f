package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

const reminderRoutes = `
reminders:
  standup:
    schedule: weekday-9am
    conversations: [team-eng, team-ops]
    type: UserMessage
    sender: bot
    text: 'Standup in {{ .conversation.subject }} at {{ date "15:04" .time }} ({{ .schedule }})'
    custom: {kind: reminder}
  billing:
    select: conversation.custom.plan == "pro" && len(conversation.participants) > 1
    text: 'Invoice for {{ .conversation.id }}'
  also-9am:
    schedule: weekday-9am
    conversations: [team-eng]
    text: second
`

func TestReminders(t *testing.T) {
	c := mustParse(t, reminderRoutes)
	standup, ok := c.Reminder("standup")
	if !ok || !standup.Explicit() || standup.Schedule != "weekday-9am" {
		t.Fatalf("standup = %+v, %v", standup, ok)
	}
	if _, ok := c.Reminder("nope"); ok {
		t.Error("unknown reminder found")
	}
	var names []string
	for _, r := range c.RemindersForSchedule("weekday-9am") {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "also-9am,standup" {
		t.Errorf("RemindersForSchedule = %v", names)
	}
	if got := c.RemindersForSchedule("billing"); len(got) != 1 || got[0].Name != "billing" {
		t.Errorf("schedule defaults to the name: %v", got)
	}

	eng := talkjs.Conversation{ID: "team-eng", Subject: "<actionbutton:x|Eng>", Participants: map[string]talkjs.Participant{"a": {}, "b": {}}, Custom: map[string]string{"plan": "pro"}}
	other := talkjs.Conversation{ID: "other", Custom: map[string]string{"plan": "pro"}, Participants: map[string]talkjs.Participant{"a": {}}}
	if ok, err := standup.Selects(eng); !ok || err != nil {
		t.Errorf("Selects(eng) = %v, %v", ok, err)
	}
	if ok, _ := standup.Selects(other); ok {
		t.Error("explicit list selected a conversation not in it")
	}
	billing, _ := c.Reminder("billing")
	if ok, err := billing.Selects(eng); !ok || err != nil {
		t.Errorf("billing.Selects(eng) = %v, %v", ok, err)
	}
	if ok, err := billing.Selects(other); ok || err != nil {
		t.Errorf("billing.Selects(other) = %v, %v", ok, err)
	}
	if ok, err := billing.Selects(talkjs.Conversation{ID: "bare"}); ok || err != nil {
		t.Errorf("conversation without custom: %v, %v", ok, err)
	}

	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m, err := standup.Message(eng, at, "weekday-9am")
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "Standup in ‹actionbutton:x|Eng› at 09:00 (weekday-9am)" || m.Type != talkjs.UserMessage || m.Sender != "bot" || m.Custom["kind"] != "reminder" {
		t.Errorf("message = %+v", m)
	}
	again, _ := standup.Message(eng, at, "weekday-9am")
	next, _ := standup.Message(eng, at.Add(24*time.Hour), "weekday-9am")
	second, _ := c.Reminder("also-9am")
	sm, _ := second.Message(eng, at, "weekday-9am")
	if m.IdempotencyKey != again.IdempotencyKey || m.IdempotencyKey == next.IdempotencyKey || m.IdempotencyKey == sm.IdempotencyKey {
		t.Errorf("keys: %q %q %q %q", m.IdempotencyKey, again.IdempotencyKey, next.IdempotencyKey, sm.IdempotencyKey)
	}
	if m.IdempotencyKey != "rem:weekday-9am:1772442000:standup:team-eng" {
		t.Errorf("key = %q", m.IdempotencyKey)
	}
}

func TestDefaultReminder(t *testing.T) {
	c := mustDefault(t)
	r, ok := c.Reminder("github-weekly")
	if !ok || r.Explicit() {
		t.Fatalf("github-weekly = %+v, %v", r, ok)
	}
	conv := talkjs.Conversation{ID: "github-o-r", Subject: "GitHub · o/r", Custom: map[string]string{"source": "github"}}
	if ok, err := r.Selects(conv); !ok || err != nil {
		t.Errorf("Selects = %v, %v", ok, err)
	}
	if _, err := r.Message(conv, testNow, "github-weekly"); err != nil {
		t.Error(err)
	}
}

package mapping

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Reminder is a message the schedule function sends to a set of
// conversations. Its methods have no side effects.
type Reminder struct {
	Name string
	// Schedule is the EventBridge rule or schedule name that runs it when
	// invoked without input; it defaults to Name.
	Schedule string
	// ConversationIDs is the explicit target list; empty when Select is used.
	ConversationIDs []string
	// Select is the filter over listed conversations, when there is no list.
	Select string
	Type   talkjs.MessageType
	Sender string

	selectProg *filter
	text       *tmpl
	custom     []kv
	maxText    int
}

// Explicit reports whether the reminder names its conversations; if not,
// the caller lists conversations and keeps those Selects accepts.
func (r Reminder) Explicit() bool { return len(r.ConversationIDs) > 0 }

// Selects reports whether conv is a target: in the explicit list, or
// accepted by the select filter over {conversation: {id, subject, custom,
// participants, createdAt}, reminder}.
func (r Reminder) Selects(conv talkjs.Conversation) (bool, error) {
	if r.Explicit() {
		return slices.Contains(r.ConversationIDs, conv.ID), nil
	}
	if r.selectProg == nil {
		return false, fmt.Errorf("mapping: reminder %s has no targets", r.Name)
	}
	out, err := r.selectProg.run(map[string]any{"conversation": convData(conv), "reminder": r.Name})
	if err != nil {
		return false, fmt.Errorf("mapping: reminder %s: select: %s", r.Name, oneLine(err.Error()))
	}
	b, _ := out.(bool)
	return b, nil
}

// Message renders the reminder for conv. The idempotency key comes from the
// schedule name, the scheduled time, the reminder and the conversation, so
// a retried invocation does not post twice.
func (r Reminder) Message(conv talkjs.Conversation, scheduledTime time.Time, scheduleName string) (talkjs.NewMessage, error) {
	if r.text == nil {
		return talkjs.NewMessage{}, fmt.Errorf("mapping: reminder %s was not loaded from a routes file", r.Name)
	}
	// Without a scheduled time (a rule with a constant input) the text shows
	// the current time; the key still uses the zero time, so it rests on
	// scheduleName alone, which the caller makes unique per run.
	shown := scheduledTime
	if shown.IsZero() {
		shown = time.Now()
	}
	data := map[string]any{
		"conversation": convData(conv),
		"reminder":     r.Name,
		"schedule":     scheduleName,
		"time":         shown.UTC(),
		"now":          shown.UTC(),
	}
	text, err := r.text.render(data)
	if err != nil {
		return talkjs.NewMessage{}, fmt.Errorf("mapping: reminder %s: text: %w", r.Name, err)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return talkjs.NewMessage{}, fmt.Errorf("mapping: reminder %s: text rendered empty for conversation %s", r.Name, conv.ID)
	}
	custom, err := renderCustom(r.custom, data)
	if err != nil {
		return talkjs.NewMessage{}, fmt.Errorf("mapping: reminder %s: custom: %w", r.Name, err)
	}
	key := strings.Join([]string{
		"rem", safeKeyPart(scheduleName, 40), strconv.FormatInt(scheduledTime.Unix(), 10),
		safeKeyPart(r.Name, 40), safeKeyPart(conv.ID, 40),
	}, ":")
	return talkjs.NewMessage{
		Type:           r.Type,
		Sender:         r.Sender,
		Text:           capRunes(text, r.maxText),
		Custom:         custom,
		IdempotencyKey: key,
	}, nil
}

func convData(conv talkjs.Conversation) map[string]any {
	custom := make(map[string]any, len(conv.Custom))
	for k, v := range conv.Custom {
		custom[k] = v
	}
	parts := make([]string, 0, len(conv.Participants))
	for id := range conv.Participants {
		parts = append(parts, id)
	}
	sort.Strings(parts)
	list := make([]any, len(parts))
	for i, p := range parts {
		list[i] = p
	}
	return map[string]any{
		"id":           conv.ID,
		"subject":      conv.Subject,
		"custom":       custom,
		"participants": list,
		"createdAt":    conv.CreatedAt,
	}
}

func (p *parser) parseReminder(name string, n *yaml.Node) *Reminder {
	field := "reminders." + name
	es, ok := p.mapping(n, field, field, "schedule", "conversations", "select", "type", "sender", "text", "custom")
	if !ok {
		return nil
	}
	before := len(p.problems)
	r := &Reminder{Name: name, Schedule: name, Type: talkjs.SystemMessage, maxText: p.limits.MaxTextLength}
	var hasSender bool
	for _, e := range es {
		f := join(field, e.key)
		switch e.key {
		case "schedule":
			if s, ok := p.scalar(e.val, field, f); ok {
				if strings.TrimSpace(s) == "" {
					p.add(field, f, deref(e.val), "empty schedule name")
				}
				r.Schedule = s
			}
		case "conversations":
			r.ConversationIDs = p.strList(e.val, field, f)
			for i, id := range r.ConversationIDs {
				if err := talkjs.ValidateID(talkjs.KindConversation, id); err != nil {
					p.add(field, fmt.Sprintf("%s[%d]", f, i), deref(e.val), "want a conversation id: %v", err)
				}
			}
			if len(r.ConversationIDs) == 0 && len(p.problems) == before {
				p.add(field, f, deref(e.val), "empty list: name conversations or use select")
			}
		case "select":
			if s, ok := p.scalar(e.val, field, f); ok {
				r.Select, r.selectProg = s, p.filter(field, f, e.val, s, reminderFilter)
			}
		case "type":
			if t, ok := p.messageType(e.val, field, f); ok {
				r.Type = t
			}
		case "sender":
			hasSender = true
			r.Sender, _ = p.scalar(e.val, field, f)
		case "text":
			r.text = p.template(e.val, field, f, true)
		case "custom":
			r.custom = p.customMap(e.val, field, f)
		}
	}
	hasConv := slices.ContainsFunc(es, func(e entry) bool { return e.key == "conversations" })
	hasSel := slices.ContainsFunc(es, func(e entry) bool { return e.key == "select" })
	switch {
	case hasConv && hasSel:
		p.add(field, field, deref(n), "use conversations or select, not both")
	case !hasConv && !hasSel:
		p.add(field, field+".conversations", deref(n), "missing: list conversations, or select them with a filter")
	}
	if !slices.ContainsFunc(es, func(e entry) bool { return e.key == "text" }) {
		p.add(field, field+".text", deref(n), "missing: a reminder needs text")
	}
	if r.Type == talkjs.UserMessage && !hasSender {
		p.add(field, field+".sender", deref(n), "missing: a UserMessage needs a sender")
	}
	if r.Type == talkjs.SystemMessage && hasSender {
		p.add(field, field+".sender", deref(n), "a SystemMessage has no sender: set type: UserMessage or drop sender")
	}
	if len(p.problems) > before {
		return nil
	}
	return r
}

package inbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Snapshot is the JSON answer of {prefix}/api/conversations.
type Snapshot struct {
	// Conversations are the most recently active first.
	Conversations []Conversation `json:"conversations"`
	// MoreConversations is true when older conversations were left out.
	MoreConversations bool `json:"moreConversations"`
	// Failures are the latest refused and rejected deliveries, newest
	// first, when the handler was given a [Failures] (WithFailures).
	Failures []Failure `json:"failures,omitempty"`
	// MoreFailures counts older failures no longer kept.
	MoreFailures int `json:"moreFailures,omitempty"`
}

// Conversation is one conversation with its latest messages.
type Conversation struct {
	ID           string            `json:"id"`
	Subject      string            `json:"subject,omitempty"`
	SubjectRich  []Node            `json:"subjectRich,omitempty"` // Subject with TalkJS markup applied
	Participants []Participant     `json:"participants"`          // sorted by id
	Custom       map[string]string `json:"custom,omitempty"`
	CreatedAt    int64             `json:"createdAt"`    // Unix milliseconds
	LastActivity int64             `json:"lastActivity"` // last message's createdAt, else CreatedAt
	// Messages are the latest ones, oldest first (the newest last, as a chat
	// shows them).
	Messages []Message `json:"messages"`
}

// Participant is a user taking part in a conversation. Name is empty when the
// user is unknown to TalkJS.
type Participant struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Message is one message as the page shows it.
type Message struct {
	ID         string             `json:"id"`
	Type       talkjs.MessageType `json:"type"`
	SenderID   string             `json:"senderId,omitempty"`
	SenderName string             `json:"senderName,omitempty"`
	Text       string             `json:"text"`
	Rich       []Node             `json:"rich,omitempty"`     // Text with TalkJS markup applied
	CreatedAt  int64              `json:"createdAt"`          // Unix milliseconds
	EditedAt   int64              `json:"editedAt,omitempty"` // Unix milliseconds
	Attachment string             `json:"attachment,omitempty"`
}

// msgCache holds a conversation's latest messages, newest first as listed,
// and what they were fetched for.
type msgCache struct {
	lastID     string
	lastEdited int64
	fetched    time.Time
	msgs       []talkjs.Message
}

type userCache struct {
	name    string
	fetched time.Time
}

// build reads TalkJS: one listing of conversations, then the messages of only
// those conversations whose last message changed since the previous build (or
// whose cache is older than refetchAfter), then names of users not cached.
// h.mu is held.
func (h *handler) build(ctx context.Context, now time.Time) (Snapshot, error) {
	scan := max(h.maxConvs, talkjs.MaxPageSize)
	var convs []talkjs.Conversation
	for c, err := range h.src.ListConversations(ctx, talkjs.ListOptions{Limit: min(scan, talkjs.MaxPageSize)}) {
		if err != nil {
			return Snapshot{}, fmt.Errorf("inbox: list conversations: %w", err)
		}
		convs = append(convs, c)
		if len(convs) >= scan {
			break
		}
	}
	slices.SortStableFunc(convs, func(a, b talkjs.Conversation) int {
		return cmp.Or(cmp.Compare(activity(b), activity(a)), cmp.Compare(b.CreatedAt, a.CreatedAt))
	})
	snap := Snapshot{Conversations: make([]Conversation, 0, min(len(convs), h.maxConvs))}
	if len(convs) > h.maxConvs {
		convs, snap.MoreConversations = convs[:h.maxConvs], true
	}

	seen := make(map[string]bool, len(convs))
	for _, c := range convs {
		seen[c.ID] = true
		msgs, err := h.messages(ctx, c, now)
		if err != nil {
			return Snapshot{}, err
		}
		out := Conversation{
			ID: c.ID, Subject: c.Subject, SubjectRich: Markup(c.Subject), Custom: c.Custom, CreatedAt: c.CreatedAt,
			LastActivity: activity(c), Participants: make([]Participant, 0, len(c.Participants)),
			Messages: make([]Message, 0, len(msgs)),
		}
		for _, id := range slices.Sorted(maps.Keys(c.Participants)) {
			out.Participants = append(out.Participants, Participant{ID: id, Name: h.userName(ctx, id, now)})
		}
		for i := len(msgs) - 1; i >= 0; i-- { // listed newest first; shown oldest first
			m := msgs[i]
			v := Message{ID: m.ID, Type: m.Type, SenderID: m.SenderID, Text: m.Text, Rich: Markup(m.Text), CreatedAt: m.CreatedAt, EditedAt: m.EditedAt}
			if m.SenderID != "" {
				v.SenderName = h.userName(ctx, m.SenderID, now)
			}
			if m.Attachment != nil {
				v.Attachment = m.Attachment.URL
			}
			out.Messages = append(out.Messages, v)
		}
		snap.Conversations = append(snap.Conversations, out)
	}
	snap.Failures, snap.MoreFailures = h.failures.List()
	for id := range h.msgs {
		if !seen[id] {
			delete(h.msgs, id)
		}
	}
	for id, u := range h.users {
		if now.Sub(u.fetched) >= userTTL {
			delete(h.users, id)
		}
	}
	return snap, nil
}

// activity is when a conversation last changed, for ordering.
func activity(c talkjs.Conversation) int64 {
	if c.LastMessage != nil && c.LastMessage.CreatedAt > c.CreatedAt {
		return c.LastMessage.CreatedAt
	}
	return c.CreatedAt
}

// messages returns the latest messages of c, newest first, from the cache
// when c's last message is still the one they were fetched with.
func (h *handler) messages(ctx context.Context, c talkjs.Conversation, now time.Time) ([]talkjs.Message, error) {
	var lastID string
	var lastEdited int64
	if c.LastMessage != nil {
		lastID, lastEdited = c.LastMessage.ID, c.LastMessage.EditedAt
	}
	if mc, ok := h.msgs[c.ID]; ok && mc.lastID == lastID && mc.lastEdited == lastEdited && now.Sub(mc.fetched) < refetchAfter {
		return mc.msgs, nil
	}
	var msgs []talkjs.Message
	for m, err := range h.src.ListMessages(ctx, c.ID, talkjs.ListOptions{Limit: min(h.maxMsgs, talkjs.MaxPageSize)}) {
		if err != nil {
			return nil, fmt.Errorf("inbox: list messages of conversation %q: %w", c.ID, err)
		}
		msgs = append(msgs, m)
		if len(msgs) >= h.maxMsgs {
			break
		}
	}
	h.msgs[c.ID] = msgCache{lastID: lastID, lastEdited: lastEdited, fetched: now, msgs: msgs}
	return msgs, nil
}

// userName returns a user's display name, or "" when TalkJS does not know
// the user or cannot say right now: the page then shows the id. Only a
// definite answer is cached, so a passing failure is retried next poll.
func (h *handler) userName(ctx context.Context, id string, now time.Time) string {
	if u, ok := h.users[id]; ok && now.Sub(u.fetched) < userTTL {
		return u.name
	}
	u, err := h.src.GetUser(ctx, id)
	switch {
	case err == nil:
		h.users[id] = userCache{name: u.Name, fetched: now}
	case errors.Is(err, talkjs.ErrNotFound):
		h.users[id] = userCache{fetched: now}
	}
	return u.Name
}

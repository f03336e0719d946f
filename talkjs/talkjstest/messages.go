package talkjstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// MaxMessagesPerSend is how many messages one send may carry, as TalkJS documents.
const MaxMessagesPerSend = 10

// Message is a stored message.
type Message struct {
	ID                  string
	ConversationID      string
	SenderID            string // "" for a SystemMessage
	Type                string // "UserMessage" or "SystemMessage"
	Text                string
	Custom              map[string]string
	ReferencedMessageID string
	IdempotencyKey      string
	// AttachmentToken is the token of a file uploaded to TalkJS, as sent
	// (field name assumed from TalkJS's "Sending Files" guide; the emulator
	// accepts any token and answers an attachment with a made-up URL).
	AttachmentToken string
	CreatedAt       int64 // Unix milliseconds
	EditedAt        int64 // Unix milliseconds; 0 if never edited
}

type msgRec struct {
	Message
	seq uint64
}

var messageFields = []string{"text", "sender", "type", "referencedMessageId", "custom", "idempotencyKey", "attachmentToken"}

// messageJSON is a message as TalkJS answers it.
type messageJSON struct {
	ID                  string            `json:"id"`
	ConversationID      string            `json:"conversationId"`
	Type                string            `json:"type"`
	SenderID            *string           `json:"senderId"`
	Text                string            `json:"text"`
	ReadBy              []string          `json:"readBy"`
	Origin              string            `json:"origin"`
	Location            []float64         `json:"location"`
	Attachment          any               `json:"attachment"`
	Custom              map[string]string `json:"custom"`
	ReferencedMessageID *string           `json:"referencedMessageId"`
	CreatedAt           int64             `json:"createdAt"`
	EditedAt            *int64            `json:"editedAt"`
}

func (m *msgRec) wire() messageJSON {
	out := messageJSON{
		ID: m.ID, ConversationID: m.ConversationID, Type: m.Type, SenderID: ptr(m.SenderID),
		Text: m.Text, ReadBy: []string{}, Origin: "rest", Custom: nonNilMap(m.Custom),
		ReferencedMessageID: ptr(m.ReferencedMessageID), CreatedAt: m.CreatedAt,
	}
	if m.EditedAt != 0 {
		at := m.EditedAt
		out.EditedAt = &at
	}
	if m.AttachmentToken != "" {
		out.Attachment = map[string]any{"url": "https://emulator.talkjs.invalid/attachments/" + url.PathEscape(m.AttachmentToken), "size": 0}
	}
	return out
}

// sentID is one element of a send's answer.
type sentID struct {
	ID string `json:"id"`
}

// parseMessage checks one message of a send against the conversation.
func (e *Emulator) parseMessageLocked(c *convRec, i int, raw json.RawMessage) (Message, error) {
	m, err := e.object(raw, fmt.Sprintf("message %d", i), messageFields...)
	if err != nil {
		return Message{}, err
	}
	var msg Message
	str := func(k string) (string, error) {
		v, ok := m[k]
		if !ok {
			return "", nil
		}
		s, _, err := stringField(v, fmt.Sprintf("message %d: %s", i, k))
		return s, err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"text", &msg.Text}, {"sender", &msg.SenderID}, {"type", &msg.Type}, {"referencedMessageId", &msg.ReferencedMessageID}, {"idempotencyKey", &msg.IdempotencyKey}, {"attachmentToken", &msg.AttachmentToken}} {
		if *f.dst, err = str(f.name); err != nil {
			return Message{}, err
		}
	}
	if v, ok := m["custom"]; ok && !isNull(v) {
		if msg.Custom, _, err = customField(v, fmt.Sprintf("message %d: custom", i), false); err != nil {
			return Message{}, err
		}
	}
	switch msg.Type {
	case "UserMessage":
		if msg.SenderID == "" {
			return Message{}, fmt.Errorf("message %d: a UserMessage needs a sender", i)
		}
		if _, ok := e.users[msg.SenderID]; !ok {
			return Message{}, fmt.Errorf("message %d: sender %q is not a synchronized user", i, msg.SenderID)
		}
		if _, ok := c.Participants[msg.SenderID]; !ok {
			return Message{}, fmt.Errorf("message %d: sender %q is not a participant of conversation %q", i, msg.SenderID, c.ID)
		}
	case "SystemMessage":
		// "sender": null is no sender: TalkJS's rule is that type must be
		// UserMessage "when sender is provided", and null provides none.
		if v, given := m["sender"]; given && !isNull(v) {
			return Message{}, fmt.Errorf("message %d: type must be UserMessage when sender is given", i)
		}
	case "":
		return Message{}, fmt.Errorf("message %d: type is required (UserMessage or SystemMessage)", i)
	default:
		return Message{}, fmt.Errorf("message %d: type must be UserMessage or SystemMessage, got %q", i, msg.Type)
	}
	if strings.TrimSpace(msg.Text) == "" && msg.AttachmentToken == "" {
		return Message{}, fmt.Errorf("message %d: text is required (or an attachmentToken)", i)
	}
	if msg.ReferencedMessageID != "" {
		if ref, ok := e.msgs[msg.ReferencedMessageID]; !ok || ref.ConversationID != c.ID {
			return Message{}, fmt.Errorf("message %d: referencedMessageId %q is not a message of conversation %q", i, msg.ReferencedMessageID, c.ID)
		}
	}
	return msg, nil
}

// sendMessages stores 1..10 messages, all or none, and answers their ids in
// order. A message whose idempotencyKey was seen before in the conversation is
// not stored again: its answer is the first message's id.
func (e *Emulator) sendMessages(convID string, body []byte) (int, any) {
	var raws []json.RawMessage
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '[' || json.Unmarshal(b, &raws) != nil {
		return badRequest("the body must be a JSON array of messages")
	}
	if len(raws) == 0 {
		return badRequest("no messages given")
	}
	if len(raws) > MaxMessagesPerSend {
		return badRequest("at most %d messages per call, got %d", MaxMessagesPerSend, len(raws))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[convID]
	if !ok {
		return notFound("no conversation %q", convID)
	}
	msgs := make([]Message, len(raws))
	for i, raw := range raws {
		m, err := e.parseMessageLocked(c, i, raw)
		if err != nil {
			return badRequest("%v", err)
		}
		msgs[i] = m
	}
	out := make([]sentID, len(msgs))
	for i, m := range msgs {
		if m.IdempotencyKey != "" {
			if first, ok := c.idem[m.IdempotencyKey]; ok {
				out[i] = sentID{ID: first.ID}
				e.counters.IdempotentReplays++
				continue
			}
		}
		seq, ms := e.nextLocked()
		m.ID, m.ConversationID, m.CreatedAt = messageID(seq), convID, ms
		rec := &msgRec{Message: m, seq: seq}
		c.messages = append(c.messages, rec)
		e.msgs[m.ID] = rec
		if m.IdempotencyKey != "" {
			c.idem[m.IdempotencyKey] = rec
		}
		e.counters.MessagesStored++
		c.activitySeq, c.activityMs = seq, ms
		out[i] = sentID{ID: m.ID}
	}
	if e.legacySends {
		return http.StatusOK, empty
	}
	return http.StatusOK, out
}

func (e *Emulator) messageLocked(convID, msgID string) (*convRec, *msgRec, int, any) {
	c, ok := e.convs[convID]
	if !ok {
		s, v := notFound("no conversation %q", convID)
		return nil, nil, s, v
	}
	m, ok := e.msgs[msgID]
	if !ok || m.ConversationID != convID {
		s, v := notFound("no message %q in conversation %q", msgID, convID)
		return nil, nil, s, v
	}
	return c, m, 0, nil
}

func (e *Emulator) getMessage(convID, msgID string) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, m, status, v := e.messageLocked(convID, msgID)
	if m == nil {
		return status, v
	}
	return http.StatusOK, m.wire()
}

// editMessage (PUT, as TalkJS's examples edit; PATCH is accepted too) sets
// text and merges custom; a null custom value removes that key, a null custom
// removes them all.
func (e *Emulator) editMessage(convID, msgID string, body []byte) (int, any) {
	f, err := e.object(body, "message edit", "text", "custom")
	if err != nil {
		return badRequest("%v", err)
	}
	var text string
	var textGiven bool
	var set map[string]string
	var dels []string
	if v, ok := f["text"]; ok {
		var null bool
		if text, null, err = stringField(v, "text"); err != nil || null || strings.TrimSpace(text) == "" {
			return badRequest("text must be a non-empty string")
		}
		textGiven = true
	}
	clearCustom := false
	if v, ok := f["custom"]; ok {
		if isNull(v) {
			// TalkJS's anonymisation example edits with "custom": null to
			// drop all custom data; assumed to clear it.
			clearCustom = true
		} else if set, dels, err = customField(v, "custom", true); err != nil {
			return badRequest("%v", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, m, status, v := e.messageLocked(convID, msgID)
	if m == nil {
		return status, v
	}
	if textGiven {
		m.Text = text
	}
	if clearCustom {
		m.Custom = nil
	}
	if set != nil || dels != nil {
		custom := maps.Clone(m.Custom)
		if custom == nil {
			custom = map[string]string{}
		}
		maps.Copy(custom, set)
		for _, k := range dels {
			delete(custom, k)
		}
		m.Custom = custom
	}
	_, m.EditedAt = e.nextLocked()
	return http.StatusOK, empty
}

func (e *Emulator) deleteMessage(convID, msgID string) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, m, status, v := e.messageLocked(convID, msgID)
	if m == nil {
		return status, v
	}
	c.messages = slices.DeleteFunc(c.messages, func(x *msgRec) bool { return x == m })
	delete(e.msgs, msgID)
	// The key stays spent: a late retry of the deleted message must not bring it back.
	return http.StatusOK, empty
}

func (e *Emulator) listMessages(convID string, q url.Values) (int, any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[convID]
	if !ok {
		return notFound("no conversation %q", convID)
	}
	all := slices.Clone(c.messages)
	slices.Reverse(all)
	got, err := page(all, func(m *msgRec) string { return m.ID }, q)
	if err != nil {
		return badRequest("%v", err)
	}
	out := listPage[messageJSON]{Data: make([]messageJSON, 0, len(got))}
	for _, m := range got {
		out.Data = append(out.Data, m.wire())
	}
	return http.StatusOK, out
}

// Messages returns the messages stored in a conversation, oldest first.
func (e *Emulator) Messages(conversationID string) []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.convs[conversationID]
	if !ok {
		return nil
	}
	out := make([]Message, len(c.messages))
	for i, m := range c.messages {
		out[i] = m.Message
		out[i].Custom = maps.Clone(m.Custom)
	}
	return out
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// messageID makes an id shaped like TalkJS's ("msg_" and 22 base62 characters).
// The first half is a bijection of seq, so ids never collide; the second half
// only makes them look random. Deterministic for a given seq.
func messageID(seq uint64) string {
	a := seq*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	b := a ^ (a >> 29) ^ (seq * 0xBF58476D1CE4E5B9)
	var buf [22]byte
	for i := 10; i >= 0; i-- {
		buf[i] = base62[a%62]
		a /= 62
	}
	for i := 21; i >= 11; i-- {
		buf[i] = base62[b%62]
		b /= 62
	}
	return "msg_" + string(buf[:])
}

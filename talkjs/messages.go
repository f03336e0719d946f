package talkjs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
)

// MessageType says who a message is from.
type MessageType string

// Message types. A UserMessage has a Sender who participates in the
// conversation; a SystemMessage comes from the app and has none.
const (
	UserMessage   MessageType = "UserMessage"
	SystemMessage MessageType = "SystemMessage"
)

// MaxMessagesPerSend is how many messages one SendMessages call may carry.
const MaxMessagesPerSend = 10

// NewMessage is one message to send.
type NewMessage struct {
	Type                MessageType       `json:"type"`
	Sender              string            `json:"sender,omitempty"`
	Text                string            `json:"text"`
	Custom              map[string]string `json:"custom,omitempty"`
	ReferencedMessageID string            `json:"referencedMessageId,omitempty"`
	// IdempotencyKey makes TalkJS ignore a repeat of this message, so the
	// send can be retried safely.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// AttachmentToken attaches a file uploaded to TalkJS beforehand (see
	// https://talkjs.com/docs/Reference/REST_API/Messages/ "Sending Files";
	// the field name is from that guide, which we could not read in full).
	// Both message types support attachments; with one, Text may be empty.
	AttachmentToken string `json:"attachmentToken,omitempty"`
}

// Message is a message as TalkJS returns it.
type Message struct {
	ID                  string            `json:"id"`
	ConversationID      string            `json:"conversationId"`
	Type                MessageType       `json:"type"`
	SenderID            string            `json:"senderId,omitempty"`
	Text                string            `json:"text,omitempty"`
	Custom              map[string]string `json:"custom,omitempty"`
	CreatedAt           int64             `json:"createdAt,omitempty"` // Unix milliseconds
	EditedAt            int64             `json:"editedAt,omitempty"`  // Unix milliseconds, 0 if never
	ReferencedMessageID string            `json:"referencedMessageId,omitempty"`
	Origin              string            `json:"origin,omitempty"` // "web", "rest", "email" or "import"
	ReadBy              []string          `json:"readBy,omitempty"`
	Attachment          *Attachment       `json:"attachment,omitempty"`
	Location            []float64         `json:"location,omitempty"`
}

// Attachment is a file sent with a message.
type Attachment struct {
	URL  string `json:"url"`
	Size int64  `json:"size"`
}

// MessageUpdate is the body of an edit. A nil Text keeps the text; in Custom a
// nil value removes that key, others are set.
type MessageUpdate struct {
	Text   *string            `json:"text,omitempty"`
	Custom map[string]*string `json:"custom,omitempty"`
	// Clear names fields to set to null; only FieldCustom (the whole custom
	// object, as TalkJS's anonymisation example does).
	Clear []string `json:"-"`
}

type messageUpdateJSON MessageUpdate

// MarshalJSON writes the fields set, plus null for each cleared one.
func (u MessageUpdate) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(messageUpdateJSON(u))
	if err != nil {
		return nil, err
	}
	return withNulls(b, u.Clear, nil, nil)
}

// Validate reports, in one line, what TalkJS would refuse in m: a type that
// is not UserMessage or SystemMessage, a UserMessage without a sender, a
// SystemMessage with one, or neither text nor an attachment, and a sender id
// that breaks ValidateID. SendMessages checks every message
// with it before sending; callers that vet messages earlier (a queue
// record, a schedule input) use it to give the same reasons.
func (m NewMessage) Validate() error {
	switch m.Type {
	case UserMessage:
		if m.Sender == "" {
			return errors.New("a UserMessage needs a sender")
		}
		if p := idProblem(m.Sender); p != "" {
			return fmt.Errorf("sender id %s", p)
		}
	case SystemMessage:
		if m.Sender != "" {
			return errors.New("a SystemMessage has no sender")
		}
	case "":
		return errors.New("type is missing (UserMessage or SystemMessage)")
	default:
		return fmt.Errorf("type %q is not UserMessage or SystemMessage", m.Type)
	}
	if m.Text == "" && m.AttachmentToken == "" {
		return errors.New("text is empty (and there is no attachment)")
	}
	return nil
}

// sentIDs decodes a send answer. Older API versions answer {} instead of the
// ids; the status already said the send succeeded, so any shape that is not
// an array of ids just means "ids unknown".
type sentIDs []string

func (s *sentIDs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		return nil
	}
	items := make([]struct {
		ID string `json:"id"`
	}, 0, MaxMessagesPerSend)
	if json.Unmarshal(b, &items) != nil {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	*s = ids
	return nil
}

// SendMessages posts 1..10 messages to the conversation, in order, and returns
// their ids. The ids are nil (with no error) when TalkJS answers without them.
// The client retries the send only when every message has an IdempotencyKey;
// otherwise a retry could duplicate messages and it is sent once.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Messages/
func (c *Client) SendMessages(ctx context.Context, conversationID string, msgs ...NewMessage) ([]string, error) {
	if err := ValidateID(KindConversation, conversationID); err != nil {
		return nil, err
	}
	if len(msgs) == 0 || len(msgs) > MaxMessagesPerSend {
		return nil, invalidf("%d messages given, want 1..%d", len(msgs), MaxMessagesPerSend)
	}
	idempotent := true
	for i, m := range msgs {
		if err := m.Validate(); err != nil {
			return nil, invalidf("message %d: %v", i, err)
		}
		if m.IdempotencyKey == "" {
			idempotent = false
		}
	}
	var ids sentIDs
	err := c.do(ctx, call{method: "POST", path: "/conversations/" + seg(conversationID) + "/messages",
		body: msgs, out: &ids, convID: conversationID, idempotent: idempotent})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func messagePath(conversationID, messageID string) (string, error) {
	if err := ValidateID(KindConversation, conversationID); err != nil {
		return "", err
	}
	if err := ValidateID(KindMessage, messageID); err != nil {
		return "", err
	}
	return "/conversations/" + seg(conversationID) + "/messages/" + seg(messageID), nil
}

// GetMessage returns one message; a missing one is an error matching
// ErrNotFound. Safe to retry.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Messages/
func (c *Client) GetMessage(ctx context.Context, conversationID, messageID string) (Message, error) {
	path, err := messagePath(conversationID, messageID)
	if err != nil {
		return Message{}, err
	}
	var m Message
	err = c.do(ctx, call{method: "GET", path: path, out: &m, convID: conversationID, idempotent: true})
	return m, err
}

// ListMessages iterates over the messages of a conversation, newest first.
// Read-only: each page request is retried like any safe call.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Messages/
func (c *Client) ListMessages(ctx context.Context, conversationID string, opts ListOptions) iter.Seq2[Message, error] {
	if err := ValidateID(KindConversation, conversationID); err != nil {
		return listErr[Message](err)
	}
	if err := opts.unordered(); err != nil {
		return listErr[Message](err)
	}
	return list(ctx, c, "/conversations/"+seg(conversationID)+"/messages", nil, opts,
		func(m Message) string { return m.ID })
}

// EditMessage changes a message's text and custom fields with a PUT on the
// message, as every edit in TalkJS's own examples does (the REST reference
// section on editing was not available to us; an earlier version of this
// client sent PATCH). Applying the same edit twice gives the same result, so
// the client retries it.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Messages/
func (c *Client) EditMessage(ctx context.Context, conversationID, messageID string, u MessageUpdate) error {
	path, err := messagePath(conversationID, messageID)
	if err != nil {
		return err
	}
	if u.Text != nil && *u.Text == "" {
		return invalidf("message text cannot be edited to empty")
	}
	for _, f := range u.Clear {
		if !slices.Contains(messageNullable, f) {
			return invalidf("message edit: field %q cannot be cleared (nullable: %v)", f, messageNullable)
		}
		if f == FieldCustom && len(u.Custom) > 0 {
			return invalidf("message edit: custom is both set and cleared")
		}
	}
	return c.do(ctx, call{method: "PUT", path: path, body: u, convID: conversationID, idempotent: true})
}

// DeleteMessage deletes a message. Retried by the client; a retry after an
// unseen success may answer 404.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Messages/
func (c *Client) DeleteMessage(ctx context.Context, conversationID, messageID string) error {
	path, err := messagePath(conversationID, messageID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: "DELETE", path: path, convID: conversationID, idempotent: true})
}

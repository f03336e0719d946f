package queue

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/strictjson"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Command is the body of an SQS record that asks for a send.
type Command struct {
	ConversationID string `json:"conversationId"`
	// Conversation, when present, is upserted before the messages are sent.
	Conversation *ConversationSpec `json:"conversation,omitempty"`
	// Users, when present, are upserted first (for example a bot sender).
	Users map[string]talkjs.UserUpdate `json:"users,omitempty"`
	// Recipients, when present, join the conversation with these settings
	// after it is upserted (a route's notify block): existing TalkJS users
	// whom TalkJS then notifies of UserMessages.
	Recipients map[string]talkjs.Participation `json:"recipients,omitempty"`
	// Messages to send, in order; Message is the one-message shorthand.
	Messages []talkjs.NewMessage `json:"messages,omitempty"`
	Message  *talkjs.NewMessage  `json:"message,omitempty"`
	// IdempotencyKey, when set, derives the keys of messages without their own.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// ConversationSpec is the conversation part of a Command.
type ConversationSpec struct {
	Subject      *string           `json:"subject,omitempty"`
	PhotoURL     *string           `json:"photoUrl,omitempty"`
	Participants []string          `json:"participants,omitempty"`
	Custom       map[string]string `json:"custom,omitempty"`
	// WelcomeMessages are the conversation's welcome messages, as a route's
	// conversation.welcomeMessages sets them (the webhook's queue mode
	// enqueues what its routes render).
	WelcomeMessages []string `json:"welcomeMessages,omitempty"`
}

// Routed is the body of an SQS record to map through a route of the routes
// file, as the webhook function would, but without a signature check.
type Routed struct {
	Route   string            `json:"route"`
	Headers map[string]string `json:"headers,omitempty"`
	Payload json.RawMessage   `json:"payload"`
}

// ParseCommand decodes and checks a send command body exactly as the
// handler does, so tools and tests can vet a record before it is queued.
func ParseCommand(body string) (Command, error) {
	var c Command
	if err := decode(body, &c); err != nil {
		return Command{}, err
	}
	if err := c.validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}

// ParseRouted decodes a route-mapped record body.
func ParseRouted(body string) (Routed, error) {
	var r Routed
	if err := decode(body, &r); err != nil {
		return Routed{}, err
	}
	if r.Route == "" {
		return Routed{}, fmt.Errorf("%w: route is empty", dispatch.ErrInvalidRecord)
	}
	if len(r.Payload) == 0 {
		return Routed{}, fmt.Errorf("%w: payload is missing", dispatch.ErrInvalidRecord)
	}
	return r, nil
}

// maxKeyLen keeps derived idempotency keys well inside what TalkJS stores.
const maxKeyLen = 200

// decode reads a record body strictly (package strictjson says why).
func decode(body string, v any) error {
	if err := strictjson.Decode([]byte(body), v); errors.Is(err, strictjson.ErrTrailingData) {
		return fmt.Errorf("%w: body has data after the JSON object", dispatch.ErrInvalidRecord)
	} else if err != nil {
		return fmt.Errorf("%w: body is not a valid command: %v", dispatch.ErrInvalidRecord, err)
	}
	return nil
}

// anyRecord holds either kind of record body, so that a command can be told
// from a routed record and decoded in one pass. The routed fields are raw so
// that their presence shows, a null included.
type anyRecord struct {
	Command
	Route   json.RawMessage `json:"route"`
	Headers json.RawMessage `json:"headers"`
	Payload json.RawMessage `json:"payload"`
}

// parseRecord decodes and checks a record body as kind and then
// ParseCommand or ParseRouted do, with the same result and error: a routed
// record gives a non-nil *Routed, a command the Command. A well-formed
// command is decoded once, strictly (decoding was the largest part of a
// warm record's own CPU, and kind plus ParseCommand read each body twice);
// a routed record, rarer, is decoded twice as before (the shared struct
// cannot tell a command field given as null from an absent one, which
// ParseRouted refuses); anything else goes through kind and the Parse
// functions, which word the errors the rejects queue shows.
func parseRecord(body string) (Command, *Routed, error) {
	if utf8.ValidString(body) {
		var r anyRecord
		if decode(body, &r) == nil {
			if r.Route != nil {
				return parseRouted(body)
			}
			if r.Headers == nil && r.Payload == nil {
				c := r.Command
				if err := c.validate(); err != nil {
					return Command{}, nil, err
				}
				return c, nil, nil
			}
		}
	}
	k, err := kind(body)
	if err != nil {
		return Command{}, nil, err
	}
	if k == "route" {
		return parseRouted(body)
	}
	c, err := ParseCommand(body)
	return c, nil, err
}

func parseRouted(body string) (Command, *Routed, error) {
	rt, err := ParseRouted(body)
	if err != nil {
		return Command{}, nil, err
	}
	return Command{}, &rt, nil
}

// kind tells a command from a routed record by its fields.
func kind(body string) (string, error) {
	if !utf8.ValidString(body) {
		return "", fmt.Errorf("%w: body is not valid UTF-8", dispatch.ErrInvalidRecord)
	}
	// A struct with one field skips the other values without building a
	// map of them; a "route": null still counts as present.
	var probe struct {
		Route json.RawMessage `json:"route"`
	}
	if err := json.Unmarshal([]byte(body), &probe); err != nil {
		return "", fmt.Errorf("%w: body is not a JSON object: %v", dispatch.ErrInvalidRecord, err)
	}
	if probe.Route != nil {
		return "route", nil
	}
	return "command", nil
}

// validate checks a command against what TalkJS would refuse, so a bad
// command is rejected with a precise reason before any call is made.
func (c *Command) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", dispatch.ErrInvalidRecord, fmt.Sprintf(format, a...))
	}
	if c.ConversationID == "" {
		return bad("conversationId is missing")
	}
	// The ids rule of every path (talkjs.ValidateID), before any request.
	if err := talkjs.ValidateID(talkjs.KindConversation, c.ConversationID); err != nil {
		return bad("conversationId: %v", err)
	}
	if c.Conversation != nil {
		for i, p := range c.Conversation.Participants {
			if err := talkjs.ValidateID(talkjs.KindUser, p); err != nil {
				return bad("conversation.participants[%d]: %v", i, err)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.Users)) {
		if err := talkjs.ValidateID(talkjs.KindUser, id); err != nil {
			return bad("users: %v", err)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.Recipients)) {
		if err := talkjs.ValidateID(talkjs.KindUser, id); err != nil {
			return bad("recipients: %v", err)
		}
	}
	if c.Message != nil && len(c.Messages) > 0 {
		return bad("give either message or messages, not both")
	}
	if c.Message != nil {
		c.Messages = []talkjs.NewMessage{*c.Message}
		c.Message = nil
	}
	if len(c.Messages) == 0 {
		return bad("no messages: give message or messages")
	}
	// Validate applies the id rule to the sender too.
	for i, m := range c.Messages {
		if err := m.Validate(); err != nil {
			return bad("messages[%d]: %v", i, err)
		}
	}
	return nil
}

// keys fills in the idempotency key of every message without one, from the
// command's key or else the SQS message id, so a record SQS delivers again
// never shows up twice in the conversation. Not a hash of the body: the
// same command sent twice on purpose ("backup finished", every night) is
// two messages. A record redriven from the DLQ gets a new message id, so
// producers that need exactly-once across a redrive set idempotencyKey.
func (c *Command) keys(messageID string) {
	base := c.IdempotencyKey
	if base == "" {
		base = "sqs:" + messageID
	}
	for i := range c.Messages {
		if c.Messages[i].IdempotencyKey != "" {
			continue
		}
		k := base
		if len(c.Messages) > 1 || c.IdempotencyKey == "" {
			k += ":" + strconv.Itoa(i)
		}
		if len(k) > maxKeyLen {
			// Cutting would make keys collide and drop messages as
			// duplicates; a hash keeps them distinct.
			sum := sha256.Sum256([]byte(k))
			k = "sha256:" + hex.EncodeToString(sum[:])
		}
		c.Messages[i].IdempotencyKey = k
	}
}

func (r Routed) header() http.Header {
	h := make(http.Header, len(r.Headers))
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	return h
}

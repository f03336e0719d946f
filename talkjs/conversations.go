package talkjs

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
)

// Conversation is a TalkJS conversation as the API returns it.
type Conversation struct {
	ID              string                 `json:"id"`
	Subject         string                 `json:"subject,omitempty"`
	TopicID         string                 `json:"topicId,omitempty"`
	PhotoURL        string                 `json:"photoUrl,omitempty"`
	WelcomeMessages []string               `json:"welcomeMessages,omitempty"`
	Custom          map[string]string      `json:"custom,omitempty"`
	Participants    map[string]Participant `json:"participants,omitempty"`
	LastMessage     *Message               `json:"lastMessage,omitempty"`
	CreatedAt       int64                  `json:"createdAt,omitempty"` // Unix milliseconds
}

// ConversationUpdate is the body of a conversation upsert. TalkJS merges it
// into the existing conversation: listed participants are added (never
// removed; use LeaveConversation), unset fields are kept. Clear and
// ClearCustom send explicit nulls, which TalkJS documents as clearing a field.
type ConversationUpdate struct {
	Subject         *string           `json:"subject,omitempty"`
	PhotoURL        *string           `json:"photoUrl,omitempty"`
	Participants    []string          `json:"participants,omitempty"`
	Custom          map[string]string `json:"custom,omitempty"`
	WelcomeMessages []string          `json:"welcomeMessages,omitempty"`
	// Clear names fields to set to null: FieldSubject, FieldPhotoURL,
	// FieldCustom (the whole custom object) or FieldWelcomeMessages. A field
	// cannot be both set and cleared.
	Clear []string `json:"-"`
	// ClearCustom names custom keys to remove, sent as "key": null inside
	// custom (see UserUpdate.ClearCustom for the assumption).
	ClearCustom []string `json:"-"`
}

type conversationUpdateJSON ConversationUpdate

// MarshalJSON writes the fields set, plus null for each cleared one.
func (u ConversationUpdate) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(conversationUpdateJSON(u))
	if err != nil {
		return nil, err
	}
	return withNulls(b, u.Clear, u.ClearCustom, u.Custom)
}

func (u ConversationUpdate) validate(id string) error {
	for _, p := range u.Participants {
		if err := ValidateID(KindUser, p); err != nil {
			return err
		}
	}
	set := map[string]bool{
		FieldSubject: u.Subject != nil, FieldPhotoURL: u.PhotoURL != nil, FieldCustom: len(u.Custom) > 0,
		FieldWelcomeMessages: u.WelcomeMessages != nil,
	}
	return checkClears("conversation "+strconv.Quote(id), u.Clear, conversationNullable, func(f string) bool { return set[f] }, u.ClearCustom, u.Custom)
}

// UpsertConversation creates conversation id or updates it with u.
// Safe to retry: the client retries it itself.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Conversations/
func (c *Client) UpsertConversation(ctx context.Context, id string, u ConversationUpdate) error {
	if err := ValidateID(KindConversation, id); err != nil {
		return err
	}
	if err := u.validate(id); err != nil {
		return err
	}
	return c.do(ctx, call{method: "PUT", path: "/conversations/" + seg(id), body: u, convID: id, idempotent: true})
}

// GetConversation returns conversation id; a missing one is an error matching
// ErrNotFound. Safe to retry.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Conversations/
func (c *Client) GetConversation(ctx context.Context, id string) (Conversation, error) {
	if err := ValidateID(KindConversation, id); err != nil {
		return Conversation{}, err
	}
	var conv Conversation
	err := c.do(ctx, call{method: "GET", path: "/conversations/" + seg(id), out: &conv, convID: id, idempotent: true})
	return conv, err
}

// DeleteConversation deletes conversation id and all its messages for good.
// Retried by the client; a retry after an unseen success may answer 404.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Conversations/
func (c *Client) DeleteConversation(ctx context.Context, id string) error {
	if err := ValidateID(KindConversation, id); err != nil {
		return err
	}
	return c.do(ctx, call{method: "DELETE", path: "/conversations/" + seg(id), convID: id, idempotent: true})
}

// ListConversations iterates over all conversations of the app, by
// opts.OrderBy and opts.OrderDirection: by default newest created first,
// which, unlike TalkJS's default last-activity order, stays put while the
// iterator pages (see ListOptions.OrderBy).
// Read-only: each page request is retried like any safe call.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Conversations/
func (c *Client) ListConversations(ctx context.Context, opts ListOptions) iter.Seq2[Conversation, error] {
	q := url.Values{}
	if err := opts.orderQuery(q); err != nil {
		return listErr[Conversation](err)
	}
	return list(ctx, c, "/conversations", q, opts, conversationID)
}

// UserConversationsOptions pages and filters the conversations of one user.
type UserConversationsOptions struct {
	Limit         int    // page size 1..100; 0 means DefaultPageSize
	StartingAfter string // conversation id to start after
	// UnreadsOnly lists only conversations with messages the user has not read.
	UnreadsOnly bool
	// LastMessageBefore and LastMessageAfter filter on the time of the last
	// message, in Unix milliseconds; 0 means no filter.
	LastMessageBefore int64
	LastMessageAfter  int64
	// OrderBy, OrderDirection and OffsetTs sort the listing as in ListOptions.
	OrderBy        OrderBy
	OrderDirection OrderDirection
	OffsetTs       int64
}

// ListUserConversations iterates over the conversations user userID is part of.
// Read-only: each page request is retried like any safe call. From REST API
// version 2024-01-01 on, an unknown user is an error matching ErrNotFound.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Users/ (listing
// conversations a user is a part of)
func (c *Client) ListUserConversations(ctx context.Context, userID string, opts UserConversationsOptions) iter.Seq2[Conversation, error] {
	if err := ValidateID(KindUser, userID); err != nil {
		return listErr[Conversation](err)
	}
	q := url.Values{}
	if err := (ListOptions{OrderBy: opts.OrderBy, OrderDirection: opts.OrderDirection, OffsetTs: opts.OffsetTs}).orderQuery(q); err != nil {
		return listErr[Conversation](err)
	}
	if opts.UnreadsOnly {
		q.Set("unreadsOnly", "true")
	}
	if opts.LastMessageBefore != 0 {
		q.Set("lastMessageBefore", strconv.FormatInt(opts.LastMessageBefore, 10))
	}
	if opts.LastMessageAfter != 0 {
		q.Set("lastMessageAfter", strconv.FormatInt(opts.LastMessageAfter, 10))
	}
	return list(ctx, c, "/users/"+seg(userID)+"/conversations", q,
		ListOptions{Limit: opts.Limit, StartingAfter: opts.StartingAfter}, conversationID)
}

func conversationID(c Conversation) string { return c.ID }

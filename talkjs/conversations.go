package talkjs

import (
	"context"
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
// removed; use LeaveConversation), unset fields are kept.
type ConversationUpdate struct {
	Subject         *string           `json:"subject,omitempty"`
	PhotoURL        *string           `json:"photoUrl,omitempty"`
	Participants    []string          `json:"participants,omitempty"`
	Custom          map[string]string `json:"custom,omitempty"`
	WelcomeMessages []string          `json:"welcomeMessages,omitempty"`
}

// UpsertConversation creates conversation id or updates it with u.
// Safe to retry: the client retries it itself.
func (c *Client) UpsertConversation(ctx context.Context, id string, u ConversationUpdate) error {
	if id == "" {
		return invalidf("conversation id is empty")
	}
	return c.do(ctx, call{method: "PUT", path: "/conversations/" + seg(id), body: u, convID: id, idempotent: true})
}

// GetConversation returns conversation id; a missing one is an error matching
// ErrNotFound. Safe to retry.
func (c *Client) GetConversation(ctx context.Context, id string) (Conversation, error) {
	if id == "" {
		return Conversation{}, invalidf("conversation id is empty")
	}
	var conv Conversation
	err := c.do(ctx, call{method: "GET", path: "/conversations/" + seg(id), out: &conv, convID: id, idempotent: true})
	return conv, err
}

// DeleteConversation deletes conversation id and all its messages for good.
// Retried by the client; a retry after an unseen success may answer 404.
func (c *Client) DeleteConversation(ctx context.Context, id string) error {
	if id == "" {
		return invalidf("conversation id is empty")
	}
	return c.do(ctx, call{method: "DELETE", path: "/conversations/" + seg(id), convID: id, idempotent: true})
}

// ListConversations iterates over all conversations of the app, by
// opts.OrderBy and opts.OrderDirection (by default, as TalkJS lists them from
// REST API version 2021-02-09 on: last activity, latest first).
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
// Read-only: each page request is retried like any safe call.
func (c *Client) ListUserConversations(ctx context.Context, userID string, opts UserConversationsOptions) iter.Seq2[Conversation, error] {
	if userID == "" {
		return listErr[Conversation](invalidf("user id is empty"))
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

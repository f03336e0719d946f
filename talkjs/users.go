package talkjs

import (
	"context"
	"iter"
)

// User is a TalkJS user as the API returns it.
type User struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Email            []string          `json:"email,omitempty"`
	Phone            []string          `json:"phone,omitempty"`
	PhotoURL         string            `json:"photoUrl,omitempty"`
	HeaderPhotoURL   string            `json:"headerPhotoUrl,omitempty"`
	Role             string            `json:"role,omitempty"`
	Locale           string            `json:"locale,omitempty"`
	WelcomeMessage   string            `json:"welcomeMessage,omitempty"`
	AvailabilityText string            `json:"availabilityText,omitempty"`
	Custom           map[string]string `json:"custom,omitempty"`
	CreatedAt        int64             `json:"createdAt,omitempty"` // Unix milliseconds
}

// UserUpdate is the body of a user upsert. Only the fields set are changed:
// TalkJS merges a PUT into the existing user.
type UserUpdate struct {
	Name           *string           `json:"name,omitempty"`
	Email          []string          `json:"email,omitempty"`
	Phone          []string          `json:"phone,omitempty"`
	PhotoURL       *string           `json:"photoUrl,omitempty"`
	Role           *string           `json:"role,omitempty"`
	Locale         *string           `json:"locale,omitempty"`
	WelcomeMessage *string           `json:"welcomeMessage,omitempty"`
	Custom         map[string]string `json:"custom,omitempty"`
}

// MaxBatchUsers is how many users one UpsertUsers call may carry.
const MaxBatchUsers = 100

// UpsertUser creates user id or updates the fields set in u.
// Safe to retry: the client retries it itself.
func (c *Client) UpsertUser(ctx context.Context, id string, u UserUpdate) error {
	if id == "" {
		return invalidf("user id is empty")
	}
	return c.do(ctx, call{method: "PUT", path: "/users/" + seg(id), body: u, idempotent: true})
}

// UpsertUsers creates or updates up to 100 users in one call. TalkJS applies
// all of them or, when one is invalid, none (400). Safe to retry.
func (c *Client) UpsertUsers(ctx context.Context, users map[string]UserUpdate) error {
	if len(users) == 0 || len(users) > MaxBatchUsers {
		return invalidf("%d users given, want 1..%d", len(users), MaxBatchUsers)
	}
	for id := range users {
		if id == "" {
			return invalidf("user id is empty")
		}
	}
	return c.do(ctx, call{method: "PUT", path: "/users", body: users, idempotent: true})
}

// GetUser returns user id; a missing user is an error matching ErrNotFound.
// Safe to retry.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	if id == "" {
		return User{}, invalidf("user id is empty")
	}
	var u User
	err := c.do(ctx, call{method: "GET", path: "/users/" + seg(id), out: &u, idempotent: true})
	return u, err
}

// ListUsers iterates over all users of the app, newest first, page by page.
// Read-only: each page request is retried like any safe call.
func (c *Client) ListUsers(ctx context.Context, opts ListOptions) iter.Seq2[User, error] {
	if err := opts.unordered(); err != nil {
		return listErr[User](err)
	}
	return list(ctx, c, "/users", nil, opts, func(u User) string { return u.ID })
}

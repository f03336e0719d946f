package talkjs

import (
	"context"
	"encoding/json"
	"iter"
	"strconv"
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
// TalkJS merges a PUT into the existing user. Clear and ClearCustom send
// explicit nulls, which TalkJS documents as clearing a field.
type UserUpdate struct {
	Name           *string           `json:"name,omitempty"`
	Email          []string          `json:"email,omitempty"`
	Phone          []string          `json:"phone,omitempty"`
	PhotoURL       *string           `json:"photoUrl,omitempty"`
	Role           *string           `json:"role,omitempty"`
	Locale         *string           `json:"locale,omitempty"`
	WelcomeMessage *string           `json:"welcomeMessage,omitempty"`
	Custom         map[string]string `json:"custom,omitempty"`
	// Clear names fields to set to null: FieldEmail, FieldPhone,
	// FieldPhotoURL, FieldRole, FieldLocale, FieldWelcomeMessage or
	// FieldCustom (the whole custom object). A field cannot be both set and
	// cleared; name cannot be cleared.
	Clear []string `json:"-"`
	// ClearCustom names custom keys to remove, sent as "key": null inside
	// custom. That null removes a key is documented for TalkJS's SDKs, not
	// for the REST API: an assumption the contract tests check.
	ClearCustom []string `json:"-"`
}

// userUpdateJSON has UserUpdate's wire fields without its methods.
type userUpdateJSON UserUpdate

// MarshalJSON writes the fields set, plus null for each cleared one.
func (u UserUpdate) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(userUpdateJSON(u))
	if err != nil {
		return nil, err
	}
	return withNulls(b, u.Clear, u.ClearCustom, u.Custom)
}

func (u UserUpdate) validate(id string) error {
	set := map[string]bool{
		FieldEmail: u.Email != nil, FieldPhone: u.Phone != nil, FieldPhotoURL: u.PhotoURL != nil, FieldRole: u.Role != nil,
		FieldLocale: u.Locale != nil, FieldWelcomeMessage: u.WelcomeMessage != nil, FieldCustom: len(u.Custom) > 0,
	}
	return checkClears("user "+strconv.Quote(id), u.Clear, userNullable, func(f string) bool { return set[f] }, u.ClearCustom, u.Custom)
}

// MaxBatchUsers is how many users one UpsertUsers call may carry.
const MaxBatchUsers = 100

// UpsertUser creates user id or updates the fields set in u.
// Safe to retry: the client retries it itself.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Users/
func (c *Client) UpsertUser(ctx context.Context, id string, u UserUpdate) error {
	if err := ValidateID(KindUser, id); err != nil {
		return err
	}
	if err := u.validate(id); err != nil {
		return err
	}
	return c.do(ctx, call{method: "PUT", path: "/users/" + seg(id), body: u, idempotent: true})
}

// UpsertUsers creates or updates up to 100 users in one call. TalkJS applies
// all of them or, when one is invalid, none (400). Safe to retry.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Users/
func (c *Client) UpsertUsers(ctx context.Context, users map[string]UserUpdate) error {
	if len(users) == 0 || len(users) > MaxBatchUsers {
		return invalidf("%d users given, want 1..%d", len(users), MaxBatchUsers)
	}
	for id, u := range users {
		if err := ValidateID(KindUser, id); err != nil {
			return err
		}
		if err := u.validate(id); err != nil {
			return err
		}
	}
	return c.do(ctx, call{method: "PUT", path: "/users", body: users, idempotent: true})
}

// GetUser returns user id; a missing user is an error matching ErrNotFound.
// Safe to retry.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Users/
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	if err := ValidateID(KindUser, id); err != nil {
		return User{}, err
	}
	var u User
	err := c.do(ctx, call{method: "GET", path: "/users/" + seg(id), out: &u, idempotent: true})
	return u, err
}

// ListUsers iterates over all users of the app, newest first, page by page.
// Read-only: each page request is retried like any safe call.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Users/
func (c *Client) ListUsers(ctx context.Context, opts ListOptions) iter.Seq2[User, error] {
	if err := opts.unordered(); err != nil {
		return listErr[User](err)
	}
	return list(ctx, c, "/users", nil, opts, func(u User) string { return u.ID })
}

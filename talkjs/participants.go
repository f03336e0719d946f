package talkjs

import (
	"context"
	"encoding/json"
	"fmt"
)

// Access is a participant's right in a conversation.
type Access string

// Access values TalkJS defines. AccessNone is accepted by ModifyParticipation only.
const (
	AccessReadWrite Access = "ReadWrite"
	AccessRead      Access = "Read"
	AccessNone      Access = "None"
)

// Notify is a participant's notification setting. On the wire it is the JSON
// boolean true or false, or the string "MentionsOnly".
type Notify string

// Notify values. The zero value means "not set" and is left out of requests.
const (
	NotifyOn           Notify = "on"
	NotifyOff          Notify = "off"
	NotifyMentionsOnly Notify = "MentionsOnly"
)

// MarshalJSON writes true, false or "MentionsOnly".
func (n Notify) MarshalJSON() ([]byte, error) {
	switch n {
	case NotifyOn:
		return []byte("true"), nil
	case NotifyOff:
		return []byte("false"), nil
	case NotifyMentionsOnly:
		return []byte(`"MentionsOnly"`), nil
	}
	return nil, fmt.Errorf("talkjs: unknown notify setting %q", string(n))
}

// UnmarshalJSON reads true, false or a string.
func (n *Notify) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*n = NotifyOff
		if v {
			*n = NotifyOn
		}
	case string:
		*n = Notify(v)
	case nil:
		*n = ""
	default:
		return fmt.Errorf("talkjs: notify setting %s is neither boolean nor string", b)
	}
	return nil
}

// Participant is a user's membership of a conversation, as TalkJS returns it.
type Participant struct {
	Access   Access `json:"access,omitempty"`
	Notify   Notify `json:"notify,omitempty"`
	IsUnread bool   `json:"isUnread,omitempty"`
}

// Participation is the body of a join or modify call. Zero fields are left
// out: TalkJS then uses its defaults (join) or keeps the old value (modify).
type Participation struct {
	Access Access `json:"access,omitempty"`
	Notify Notify `json:"notify,omitempty"`
}

func (p Participation) validate(allowNone bool) error {
	switch p.Access {
	case "", AccessRead, AccessReadWrite:
	case AccessNone:
		if !allowNone {
			return invalidf("access %q is only valid when modifying a participation", p.Access)
		}
	default:
		return invalidf("unknown access %q", p.Access)
	}
	switch p.Notify {
	case "", NotifyOn, NotifyOff, NotifyMentionsOnly:
	default:
		return invalidf("unknown notify setting %q", p.Notify)
	}
	return nil
}

func participantPath(conversationID, userID string) (string, error) {
	if err := ValidateID(KindConversation, conversationID); err != nil {
		return "", err
	}
	if err := ValidateID(KindUser, userID); err != nil {
		return "", err
	}
	return "/conversations/" + seg(conversationID) + "/participants/" + seg(userID), nil
}

// JoinConversation adds userID to the conversation (PUT), overwriting any
// earlier participation settings. Idempotent; the client retries it.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Participation/
func (c *Client) JoinConversation(ctx context.Context, conversationID, userID string, p Participation) error {
	path, err := participantPath(conversationID, userID)
	if err == nil {
		err = p.validate(false)
	}
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: "PUT", path: path, body: p, convID: conversationID, idempotent: true})
}

// ModifyParticipation changes only the fields set in p (PATCH) for a user who
// already participates. Idempotent; the client retries it.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Participation/
func (c *Client) ModifyParticipation(ctx context.Context, conversationID, userID string, p Participation) error {
	path, err := participantPath(conversationID, userID)
	if err == nil {
		err = p.validate(true)
	}
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: "PATCH", path: path, body: p, convID: conversationID, idempotent: true})
}

// LeaveConversation removes userID from the conversation (DELETE).
// Idempotent; the client retries it.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Participation/
func (c *Client) LeaveConversation(ctx context.Context, conversationID, userID string) error {
	path, err := participantPath(conversationID, userID)
	if err != nil {
		return err
	}
	return c.do(ctx, call{method: "DELETE", path: path, convID: conversationID, idempotent: true})
}

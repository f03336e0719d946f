package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/internal/metrics"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// MaxMessagesPerCall is how many messages TalkJS accepts in one send.
const MaxMessagesPerCall = 10

// TalkJS is the part of the TalkJS client that delivery needs; *talkjs.Client
// implements it.
type TalkJS interface {
	UpsertUser(ctx context.Context, id string, u talkjs.UserUpdate) error
	UpsertConversation(ctx context.Context, id string, u talkjs.ConversationUpdate) error
	JoinConversation(ctx context.Context, conversationID, userID string, p talkjs.Participation) error
	SendMessages(ctx context.Context, conversationID string, msgs ...talkjs.NewMessage) ([]string, error)
}

// Delivered says what one Send produced in TalkJS.
type Delivered struct {
	ConversationID string   `json:"conversationId"`
	MessageIDs     []string `json:"messageIds"`
}

// Sender delivers sends through a TalkJS client. Upserts with a body it has
// already sent are skipped while the Sender lives, so a batch of events for
// one conversation costs one conversation upsert, not one per event. Create
// one per invocation; Memo carries what is worth keeping across them.
type Sender struct {
	TalkJS TalkJS
	// Memo, when set, skips upserts a previous invocation of this
	// container made (see Memo for how a stale entry is survived).
	Memo *Memo

	mu   sync.Mutex
	done map[string]*pending
	// fromMemo holds the upserts skipped on the Memo's word.
	fromMemo map[string]bool
}

// NewSender returns a Sender for one invocation.
func NewSender(c TalkJS) *Sender {
	return &Sender{TalkJS: c}
}

// Deliver sends s: its users, its conversation, then its messages in calls of
// at most MaxMessagesPerCall. It is safe to retry when every message carries
// an idempotency key, which mapping guarantees.
func (s *Sender) Deliver(ctx context.Context, send mapping.Send) (Delivered, error) {
	if err := checkIDs(send); err != nil {
		// The handlers check ids as they decode; this is the net under
		// all of them, so no path can put "." or "a/b" in a URL.
		return Delivered{ConversationID: send.ConversationID}, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	ctx = About(ctx, send.Route, send.ConversationID)
	d, err := s.deliver(ctx, send)
	if err != nil && s.Memo != nil && Classify(err) == Reject && s.forget(send) {
		// TalkJS refused a send whose upserts the memo skipped: the
		// conversation may have been deleted or the sender removed since.
		// Make the upserts and send once more; idempotency keys make the
		// repeat safe, and a refusal this time is the record's own.
		d, err = s.deliver(ctx, send)
	}
	return d, err
}

func (s *Sender) deliver(ctx context.Context, send mapping.Send) (Delivered, error) {
	if err := s.Prepare(ctx, send); err != nil {
		return Delivered{ConversationID: send.ConversationID}, err
	}
	d := Delivered{ConversationID: send.ConversationID}
	for start := 0; start < len(send.Messages); start += MaxMessagesPerCall {
		end := min(start+MaxMessagesPerCall, len(send.Messages))
		ids, err := s.send(ctx, send.ConversationID, send.Messages[start:end])
		if err != nil {
			return d, fmt.Errorf("send to conversation %q: %w", send.ConversationID, err)
		}
		d.MessageIDs = append(d.MessageIDs, ids...)
	}
	return d, nil
}

// send makes one TalkJS send call and counts what it delivered.
func (s *Sender) send(ctx context.Context, conv string, msgs []talkjs.NewMessage) ([]string, error) {
	ids, err := s.TalkJS.SendMessages(ctx, conv, msgs...)
	if err == nil {
		metrics.FromContext(ctx).Sent(len(msgs))
	}
	return ids, err
}

// Prepare performs the user and conversation upserts of s, skipping those
// already done with the same body by this Sender. Upserts are PUTs, so
// Prepare is safe to retry.
func (s *Sender) Prepare(ctx context.Context, send mapping.Send) error {
	for _, id := range slices.Sorted(maps.Keys(send.Users)) {
		u := send.Users[id]
		err := s.once(ctx, "user", id, u, func() error { return s.TalkJS.UpsertUser(ctx, id, u) })
		if err != nil {
			return fmt.Errorf("upsert user %q: %w", id, err)
		}
	}
	if send.Conversation == nil {
		return nil
	}
	c := *send.Conversation
	err := s.once(ctx, "conversation", send.ConversationID, c, func() error {
		return s.TalkJS.UpsertConversation(ctx, send.ConversationID, c)
	})
	if err != nil {
		return fmt.Errorf("upsert conversation %q: %w", send.ConversationID, err)
	}
	// The route's recipients (its notify block), with their settings.
	for _, id := range slices.Sorted(maps.Keys(send.Recipients)) {
		p := send.Recipients[id]
		err := s.once(ctx, "participant", send.ConversationID+"\x00"+id, p, func() error {
			return s.TalkJS.JoinConversation(ctx, send.ConversationID, id, p)
		})
		if err != nil {
			return fmt.Errorf("join %q to conversation %q: %w", id, send.ConversationID, err)
		}
	}
	return nil
}

// once runs upsert unless this Sender already made the same one. Lanes run
// concurrently and may share a user (a bot sender), so a lane that finds
// the same upsert in flight waits for it rather than sending to a user that
// does not exist yet. The memo is kept only when upsert succeeds: after an
// error or a panic the waiters, and later records, try again themselves.
func (s *Sender) once(ctx context.Context, kind, id string, body any, upsert func() error) error {
	key, ok := upsertKey(kind, id, body)
	if !ok {
		return upsert()
	}
	if s.Memo.has(key) {
		s.mu.Lock()
		if s.fromMemo == nil {
			s.fromMemo = make(map[string]bool)
		}
		s.fromMemo[key] = true
		s.mu.Unlock()
		return nil
	}
	for {
		s.mu.Lock()
		if s.done == nil {
			s.done = make(map[string]*pending)
		}
		p, found := s.done[key]
		if !found {
			p = &pending{done: make(chan struct{})}
			s.done[key] = p
			s.mu.Unlock()
			return s.run(key, p, upsert)
		}
		s.mu.Unlock()
		select {
		case <-p.done:
			if p.ok {
				return nil
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// pending is one upsert made, or being made, by a Sender.
type pending struct {
	done chan struct{}
	ok   bool // set before done is closed
}

func (s *Sender) run(key string, p *pending, upsert func() error) error {
	defer func() {
		if !p.ok {
			s.mu.Lock()
			delete(s.done, key)
			s.mu.Unlock()
		}
		close(p.done)
	}()
	if err := upsert(); err != nil {
		return err
	}
	p.ok = true
	s.Memo.put(key)
	return nil
}

func upsertKey(kind, id string, body any) (string, bool) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", false
	}
	return kind + "\x00" + id + "\x00" + string(b), true
}

// forget drops the memo's and this Sender's record of send's upserts, so
// the next Prepare makes them. It reports whether any upsert had been
// skipped on the memo's word, the only case where repeating helps.
func (s *Sender) forget(send mapping.Send) bool {
	var keys []string
	for id, u := range send.Users {
		if k, ok := upsertKey("user", id, u); ok {
			keys = append(keys, k)
		}
	}
	if send.Conversation != nil {
		if k, ok := upsertKey("conversation", send.ConversationID, *send.Conversation); ok {
			keys = append(keys, k)
		}
	}
	for id, p := range send.Recipients {
		if k, ok := upsertKey("participant", send.ConversationID+"\x00"+id, p); ok {
			keys = append(keys, k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	skipped := false
	for _, k := range keys {
		skipped = skipped || s.fromMemo[k]
	}
	if !skipped {
		return false
	}
	s.Memo.forget(keys)
	for _, k := range keys {
		delete(s.fromMemo, k)
		if p, ok := s.done[k]; ok && p.ok {
			delete(s.done, k)
		}
	}
	return true
}

// Outcome is what happened to an event: delivered, or what its failure means.
type Outcome int

const (
	// Sent is the zero Outcome: every send of the event was accepted.
	Sent Outcome = iota
	// Retry means the event should be delivered again later: TalkJS or the
	// secret was unavailable, and idempotency keys make the repeat safe.
	Retry
	// Reject means no repeat can succeed: TalkJS refused the request (4xx) or
	// the event is invalid. The event goes to the rejects queue.
	Reject
)

func (o Outcome) String() string {
	switch o {
	case Sent:
		return "sent"
	case Retry:
		return "retry"
	case Reject:
		return "reject"
	}
	return "unknown"
}

// Classify decides whether err is worth retrying. It is the only place where
// that decision is made outside the TalkJS client, and it defers to
// talkjs.Retryable for everything the client can say about.
func Classify(err error) Outcome {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, mapping.ErrInvalidPayload),
		errors.Is(err, mapping.ErrRouteNotFound),
		errors.Is(err, mapping.ErrEventNotHandled),
		errors.Is(err, talkjs.ErrInvalidRequest),
		errors.Is(err, ErrInvalidRecord):
		return Reject
	case talkjs.Retryable(err):
		return Retry
	}
	var apiErr *talkjs.APIError
	if errors.As(err, &apiErr) {
		if apiErr.StatusCode == http.StatusUnauthorized {
			// The client already fetched the key again and repeated the
			// call: the secret itself holds a key TalkJS refuses (a rotation
			// half done). Nothing is wrong with the record; keep it until
			// the secret is fixed.
			return Retry
		}
		return Reject
	}
	// Anything unknown (a context cut by the Lambda deadline, a bug) is
	// retried: redelivery is safe, and a record is never dropped on a guess.
	return Retry
}

// ErrInvalidRecord marks a queue record that can never be delivered as it is.
var ErrInvalidRecord = errors.New("invalid record")

// About returns ctx whose log lines carry route and conversation at the top
// level and whose metrics are recorded under route, so what the TalkJS
// client logs and measures for this send is filed under them. Empty values
// leave what ctx had. Pure: safe anywhere.
func About(ctx context.Context, route, conversation string) context.Context {
	ctx = logging.With(ctx, logging.RouteKey, route, logging.ConversationIDKey, conversation)
	if route != "" {
		ctx = metrics.WithRoute(ctx, route)
	}
	return ctx
}

// checkIDs applies talkjs.ValidateID, the one id rule, to every id of send
// that ends up in a URL or a body: the conversation, its participants, the
// users and the message senders.
func checkIDs(send mapping.Send) error {
	if err := talkjs.ValidateID(talkjs.KindConversation, send.ConversationID); err != nil {
		return fmt.Errorf("conversation id: %w", err)
	}
	if send.Conversation != nil {
		for _, p := range send.Conversation.Participants {
			if err := talkjs.ValidateID(talkjs.KindUser, p); err != nil {
				return fmt.Errorf("participant: %w", err)
			}
		}
	}
	for id := range send.Users {
		if err := talkjs.ValidateID(talkjs.KindUser, id); err != nil {
			return fmt.Errorf("user id: %w", err)
		}
	}
	for _, m := range send.Messages {
		if m.Sender != "" {
			if err := talkjs.ValidateID(talkjs.KindUser, m.Sender); err != nil {
				return fmt.Errorf("message sender: %w", err)
			}
		}
	}
	return nil
}

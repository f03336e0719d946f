package queue

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/metrics"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Rejecter forwards a record that can never be delivered to where people can
// see and redrive it (the rejects queue).
type Rejecter interface {
	Reject(ctx context.Context, r Rejection) error
}

// Rejection is what the rejects queue receives for one record.
type Rejection struct {
	MessageID string `json:"messageId"`
	Reason    string `json:"reason"`
	// Status is TalkJS's HTTP status when TalkJS refused the record.
	Status int `json:"status,omitempty"`
	// Answer is TalkJS's answer body (bounded by the client).
	Answer string `json:"answer,omitempty"`
	// Body is the record's original body, so it can be fixed and resent.
	Body string `json:"body,omitempty"`
	// BodyBase64 holds the body instead when it is not valid UTF-8, which
	// JSON could not carry unchanged.
	BodyBase64 string `json:"bodyBase64,omitempty"`
	// BodyTruncated is set when the body was cut to fit an SQS message;
	// BodySHA256 and BodySize then identify the original.
	BodyTruncated bool   `json:"bodyTruncated,omitempty"`
	BodySHA256    string `json:"bodySha256,omitempty"`
	BodySize      int    `json:"bodySize,omitempty"`
	EventSource   string `json:"eventSourceArn,omitempty"`
	Group         string `json:"messageGroupId,omitempty"`
}

// DefaultConcurrency is how many conversations a batch sends to at once:
// ten, so a default batch of ten records to ten conversations takes one
// TalkJS round trip, not two. Scale beyond it with the queue's maximum
// concurrency, within TalkJS's rate limits.
const DefaultConcurrency = 10

// Handler handles SQS batches. It is safe for concurrent use; Lambda calls it
// one batch at a time per container.
type Handler struct {
	Routes *mapping.Routes
	// TalkJS is the client every send goes through.
	TalkJS dispatch.TalkJS
	// Rejects receives records that can never be delivered; nil logs only.
	Rejects Rejecter
	Logger  *slog.Logger
	// Concurrency bounds how many conversations are sent to at once;
	// zero means DefaultConcurrency.
	Concurrency int
	// Around wraps each record's delivery (per-record trace subsegments).
	Around func(ctx context.Context, ids []string, fn func(context.Context) error) error
	// Now is the clock for route-mapped records' templates.
	Now func() time.Time
	// Memo, when set, lets a warm container skip upserts it made already.
	Memo *dispatch.Memo
}

// ErrBatchFailed is returned when every record of a batch is to be
// delivered again. Lambda then counts the invocation as failed, and an
// SQS event source backs off, lowering its concurrency, after a function
// error (it does not after a partial batch response): while TalkJS is down
// the queue is polled less instead of spinning through its receives.
// Returning every record as a batch item failure would redeliver the same
// records; the error only adds the backoff and an Errors metric, as
// Powertools' BatchProcessingError does.
var ErrBatchFailed = errors.New("queue: every record of the batch failed and will be delivered again")

// Handle delivers the batch and reports the records SQS should deliver
// again. When every record is to be delivered again it returns the
// response and an error matching ErrBatchFailed (see there). Safe to retry:
// idempotency keys make a redelivered record one message.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	items := make([]dispatch.Item, len(ev.Records))
	for i, rec := range ev.Records {
		items[i] = h.item(ctx, rec)
	}
	conc := h.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	sender := dispatch.NewSender(h.TalkJS)
	sender.Memo = h.Memo
	b := dispatch.Batch{Sender: sender, Concurrency: conc, Around: h.Around}
	// Sends stop RejectReserve short of the deadline: one TalkJS call
	// hanging to the end must not leave the rejects unforwarded (they would
	// be retried, and reach the DLQ without their reason).
	sendCtx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithDeadline(ctx, dl.Add(-rejectReserve(time.Until(dl))))
		defer cancel()
	}
	results := b.Run(sendCtx, items)

	// An empty list, not null: "nothing to retry" reads unambiguously.
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, res := range results {
		rec := ev.Records[i]
		ctx := recordContext(ctx, rec, items[i])
		if res.Outcome == dispatch.Sent && rec.Attributes["MessageGroupId"] == "" {
			// The common case, without Logger.With: it clones the
			// redacting handler for every record.
			h.logger().LogAttrs(ctx, slog.LevelInfo, "record delivered", slog.String("messageId", rec.MessageId), slog.Any("delivered", res.Delivered))
			continue
		}
		log := h.logger().With("messageId", rec.MessageId)
		if g := rec.Attributes["MessageGroupId"]; g != "" {
			log = log.With("messageGroupId", g)
		}
		switch res.Outcome {
		case dispatch.Sent:
			log.InfoContext(ctx, "record delivered", "delivered", res.Delivered)
		case dispatch.Retry:
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			if stack, ok := dispatch.PanicStack(res.Err); ok {
				log = log.With("stack", string(stack))
			}
			log.WarnContext(ctx, "record will be retried", "reason", res.Err.Error(), "held", res.Held)
		case dispatch.Reject:
			if err := h.reject(ctx, rec, res.Err); err != nil {
				// The rejects queue is unreachable: keep the record in SQS
				// rather than lose it.
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				log.ErrorContext(ctx, "record rejected but not forwarded; it will be retried", "reason", res.Err.Error(), "forwardError", err.Error())
				continue
			}
			metrics.FromContext(ctx).Rejected(1)
			log.ErrorContext(ctx, "record rejected", append([]any{"reason", res.Err.Error()}, answerAttrs(res.Err)...)...)
		}
	}
	if n := len(ev.Records); n > 0 && len(resp.BatchItemFailures) == n {
		// No reason in the error: Lambda prints it outside the redacting
		// logger, and the log lines above hold every record's reason.
		return resp, fmt.Errorf("%w (%d records)", ErrBatchFailed, n)
	}
	return resp, nil
}

// MaxRejectReserve bounds the time kept at the end of an invocation for
// forwarding rejected records to the rejects queue: an SQS SendMessage
// takes tens of milliseconds, a few hundred on a cold connection.
const MaxRejectReserve = 3 * time.Second

// rejectReserve is a fifth of the time left, at most MaxRejectReserve:
// 3 s of a 30 s timeout, 200 ms of the last second.
func rejectReserve(left time.Duration) time.Duration {
	return max(min(left/5, MaxRejectReserve), 0)
}

func (h *Handler) item(ctx context.Context, rec events.SQSMessage) (it dispatch.Item) {
	it.ID = rec.MessageId
	it.Group = rec.Attributes["MessageGroupId"]
	defer func() {
		if r := recover(); r != nil {
			it.Sends, it.Err = nil, fmt.Errorf("%w: mapping panicked: %v", dispatch.ErrInvalidRecord, r)
		}
	}()
	if routed, ok, err := snsRecord(rec.Body); ok {
		// SNS to SQS without raw delivery: an envelope, mapped by route.
		if err != nil {
			it.Err = err
			return it
		}
		it.Sends, it.Err = h.routed(ctx, rec, *routed)
		return it
	}
	c, routed, err := parseRecord(rec.Body)
	if routed != nil {
		it.Sends, it.Err = h.routed(ctx, rec, *routed)
		return it
	}
	if err != nil {
		it.Err = err
		return it
	}
	c.keys(rec.MessageId)
	send := mapping.Send{ConversationID: c.ConversationID, Users: c.Users, Recipients: c.Recipients, Messages: c.Messages}
	if c.Conversation != nil {
		send.Conversation = &talkjs.ConversationUpdate{
			Subject:         c.Conversation.Subject,
			PhotoURL:        c.Conversation.PhotoURL,
			Participants:    c.Conversation.Participants,
			Custom:          c.Conversation.Custom,
			WelcomeMessages: c.Conversation.WelcomeMessages,
		}
	}
	it.Sends = []mapping.Send{send}
	return it
}

func (h *Handler) routed(ctx context.Context, rec events.SQSMessage, r Routed) ([]mapping.Send, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	res, err := h.Routes.Trusted(ctx, mapping.Request{Route: r.Route, Headers: r.header(), Body: r.Payload, Now: now()})
	if errors.Is(err, mapping.ErrEventNotHandled) {
		// The route does not act on this event: done, as the webhook's
		// 202 is. Neither a retry nor a reject would change that.
		h.logger().InfoContext(ctx, "record needs no message", "messageId", rec.MessageId, "route", r.Route, "skipped", res.Skipped)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("route %q: %w", r.Route, err)
	}
	return res.Sends, nil
}

func (h *Handler) reject(ctx context.Context, rec events.SQSMessage, reason error) error {
	if h.Rejects == nil {
		return nil
	}
	r := Rejection{
		MessageID:   rec.MessageId,
		Reason:      reason.Error(),
		EventSource: rec.EventSourceARN,
		Group:       rec.Attributes["MessageGroupId"],
	}
	if utf8.ValidString(rec.Body) {
		r.Body = rec.Body
	} else {
		r.BodyBase64 = base64.StdEncoding.EncodeToString([]byte(rec.Body))
	}
	if apiErr, ok := asAPIError(reason); ok {
		r.Status, r.Answer = apiErr.StatusCode, apiErr.Body
	}
	return h.Rejects.Reject(ctx, r)
}

func answerAttrs(err error) []any {
	if apiErr, ok := asAPIError(err); ok {
		return []any{"status", apiErr.StatusCode, "answer", apiErr.Body}
	}
	return nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func asAPIError(err error) (*talkjs.APIError, bool) {
	var apiErr *talkjs.APIError
	ok := errors.As(err, &apiErr)
	return apiErr, ok
}

// maxRejection keeps a rejection inside SQS's message size limit (256 KiB
// for queues created before the 1 MiB limit), with room for attributes.
const maxRejection = 240 << 10

// MarshalRejection renders a Rejection as the rejects queue's message body.
// A body too large to forward whole (JSON escaping can double it) is cut,
// with its hash and size kept, so the record still reaches the rejects
// queue instead of looping until the DLQ.
func MarshalRejection(r Rejection) (string, error) {
	b, err := json.Marshal(r)
	if err != nil || len(b) <= maxRejection {
		return string(b), err
	}
	body := r.Body
	if r.BodyBase64 != "" {
		raw, _ := base64.StdEncoding.DecodeString(r.BodyBase64)
		body = string(raw)
	}
	sum := sha256.Sum256([]byte(body))
	r.BodyTruncated, r.BodySHA256, r.BodySize = true, hex.EncodeToString(sum[:]), len(body)
	r.Answer = truncateUTF8(r.Answer, 4<<10)
	r.Reason = truncateUTF8(r.Reason, 4<<10)
	for keep := maxRejection / 2; keep > 0; keep /= 2 {
		if r.BodyBase64 != "" {
			r.BodyBase64 = base64.StdEncoding.EncodeToString([]byte(body[:min(keep, len(body))]))
		} else {
			r.Body = truncateUTF8(body, keep)
		}
		if b, err = json.Marshal(r); err != nil || len(b) <= maxRejection {
			return string(b), err
		}
	}
	return string(b), err
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// This file is the webhook's queue mode (COMMAND_QUEUE_URL): a verified and
// mapped delivery is put on the command queue, one send command per send,
// and answered 202 once SQS has it. The queue function delivers it, retries
// it while TalkJS fails and forwards what TalkJS refuses to the rejects
// queue, so no TalkJS answer ever reaches the sender and nothing a sender
// does not redeliver is lost while TalkJS is down.

// MaxQueueMessage is the largest send command the webhook enqueues: SQS's
// message size limit for queues created before the 1 MiB limit of 2025, the
// lowest a deployed command queue may have. A send over it is refused with
// 413, never cut.
const MaxQueueMessage = 256 << 10

// DefaultEnqueueTimeout bounds the queue writes of one delivery when
// CommandQueue.Timeout is zero: within Slack's 3 s and TalkJS's 5 s
// answer windows, with the SDK's own retries inside it.
const DefaultEnqueueTimeout = 3 * time.Second

// CommandQueue is where the webhook puts its sends in queue mode.
type CommandQueue struct {
	// URL is the queue's URL; one ending in ".fifo" is a FIFO queue, whose
	// messages get a group id (the conversation) and a deduplication id
	// (from the idempotency keys).
	URL string
	// Send writes one message to the queue and returns its SQS message id.
	// It is a function, not the SQS client: see NewSQSCommandQueue.
	Send func(ctx context.Context, m QueueMessage) (string, error)
	// Timeout bounds the writes of one delivery; zero means
	// DefaultEnqueueTimeout.
	Timeout time.Duration
}

// QueueMessage is one message for the command queue.
type QueueMessage struct {
	// Body is a send command the queue function accepts.
	Body string
	// GroupID and DeduplicationID are set for a FIFO queue only.
	GroupID         string
	DeduplicationID string
}

// FIFO reports whether the queue is a FIFO queue, by its URL.
func (q *CommandQueue) FIFO() bool { return strings.HasSuffix(q.URL, ".fifo") }

// queuedCommand is the send command the webhook enqueues: the queue
// function's command format (internal/handler/queue.Command), with every
// message's idempotency key already filled in from the delivery, so a
// redelivered webhook, or a record SQS delivers twice, is one message.
type queuedCommand struct {
	ConversationID string                       `json:"conversationId"`
	Conversation   *talkjs.ConversationUpdate   `json:"conversation,omitempty"`
	Users          map[string]talkjs.UserUpdate `json:"users,omitempty"`
	// Recipients carry the route's notify block, so a queued delivery
	// notifies the same people a direct one does.
	Recipients map[string]talkjs.Participation `json:"recipients,omitempty"`
	Messages   []talkjs.NewMessage             `json:"messages"`
}

// queuedBody is the 202 answer in queue mode.
type queuedBody struct {
	Queued []queuedSend `json:"queued"`
}

// queuedSend is one queue message in a 202 answer.
type queuedSend struct {
	ConversationID string `json:"conversationId"`
	QueueMessageID string `json:"queueMessageId"`
}

// errSendTooLarge is a send whose command does not fit one queue message.
var errSendTooLarge = errors.New("send too large for one queue message")

// commandBufs hold the buffers send commands are written in before they
// are copied into their message's string.
var commandBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// Message renders send as the queue message the webhook enqueues. It is a
// pure function: the same send always gives the same message, so a
// redelivered webhook makes the same FIFO deduplication id.
func (q *CommandQueue) Message(send mapping.Send) (QueueMessage, error) {
	buf := commandBufs.Get().(*[]byte)
	defer commandBufs.Put(buf)
	b, ok := appendCommand((*buf)[:0], send)
	if ok && cap(b) <= 64<<10 {
		*buf = b // keep what it grew to, within reason
	} else if !ok {
		var err error
		b, err = json.Marshal(queuedCommand{
			ConversationID: send.ConversationID,
			Conversation:   send.Conversation,
			Users:          send.Users,
			Recipients:     send.Recipients,
			Messages:       send.Messages,
		})
		if err != nil {
			return QueueMessage{}, fmt.Errorf("send to conversation %q: %w", send.ConversationID, err)
		}
	}
	if len(b) > MaxQueueMessage {
		return QueueMessage{}, fmt.Errorf("%w: the send to conversation %q is %d bytes as a queue message, over the command queue's limit of %d bytes", errSendTooLarge, send.ConversationID, len(b), MaxQueueMessage)
	}
	m := QueueMessage{Body: string(b)}
	if q.FIFO() {
		m.GroupID = GroupID(send.ConversationID)
		m.DeduplicationID = DeduplicationID(send)
	}
	return m, nil
}

// GroupID is the FIFO MessageGroupId of a conversation: its id when SQS
// takes it as one (1-128 printable ASCII characters, no space), else
// "sha256-" and the id's hash, so per-conversation order holds for any id.
func GroupID(conversationID string) string {
	ok := len(conversationID) >= 1 && len(conversationID) <= 128
	for i := 0; ok && i < len(conversationID); i++ {
		c := conversationID[i]
		ok = c > ' ' && c <= '~'
	}
	if ok {
		return conversationID
	}
	sum := sha256.Sum256([]byte(conversationID))
	return "sha256-" + hex.EncodeToString(sum[:])
}

// DeduplicationID is the FIFO MessageDeduplicationId of a send: the hex
// SHA-256 of its conversation and its messages' idempotency keys (64
// characters, within SQS's 128). The keys derive only from what the
// signature covers, so a redelivery of the webhook within SQS's 5-minute
// deduplication window is not queued twice.
func DeduplicationID(send mapping.Send) string {
	h := sha256.New()
	h.Write([]byte(send.ConversationID))
	for _, m := range send.Messages {
		h.Write([]byte{0})
		h.Write([]byte(m.IdempotencyKey))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// enqueue puts sends on the command queue, in order, and answers 202 with
// their queue message ids (200 on a route verified with the talkjs preset:
// TalkJS retries every answer but 200); 413 when a send does not fit one message (before
// anything is written); 503 when the queue cannot be written, so the sender
// delivers again. Sends written before a failure are written again then;
// their idempotency keys (and FIFO deduplication ids) make that harmless.
func (s *Server) enqueue(ctx context.Context, log *slog.Logger, route string, sends []mapping.Send) Response {
	q := s.Queue
	msgs := make([]QueueMessage, len(sends))
	for i, send := range sends {
		m, err := q.Message(send)
		if errors.Is(err, errSendTooLarge) {
			log.WarnContext(ctx, "webhook refused", "status", http.StatusRequestEntityTooLarge, "reason", err.Error())
			return answer(http.StatusRequestEntityTooLarge, "too large to queue", err.Error())
		}
		if err != nil {
			log.ErrorContext(ctx, "webhook not queued", "status", http.StatusInternalServerError, "reason", err.Error())
			return answer(http.StatusInternalServerError, "internal error", "")
		}
		msgs[i] = m
	}
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = DefaultEnqueueTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := queuedBody{Queued: make([]queuedSend, 0, len(sends))}
	// One after another: two sends to one conversation keep their order,
	// and a delivery is nearly always one send.
	for i, m := range msgs {
		id, err := q.Send(ctx, m)
		if err != nil {
			log.ErrorContext(dispatch.About(ctx, "", sends[i].ConversationID), "webhook not queued", "status", http.StatusServiceUnavailable, "conversationId", sends[i].ConversationID, "queued", out.Queued, "reason", err.Error())
			return answer(http.StatusServiceUnavailable, "command queue unavailable, retry later", "")
		}
		out.Queued = append(out.Queued, queuedSend{ConversationID: sends[i].ConversationID, QueueMessageID: id})
	}
	if len(out.Queued) == 1 {
		// The common case, as plain strings: the list below goes through
		// reflection.
		log.LogAttrs(dispatch.About(ctx, "", out.Queued[0].ConversationID), slog.LevelInfo, "webhook queued", slog.String("conversationId", out.Queued[0].ConversationID), slog.String("queueMessageId", out.Queued[0].QueueMessageID))
	} else {
		log.InfoContext(ctx, "webhook queued", "queued", out.Queued)
	}
	status := http.StatusAccepted
	if vc, ok := s.Routes.VerifyConfig(route); ok && vc.Preset == verify.PresetTalkJS {
		status = http.StatusOK
	}
	h := make(http.Header, 1)
	h["Content-Type"] = []string{"application/json"}
	return Response{Status: status, Body: appendQueued(make([]byte, 0, 128), out.Queued), Header: h}
}

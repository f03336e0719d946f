package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"golang.org/x/sync/errgroup"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/metrics"
	"github.com/talkjs-bridge/talkjs-bridge/internal/strictjson"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Input is what a rule's Input or a Scheduler target's input holds. Fields
// of an EventBridge event ("detail-type", "time", "resources") are read too,
// so the same type decodes both shapes.
type Input struct {
	// Reminder names a reminder of the routes file.
	Reminder string `json:"reminder,omitempty"`
	// ScheduledTime is the time the invocation was scheduled for; put
	// "<aws.scheduler.scheduled-time>" in a Scheduler input to fill it.
	ScheduledTime string `json:"scheduledTime,omitempty"`
	// Schedule names the schedule for idempotency keys; defaults to the
	// reminder or rule name.
	Schedule string `json:"schedule,omitempty"`

	// The inline form.
	ConversationIDs []string           `json:"conversationIds,omitempty"`
	Text            string             `json:"text,omitempty"`
	Type            talkjs.MessageType `json:"type,omitempty"`
	Sender          string             `json:"sender,omitempty"`
	Custom          map[string]string  `json:"custom,omitempty"`

	// Fields of an EventBridge event.
	DetailType string          `json:"detail-type,omitempty"`
	Source     string          `json:"source,omitempty"`
	Time       string          `json:"time,omitempty"`
	Resources  []string        `json:"resources,omitempty"`
	Detail     json.RawMessage `json:"detail,omitempty"`
	Version    string          `json:"version,omitempty"`
	ID         string          `json:"id,omitempty"`
	Account    string          `json:"account,omitempty"`
	Region     string          `json:"region,omitempty"`
}

// DefaultConcurrency is how many conversations a reminder sends to at once
// when Handler.Concurrency is zero.
const DefaultConcurrency = 8

// Handler sends reminders. It is safe for concurrent use.
type Handler struct {
	Routes *mapping.Routes
	// TalkJS sends and, for reminders that select by filter, lists
	// conversations; *talkjs.Client implements it.
	TalkJS interface {
		dispatch.TalkJS
		ListConversations(ctx context.Context, opts talkjs.ListOptions) iter.Seq2[talkjs.Conversation, error]
	}
	Logger *slog.Logger
	// Concurrency bounds how many conversations are sent to at once; zero
	// means DefaultConcurrency.
	Concurrency int
	Now         func() time.Time
}

// ErrInvalidInput is returned for an input that names nothing to do. It is
// logged and fails the invocation, so the function's Errors alarm shows the
// misconfigured schedule (Lambda's two retries of an asynchronous
// invocation fail the same way and send nothing).
var ErrInvalidInput = errors.New("schedule: invalid input")

// ErrFilterFailed is wrapped by the error of a run in which a reminder's
// select filter failed on every conversation listed: the filter is broken
// (a field no conversation has the type it expects), and a run that sent
// nothing must not pass for one that had nothing to send.
var ErrFilterFailed = errors.New("schedule: reminder filter failed")

// Summary is what an invocation did; it is also the Lambda result.
type Summary struct {
	Reminders []string `json:"reminders"`
	Sent      int      `json:"sent"`
	Rejected  int      `json:"rejected"`
	Retry     int      `json:"retry"`
}

// Handle runs one scheduled invocation. It returns an error, making Lambda
// retry, when any send failed in a way a retry can fix; the idempotency keys
// make that retry skip what was already sent.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Summary, error) {
	var in Input
	if err := strictjson.Decode(raw, &in); errors.Is(err, strictjson.ErrTrailingData) {
		return Summary{}, fmt.Errorf("%w: data after the input's JSON object", ErrInvalidInput)
	} else if err != nil {
		return Summary{}, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	jobs, err := h.plan(ctx, in)
	if err != nil {
		h.logger().ErrorContext(ctx, "schedule input refused", "reason", err.Error())
		return Summary{}, err
	}
	var sum Summary
	var retryErr error
	for _, j := range jobs {
		sum.Reminders = append(sum.Reminders, j.name)
		sent, rejected, err := h.run(ctx, j)
		sum.Sent += sent
		sum.Rejected += rejected
		if err != nil {
			sum.Retry++
			retryErr = errors.Join(retryErr, err)
		}
	}
	if retryErr != nil {
		return sum, fmt.Errorf("schedule: some reminders failed and will be retried: %w", retryErr)
	}
	return sum, nil
}

// job is one reminder to run.
type job struct {
	name     string
	schedule string
	at       time.Time
	// runID stands in for the scheduled time when the input carries none.
	runID    string
	reminder *mapping.Reminder
	inline   *Input
}

func (h *Handler) plan(ctx context.Context, in Input) ([]job, error) {
	at, runID, err := scheduledAt(ctx, in)
	if err != nil {
		return nil, err
	}
	inline := len(in.ConversationIDs) > 0 || in.Text != "" || in.Type != "" || in.Sender != "" || len(in.Custom) > 0
	switch {
	case in.Reminder != "" && inline:
		// Running the reminder and dropping the inline part silently
		// would send something other than what the input asks for.
		return nil, fmt.Errorf("%w: give either reminder or the inline fields (conversationIds, text, type, sender, custom), not both", ErrInvalidInput)
	case in.Reminder != "":
		r, ok := h.Routes.Reminder(in.Reminder)
		if !ok {
			return nil, fmt.Errorf("%w: no reminder named %q in the routes file", ErrInvalidInput, in.Reminder)
		}
		sched := in.Schedule
		if sched == "" {
			sched = scheduleName(in)
		}
		if sched == "" {
			sched = r.Name
		}
		return []job{{name: r.Name, schedule: sched, at: at, runID: runID, reminder: &r}}, nil
	case inline:
		if len(in.ConversationIDs) == 0 || in.Text == "" {
			return nil, fmt.Errorf("%w: the inline form needs conversationIds and text", ErrInvalidInput)
		}
		if in.Type == "" {
			in.Type = talkjs.SystemMessage
		}
		// The message rules are the client's, checked here so that a bad
		// schedule fails before anything is sent.
		if err := (talkjs.NewMessage{Type: in.Type, Sender: in.Sender, Text: in.Text, Custom: in.Custom}).Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidInput, err)
		}
		// The ids rule of every path (talkjs.ValidateID), before any
		// request; Validate above checked the sender.
		for i, id := range in.ConversationIDs {
			if err := talkjs.ValidateID(talkjs.KindConversation, id); err != nil {
				return nil, fmt.Errorf("%w: conversationIds[%d]: %v", ErrInvalidInput, i, err)
			}
		}
		sched := in.Schedule
		if sched == "" {
			sched = scheduleName(in)
		}
		if sched == "" {
			sched = "inline"
		}
		return []job{{name: "inline", schedule: sched, at: at, runID: runID, inline: &in}}, nil
	case in.DetailType == "Scheduled Event":
		name := scheduleName(in)
		rs := h.Routes.RemindersForSchedule(name)
		if len(rs) == 0 {
			return nil, fmt.Errorf("%w: no reminder has schedule %q (the rule's name)", ErrInvalidInput, name)
		}
		jobs := make([]job, len(rs))
		for i := range rs {
			jobs[i] = job{name: rs[i].Name, schedule: name, at: at, runID: runID, reminder: &rs[i]}
		}
		return jobs, nil
	}
	return nil, fmt.Errorf(`%w: give {"reminder": "<name>"}, the inline form, or invoke from an EventBridge rule`, ErrInvalidInput)
}

// scheduledAt finds the time the invocation was scheduled for. Without one
// (a rule with a constant Input), the Lambda request id stands in: Lambda
// keeps it across the retries of an asynchronous invocation, which is what
// the idempotency key has to survive.
func scheduledAt(ctx context.Context, in Input) (time.Time, string, error) {
	for _, s := range []string{in.ScheduledTime, in.Time} {
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("%w: time %q is not RFC 3339", ErrInvalidInput, s)
		}
		return t.UTC(), "", nil
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return time.Time{}, lc.AwsRequestID, nil
	}
	return time.Time{}, "", fmt.Errorf(`%w: no scheduled time: add "scheduledTime": "<aws.scheduler.scheduled-time>" to the input`, ErrInvalidInput)
}

// scheduleName is the rule's or schedule's name from the event's resources
// (arn:aws:events:...:rule/NAME or arn:aws:scheduler:...:schedule/GROUP/NAME).
func scheduleName(in Input) string {
	arn := in.Schedule
	if arn == "" && len(in.Resources) > 0 {
		arn = in.Resources[0]
	}
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// listing is how a reminder that selects by filter walks the app's
// conversations: by creation, latest first. TalkJS's default order (from REST
// API version 2021-02-09 on) is the last activity, which the reminders
// themselves change: each send moves its conversation to the top, so paging
// with startingAfter while sending repeats some conversations and skips
// others. Creation time is the one order that neither the sends nor other
// users' messages during the walk move, so the walk can stream: it sends
// while it lists and holds no more than a page and the ids it has seen.
var listing = talkjs.ListOptions{Limit: talkjs.MaxPageSize, OrderBy: talkjs.OrderByCreatedAt, OrderDirection: talkjs.Descending}

// errListingOrder is a listing that is not in the order asked for: the walk
// cannot be sure it reaches every conversation, so the run fails rather than
// skip some silently.
var errListingOrder = errors.New("the conversation listing is not latest-created first")

func (h *Handler) run(ctx context.Context, j job) (sent, rejected int, err error) {
	log := h.logger().With("reminder", j.name, "schedule", j.schedule)
	var mu sync.Mutex
	var retryErr error
	sender := dispatch.NewSender(h.TalkJS)
	g, gctx := errgroup.WithContext(ctx)
	conc := h.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	g.SetLimit(conc)
	// seen counts each conversation once, however often a list names it or
	// a listing yields it.
	seen := make(map[string]struct{})
	deliver := func(conv talkjs.Conversation) {
		if _, dup := seen[conv.ID]; dup {
			log.DebugContext(ctx, "conversation named again, sent once", "conversationId", conv.ID)
			return
		}
		seen[conv.ID] = struct{}{}
		g.Go(func() error {
			msg, err := h.message(j, conv)
			if err == nil {
				_, err = sender.Deliver(gctx, mapping.Send{ConversationID: conv.ID, Messages: []talkjs.NewMessage{msg}})
			}
			mu.Lock()
			defer mu.Unlock()
			switch dispatch.Classify(err) {
			case dispatch.Sent:
				sent++
				log.InfoContext(ctx, "reminder sent", "conversationId", conv.ID)
			case dispatch.Reject:
				rejected++
				metrics.FromContext(ctx).Rejected(1)
				log.ErrorContext(ctx, "reminder rejected", "conversationId", conv.ID, "reason", err.Error())
			default:
				retryErr = errors.Join(retryErr, err)
				log.WarnContext(ctx, "reminder failed, will be retried", "conversationId", conv.ID, "reason", err.Error())
			}
			return nil
		})
	}
	switch {
	case j.inline != nil:
		for _, id := range j.inline.ConversationIDs {
			deliver(talkjs.Conversation{ID: id})
		}
	case j.reminder.Explicit():
		for _, id := range j.reminder.ConversationIDs {
			deliver(talkjs.Conversation{ID: id})
		}
	default:
		if err := h.walk(ctx, log, j, deliver); err != nil {
			mu.Lock()
			retryErr = errors.Join(retryErr, err)
			mu.Unlock()
		}
	}
	_ = g.Wait()
	return sent, rejected, retryErr
}

// walk lists the app's conversations in the listing order and hands the ones
// j's reminder selects to deliver, stopping at the first listing error. A
// filter that failed on every conversation listed fails the run too.
func (h *Handler) walk(ctx context.Context, log *slog.Logger, j job, deliver func(talkjs.Conversation)) error {
	var prev talkjs.Conversation
	listed, failed := 0, 0
	var firstErr, listErr error
	for conv, err := range h.TalkJS.ListConversations(ctx, listing) {
		if err != nil {
			listErr = fmt.Errorf("list conversations: %w", err)
			break
		}
		// A conversation without a creation time cannot be checked; TalkJS
		// gives one for every conversation.
		if conv.CreatedAt != 0 && prev.CreatedAt != 0 && conv.CreatedAt > prev.CreatedAt {
			listErr = fmt.Errorf("list conversations: %w: %q (created %d) came after %q (created %d)",
				errListingOrder, conv.ID, conv.CreatedAt, prev.ID, prev.CreatedAt)
			break
		}
		if conv.CreatedAt != 0 {
			prev = conv
		}
		listed++
		ok, err := j.reminder.Selects(conv)
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			log.ErrorContext(ctx, "reminder filter failed", "conversationId", conv.ID, "reason", err.Error())
			continue
		}
		if ok {
			deliver(conv)
		}
	}
	if listed > 0 && failed == listed {
		// Not "0 sent, success": a filter that fails on every
		// conversation is broken, and the run must say so (the
		// function's Errors alarm) rather than look like a quiet day.
		listErr = errors.Join(listErr, fmt.Errorf("%w: reminder %q: select failed on all %d conversations listed (first: %v)", ErrFilterFailed, j.name, listed, firstErr))
	}
	return listErr
}

func (h *Handler) message(j job, conv talkjs.Conversation) (talkjs.NewMessage, error) {
	sched := j.schedule
	if j.runID != "" {
		sched += "@" + j.runID
	}
	if j.reminder != nil {
		return j.reminder.Message(conv, j.at, sched)
	}
	in := j.inline
	return talkjs.NewMessage{
		Type:           in.Type,
		Sender:         in.Sender,
		Text:           in.Text,
		Custom:         in.Custom,
		IdempotencyKey: inlineKey(sched, j.at, conv.ID, in),
	}, nil
}

// inlineKey covers what the inline message says, not only when and where:
// two inline schedules firing at the same minute to one conversation are
// two messages.
func inlineKey(schedule string, at time.Time, conv string, in *Input) string {
	h := sha256.New()
	for _, part := range []string{schedule, at.Format(time.RFC3339), conv, string(in.Type), in.Sender, in.Text} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	for _, k := range slices.Sorted(maps.Keys(in.Custom)) {
		h.Write([]byte(k + "\x00" + in.Custom[k] + "\x00"))
	}
	return "sched:" + hex.EncodeToString(h.Sum(nil)[:16])
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

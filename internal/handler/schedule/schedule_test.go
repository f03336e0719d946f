package schedule_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

const (
	appID = "tScheduleTest"
	key   = "sk_test_schedule_0123456789"
)

func newHandler(t *testing.T) (*schedule.Handler, *talkjstest.Emulator) {
	t.Helper()
	srv, emu := talkjstest.NewServer(appID, key)
	t.Cleanup(srv.Close)
	c, err := talkjs.NewClient(appID, talkjs.StaticKey(key), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &schedule.Handler{Routes: routes, TalkJS: c, Concurrency: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, emu
}

func seed(emu *talkjstest.Emulator, id, source string) {
	emu.PutConversation(talkjstest.Conversation{ID: id, Subject: "Subject of " + id, Custom: map[string]string{"source": source}})
}

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func counts(emu *talkjstest.Emulator, ids ...string) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("%s=%d", id, len(emu.Messages(id))))
	}
	return strings.Join(parts, " ")
}

func TestRemindersFromEvents(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"schedule-scheduler.json", "gh-1=1 am-1=1 stripe-1=0"},
		{"schedule-rule.json", "gh-1=1 am-1=1 stripe-1=0"},
		{"schedule-scheduler-no-input.json", "gh-1=1 am-1=1 stripe-1=0"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, emu := newHandler(t)
			seed(emu, "gh-1", "github")
			seed(emu, "am-1", "alertmanager")
			seed(emu, "stripe-1", "stripe")
			ev := event(t, tt.file)
			ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
			// Lambda retries a failed asynchronous invocation with the same
			// event and request id: the second run must add nothing.
			for range 2 {
				sum, err := h.Handle(ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				if sum.Sent != 2 {
					t.Errorf("summary %+v, want 2 sent", sum)
				}
			}
			if got := counts(emu, "gh-1", "am-1", "stripe-1"); got != tt.want {
				t.Errorf("messages %s, want %s", got, tt.want)
			}
			m := emu.Messages("gh-1")[0]
			if m.Type != "SystemMessage" || !strings.Contains(m.Text, "Subject of gh-1") {
				t.Errorf("reminder %+v: want a system message naming the conversation", m)
			}
		})
	}
}

func TestInlineReminder(t *testing.T) {
	h, emu := newHandler(t)
	seed(emu, "order-1042", "stripe")
	seed(emu, "support-ticket-311", "support")
	ev := event(t, "schedule-inline.json")
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-2"})
	for range 2 {
		if _, err := h.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := counts(emu, "order-1042", "support-ticket-311"); got != "order-1042=1 support-ticket-311=1" {
		t.Errorf("messages %s, want one each", got)
	}
	// Without a scheduled time the request id stands in: a new invocation
	// is a new reminder, Lambda's retry of the same one is not.
	noTime := []byte(`{"conversationIds":["order-1042"],"text":"Reminder without a time"}`)
	for _, id := range []string{"req-3", "req-3", "req-4"} {
		ctx = lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: id})
		if _, err := h.Handle(ctx, noTime); err != nil {
			t.Fatal(err)
		}
	}
	if got := counts(emu, "order-1042"); got != "order-1042=3" {
		t.Errorf("messages %s after req-3 twice and req-4, want 3", got)
	}
	// The same scheduled time again (EventBridge delivering twice) adds
	// nothing, whatever the request id.
	if _, err := h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got := counts(emu, "order-1042"); got != "order-1042=3" {
		t.Errorf("messages %s after a repeated scheduled time, want still 3", got)
	}
}

func TestSelectPagesThroughListings(t *testing.T) {
	h, emu := newHandler(t)
	for i := range 230 {
		src := "github"
		if i%2 == 1 {
			src = "stripe"
		}
		seed(emu, fmt.Sprintf("c-%03d", i), src)
	}
	sum, err := h.Handle(t.Context(), []byte(`{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 115 {
		t.Errorf("sent %d, want 115 (every github conversation of 230, listed in pages of 100)", sum.Sent)
	}
}

func TestFailures(t *testing.T) {
	h, emu := newHandler(t)
	seed(emu, "gh-1", "github")
	seed(emu, "gh-2", "github")
	emu.AddFault(talkjstest.Fault{ConversationID: "gh-2", Status: 503})
	in := []byte(`{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00Z"}`)
	sum, err := h.Handle(t.Context(), in)
	if err == nil || !talkjs.Retryable(errors.Unwrap(err)) && !strings.Contains(err.Error(), "503") {
		t.Fatalf("err %v: a 5xx must fail the invocation so Lambda retries it", err)
	}
	if sum.Sent != 1 {
		t.Errorf("summary %+v, want the healthy conversation sent", sum)
	}
	emu.ClearFaults()
	if _, err := h.Handle(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if got := counts(emu, "gh-1", "gh-2"); got != "gh-1=1 gh-2=1" {
		t.Errorf("after the retry: %s, want one each", got)
	}

	// A conversation TalkJS does not know is a permanent refusal: logged,
	// not retried.
	sum, err = h.Handle(t.Context(), []byte(`{"conversationIds":["missing"],"text":"hi","scheduledTime":"2026-11-25T09:00:00Z"}`))
	if err != nil || sum.Rejected != 1 {
		t.Errorf("summary %+v, err %v: want one rejected and no error", sum, err)
	}
}

func TestInvalidInput(t *testing.T) {
	tests := map[string]string{
		"not JSON":               `{`,
		"empty object":           `{}`,
		"unknown reminder":       `{"reminder":"nope","scheduledTime":"2026-11-25T09:00:00Z"}`,
		"unknown field":          `{"remindr":"standup"}`,
		"bad time":               `{"reminder":"standup","scheduledTime":"tomorrow"}`,
		"inline without text":    `{"conversationIds":["a"],"scheduledTime":"2026-11-25T09:00:00Z"}`,
		"inline user, no sender": `{"conversationIds":["a"],"text":"x","type":"UserMessage","scheduledTime":"2026-11-25T09:00:00Z"}`,
		"rule with no reminder":  `{"detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-25T09:00:00Z","resources":["arn:aws:events:us-east-1:1:rule/nothing"],"detail":{}}`,
		"no time outside Lambda": `{"reminder":"standup"}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			h, emu := newHandler(t)
			seed(emu, "a", "github")
			_, err := h.Handle(context.WithoutCancel(t.Context()), []byte(in))
			if !errors.Is(err, schedule.ErrInvalidInput) {
				t.Errorf("err %v, want ErrInvalidInput", err)
			}
			if emu.Counts().MessagesStored != 0 {
				t.Error("something was sent")
			}
		})
	}
}

// TestInlineSchedulesAtTheSameTime: two different inline reminders firing at
// the same minute to one conversation are two messages.
func TestInlineSchedulesAtTheSameTime(t *testing.T) {
	h, emu := newHandler(t)
	seed(emu, "ops", "github")
	for _, text := range []string{"Maintenance tonight", "Invoices are due"} {
		in := fmt.Sprintf(`{"conversationIds":["ops"],"text":%q,"scheduledTime":"2026-11-25T09:00:00Z"}`, text)
		if _, err := h.Handle(t.Context(), []byte(in)); err != nil {
			t.Fatal(err)
		}
	}
	if got := counts(emu, "ops"); got != "ops=2" {
		t.Errorf("messages %s, want 2", got)
	}
}

// TestReminderWithoutTimeShowsNow: a rule with a constant input carries no
// time; the text must not say year 1.
func TestReminderWithoutTimeShowsNow(t *testing.T) {
	h, emu := newHandler(t)
	seed(emu, "gh-1", "github")
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-time"})
	if _, err := h.Handle(ctx, []byte(`{"reminder":"github-weekly"}`)); err != nil {
		t.Fatal(err)
	}
	msgs := emu.Messages("gh-1")
	if len(msgs) != 1 || strings.Contains(msgs[0].Text, "0001") || !strings.Contains(msgs[0].Text, strconv.Itoa(time.Now().Year())) {
		t.Errorf("messages %+v: want one reminder dated this year", msgs)
	}
}

// TestFilterFailingEverywhereFailsTheRun is issue 14.8: a reminder whose
// select fails on every conversation reported success with 0 sent. The
// run now fails, naming the reminder; a filter that fails on some
// conversations only still sends to the others.
func TestFilterFailingEverywhereFailsTheRun(t *testing.T) {
	routes, err := mapping.Parse([]byte(`
routes:
  r:
    verify: none
    actions:
      - conversation: {id: x}
        message: {text: x}
reminders:
  broken:
    schedule: broken
    select: int(conversation.custom.n) > 1
    text: 'hello'
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	input := json.RawMessage(`{"reminder":"broken","scheduledTime":"2026-11-25T09:00:00Z"}`)
	t.Run("fails everywhere", func(t *testing.T) {
		h, emu := newHandler(t)
		h.Routes = routes
		emu.PutConversation(talkjstest.Conversation{ID: "a", Custom: map[string]string{"n": "many"}})
		emu.PutConversation(talkjstest.Conversation{ID: "b", Custom: map[string]string{"n": "lots"}})
		sum, err := h.Handle(t.Context(), input)
		if !errors.Is(err, schedule.ErrFilterFailed) || !strings.Contains(err.Error(), `"broken"`) {
			t.Fatalf("err = %v (summary %+v), want ErrFilterFailed naming the reminder", err, sum)
		}
		if sum.Sent != 0 {
			t.Errorf("sent %d", sum.Sent)
		}
	})
	t.Run("fails on some", func(t *testing.T) {
		h, emu := newHandler(t)
		h.Routes = routes
		emu.PutConversation(talkjstest.Conversation{ID: "a", Custom: map[string]string{"n": "many"}})
		emu.PutConversation(talkjstest.Conversation{ID: "b", Custom: map[string]string{"n": "5"}})
		sum, err := h.Handle(t.Context(), input)
		if err != nil || sum.Sent != 1 {
			t.Errorf("summary %+v, err %v; want 1 sent and no error", sum, err)
		}
	})
}

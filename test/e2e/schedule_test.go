package e2e

import (
	"encoding/json"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// TestScheduleRetry checks that a TalkJS 5xx fails the invocation (so Lambda
// retries it) and that the retry posts the missing reminder once, without
// repeating the one already sent. The inline sample's scheduledTime makes
// its idempotency keys, so the retry (the same event, and the same request
// id, as Lambda's retry of an asynchronous invocation) repeats them. Keys
// from the request id alone are tested in internal/handler/schedule.
func TestScheduleRetry(t *testing.T) {
	reset(t)
	deliver(t, "queue-commands.json")
	stack.TalkJS.AddFault(talkjstest.Fault{ConversationID: "support-ticket-311", Status: 500})
	event := loadEvent(t, "schedule-inline.json")
	fn := stack.Function(localrun.Schedule)
	inv := rietest.Invocation{Event: event, RequestID: "7d1c5a8e-0b1f-4c2a-9e3d-5f6a7b8c9d01"}
	out, err := fn.Do(t.Context(), inv)
	fe, ok := asFunctionError(err)
	if !ok {
		t.Fatalf("invoke = %s, %v; want a function error so Lambda retries", out, err)
	}
	t.Logf("function error: %s", fe.Message)
	if n := len(stack.TalkJS.Messages("order-1042")); n != 4 {
		t.Errorf("order-1042 has %d messages, want its 3 and the reminder", n)
	}
	stack.TalkJS.ClearFaults()
	out, err = fn.Do(t.Context(), inv)
	if err != nil {
		t.Fatalf("retry: %v (%s)", err, out)
	}
	var s scheduleSummary
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	if s.Sent != 2 || s.Retry != 0 {
		t.Errorf("retry summary %+v, want 2 sent (one a replay)", s)
	}
	if n := len(stack.TalkJS.Messages("order-1042")); n != 4 {
		t.Errorf("order-1042 has %d messages after the retry, want 4: no duplicate reminder", n)
	}
	if n := len(stack.TalkJS.Messages("support-ticket-311")); n != 2 {
		t.Errorf("support-ticket-311 has %d messages after the retry, want 2", n)
	}
}

// TestScheduleSameEventTwice checks that the rule event, twice, and the
// Scheduler event for the same standup at the same time post one reminder
// in all to each conversation.
func TestScheduleSameEventTwice(t *testing.T) {
	reset(t)
	for _, f := range engineering {
		deliver(t, f)
	}
	callSchedule(t, loadEvent(t, "schedule-rule.json"))
	callSchedule(t, loadEvent(t, "schedule-rule.json"))
	callSchedule(t, loadEvent(t, "schedule-scheduler-no-input.json"))
	for _, conv := range []string{githubConv, alertsConv} {
		if n := len(stack.TalkJS.Messages(conv)); n != 2 {
			t.Errorf("%s has %d messages, want the webhook's and one reminder: %q", conv, n, texts(conv))
		}
	}
}

package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// system is a send command of one SystemMessage to conv, creating conv.
func system(t *testing.T, conv, text string) string {
	t.Helper()
	return command(t, map[string]any{
		"conversationId": conv,
		"conversation":   map[string]any{"subject": conv, "participants": []string{"support"}},
		"message":        map[string]any{"type": "SystemMessage", "text": text},
	})
}

// TestQueueFaults sends one batch whose records target healthy, failing
// and refusing conversations, and checks that exactly the records whose
// conversations got a 5xx, a 429 or a dropped connection are reported as
// batch item failures, that records TalkJS refuses (4xx) and invalid records
// go to the rejects queue instead, and that a redelivery of the failures
// completes the batch without duplicates.
func TestQueueFaults(t *testing.T) {
	reset(t)
	stack.TalkJS.PutUser(talkjstest.User{ID: "stranger", Name: "Not a participant"})
	for _, f := range []talkjstest.Fault{
		{ConversationID: "c-500", Status: 500},
		{ConversationID: "c-503", Status: 503},
		// A Retry-After beyond the function's deadline: the client gives up
		// at once instead of sleeping through the invocation.
		{ConversationID: "c-429", Status: 429, RetryAfter: time.Hour},
		{ConversationID: "c-drop", Drop: true},
	} {
		stack.TalkJS.AddFault(f)
	}
	notParticipant := command(t, map[string]any{
		"conversationId": "c-mixed",
		"message":        map[string]any{"type": "UserMessage", "sender": "stranger", "text": "I am not in this conversation"},
	})
	recs := []record{
		{id: "m01-ok", body: system(t, "c-ok-1", "first healthy")},
		{id: "m02-500", body: system(t, "c-500", "lost to a 500")},
		{id: "m03-mixed", body: system(t, "c-mixed", "mixed one")},
		{id: "m04-429", body: system(t, "c-429", "lost to a 429")},
		{id: "m05-mixed-4xx", body: notParticipant},
		{id: "m06-drop", body: system(t, "c-drop", "lost to a dropped connection")},
		{id: "m07-mixed", body: system(t, "c-mixed", "mixed two")},
		{id: "m08-500-again", body: system(t, "c-500", "held behind the 500")},
		{id: "m09-invalid", body: `{"conversationId": "c-ok-2", "mesage": {"type": "SystemMessage", "text": "typo"}}`},
		{id: "m10-not-json", body: "order shipped"},
		{id: "m11-503", body: system(t, "c-503", "lost to a 503")},
		{id: "m12-ok", body: system(t, "c-ok-2", "second healthy")},
	}
	rejectsBefore := len(stack.AWS.Sent())
	event := sqsEvent(t, recs...)

	failed := callQueue(t, event)
	want := []string{"m02-500", "m04-429", "m06-drop", "m08-500-again", "m11-503"}
	if !slices.Equal(failed, want) {
		t.Errorf("batch item failures = %q, want exactly %q", failed, want)
	}

	for conv, want := range map[string][]string{
		"c-ok-1":  {"first healthy"},
		"c-ok-2":  {"second healthy"},
		"c-mixed": {"mixed one", "mixed two"},
	} {
		if got := texts(conv); !slices.Equal(got, want) {
			t.Errorf("%s texts = %q, want %q", conv, got, want)
		}
	}
	for _, conv := range []string{"c-500", "c-503", "c-429", "c-drop"} {
		if got := texts(conv); len(got) != 0 {
			t.Errorf("%s got messages %q despite its fault", conv, got)
		}
	}

	rejected := stack.AWS.Sent()[rejectsBefore:]
	byID := make(map[string]rejection)
	for _, m := range rejected {
		if m.QueueURL != stack.RejectsQueueURL {
			t.Errorf("rejection sent to %s, want %s", m.QueueURL, stack.RejectsQueueURL)
		}
		var r rejection
		if err := json.Unmarshal([]byte(m.Body), &r); err != nil {
			t.Fatalf("rejection body %q: %v", m.Body, err)
		}
		if m.Attributes["sourceMessageId"] != r.MessageID {
			t.Errorf("rejection of %s has sourceMessageId %q", r.MessageID, m.Attributes["sourceMessageId"])
		}
		byID[r.MessageID] = r
	}
	if len(rejected) != 3 || len(byID) != 3 {
		t.Errorf("%d rejections for %d records, want one each for m05, m09, m10", len(rejected), len(byID))
	}
	if r := byID["m05-mixed-4xx"]; r.Status != 400 || r.Body != notParticipant || r.Answer == "" {
		t.Errorf("rejection of the 4xx record = %+v, want TalkJS's 400 and answer and the original body", r)
	}
	for _, id := range []string{"m09-invalid", "m10-not-json"} {
		if r, ok := byID[id]; !ok || r.Reason == "" || r.Status != 0 || r.Body == "" {
			t.Errorf("rejection of invalid record %s = %+v, want a reason and the body, no TalkJS status", id, r)
		}
	}

	// SQS delivers the failed records again once TalkJS is back.
	stack.TalkJS.ClearFaults()
	var again []record
	for _, r := range recs {
		if slices.Contains(failed, r.id) {
			again = append(again, r)
		}
	}
	if failed := callQueue(t, sqsEvent(t, again...)); len(failed) != 0 {
		t.Errorf("redelivery: batch item failures %q, want none", failed)
	}
	for conv, want := range map[string][]string{
		"c-500":  {"lost to a 500", "held behind the 500"},
		"c-503":  {"lost to a 503"},
		"c-429":  {"lost to a 429"},
		"c-drop": {"lost to a dropped connection"},
	} {
		if got := texts(conv); !slices.Equal(got, want) {
			t.Errorf("after redelivery %s texts = %q, want %q", conv, got, want)
		}
	}
	if n := len(stack.AWS.Sent()) - rejectsBefore; n != 3 {
		t.Errorf("redelivery forwarded %d more rejections", n-3)
	}
}

// rejection is the rejects queue's message body.
type rejection struct {
	MessageID string `json:"messageId"`
	Reason    string `json:"reason"`
	Status    int    `json:"status"`
	Answer    string `json:"answer"`
	Body      string `json:"body"`
	Group     string `json:"messageGroupId"`
}

// TestQueueFIFOHold checks that after a retryable failure in a FIFO message
// group, the group's later records are reported failed without being sent,
// while another group goes on.
func TestQueueFIFOHold(t *testing.T) {
	reset(t)
	stack.TalkJS.AddFault(talkjstest.Fault{ConversationID: "fifo-b", Status: 502})
	recs := []record{
		{id: "f1", group: "order-7", body: system(t, "fifo-a", "received")},
		{id: "f2", group: "order-7", body: system(t, "fifo-b", "paid")},
		{id: "f3", group: "order-7", body: system(t, "fifo-c", "shipped")},
		{id: "g1", group: "order-8", body: system(t, "fifo-d", "other group")},
	}
	failed := callQueue(t, sqsEvent(t, recs...))
	if want := []string{"f2", "f3"}; !slices.Equal(failed, want) {
		t.Errorf("batch item failures = %q, want %q", failed, want)
	}
	if got := texts("fifo-a"); !slices.Equal(got, []string{"received"}) {
		t.Errorf("fifo-a = %q", got)
	}
	if got := texts("fifo-d"); !slices.Equal(got, []string{"other group"}) {
		t.Errorf("fifo-d = %q: another group must not be held", got)
	}
	for _, r := range stack.TalkJS.Requests() {
		if r.ConversationID == "fifo-c" {
			t.Errorf("%s %s was sent although an earlier record of its group failed", r.Method, r.Path)
		}
	}
}

// TestQueueFIFOSample runs events/queue-fifo.json while order-1043 answers
// 500: its three records go out as one coalesced call, so all three fail,
// which fails the invocation (every record of the batch failed: the event
// source backs off) and nothing is stored; redelivered, they arrive in order.
func TestQueueFIFOSample(t *testing.T) {
	reset(t)
	stack.TalkJS.AddFault(talkjstest.Fault{ConversationID: "order-1043", Status: 500})
	event := loadEvent(t, "queue-fifo.json")
	out, err := stack.Invoke(t.Context(), localrun.Queue, event)
	if fe, ok := asFunctionError(err); !ok || !strings.Contains(fe.Message, "every record of the batch failed") {
		t.Errorf("invoke = %v (%s), want the function error for a batch whose every record failed", err, out)
	}
	if got := texts("order-1043"); len(got) != 0 {
		t.Errorf("order-1043 = %q despite the fault", got)
	}
	stack.TalkJS.ClearFaults()
	if failed := callQueue(t, event); len(failed) != 0 {
		t.Errorf("redelivery failures %q", failed)
	}
	if got, want := texts("order-1043"), []string{"Order #1043 received", "Payment confirmed for order #1043", "Order #1043 has shipped"}; !slices.Equal(got, want) {
		t.Errorf("order-1043 = %q, want %q", got, want)
	}
}

// TestQueueSameBatchTwice checks that a redelivered batch adds nothing.
func TestQueueSameBatchTwice(t *testing.T) {
	reset(t)
	event := loadEvent(t, "queue-commands.json")
	wantNoFailures(t, invoke(t, localrun.Queue, event))
	before := stack.TalkJS.Counts()
	wantNoFailures(t, invoke(t, localrun.Queue, event))
	wantOrder1042(t)
	if n := len(stack.TalkJS.Messages("support-ticket-311")); n != 1 {
		t.Errorf("support-ticket-311 has %d messages after a redelivery, want 1", n)
	}
	after := stack.TalkJS.Counts()
	if after.MessagesStored != before.MessagesStored || after.IdempotentReplays-before.IdempotentReplays != 4 {
		t.Errorf("redelivery stored %d messages and replayed %d, want 0 and 4", after.MessagesStored-before.MessagesStored, after.IdempotentReplays-before.IdempotentReplays)
	}
}

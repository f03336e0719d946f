package queue_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

const (
	appID = "tQueueTest"
	key   = "sk_test_queue_0123456789"
)

type env struct {
	h      *queue.Handler
	emu    *talkjstest.Emulator
	aws    *awstest.Server
	client *talkjs.Client
}

func newEnv(t *testing.T, rejectsURL string) env {
	t.Helper()
	srv, emu := talkjstest.NewServer(appID, key)
	t.Cleanup(srv.Close)
	c, err := talkjs.NewClient(appID, talkjs.StaticKey(key), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"cust-7", "support"} {
		name := u
		if err := c.UpsertUser(t.Context(), u, talkjs.UserUpdate{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	awsSrv := awstest.New()
	as := httptest.NewServer(awsSrv)
	t.Cleanup(as.Close)
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	h := &queue.Handler{Routes: routes, TalkJS: c, Concurrency: 4}
	if rejectsURL != "" {
		h.Rejects = queue.SQSRejects{Client: sqs.NewFromConfig(awstest.Config(as.URL)), QueueURL: rejectsURL}
	}
	return env{h: h, emu: emu, aws: awsSrv, client: c}
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:talkjs-bridge"}
}

func failures(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

func TestCommandsAndRejects(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		rejected string // substring of the reason; "" = delivered
	}{
		{"system message", `{"conversationId":"order-1","conversation":{"subject":"Order 1","participants":["cust-7","support"]},"message":{"type":"SystemMessage","text":"Shipped"}}`, ""},
		{"user message with key", `{"conversationId":"order-1","conversation":{"participants":["cust-7","support"]},"messages":[{"type":"UserMessage","sender":"support","text":"Tracking: 1Z","custom":{"carrier":"ups"},"idempotencyKey":"ship-1"}]}`, ""},
		{"not JSON", `{"conversationId":`, "not a JSON object"},
		{"array body", `[1,2]`, "not a JSON object"},
		{"missing conversation id", `{"message":{"type":"SystemMessage","text":"x"}}`, "conversationId is missing"},
		{"typo in a field", `{"converstionId":"a","message":{"type":"SystemMessage","text":"x"}}`, "unknown field"},
		{"no messages", `{"conversationId":"a"}`, "no messages"},
		{"both message and messages", `{"conversationId":"a","message":{"type":"SystemMessage","text":"x"},"messages":[{"type":"SystemMessage","text":"y"}]}`, "either message or messages"},
		{"user message without sender", `{"conversationId":"a","message":{"type":"UserMessage","text":"x"}}`, "needs a sender"},
		{"system message with sender", `{"conversationId":"a","message":{"type":"SystemMessage","sender":"support","text":"x"}}`, "has no sender"},
		{"unknown type", `{"conversationId":"a","message":{"type":"Shout","text":"x"}}`, "not UserMessage or SystemMessage"},
		{"empty text", `{"conversationId":"a","message":{"type":"SystemMessage","text":""}}`, "text is empty"},
		{"custom not a string", `{"conversationId":"a","message":{"type":"SystemMessage","text":"x","custom":{"n":1}}}`, "not a valid command"},
		{"not UTF-8", "{\"conversationId\":\"a\xff\"}", "UTF-8"},
		{"sender not a participant (TalkJS 400)", `{"conversationId":"order-2","conversation":{"participants":["cust-7"]},"message":{"type":"UserMessage","sender":"support","text":"hi"}}`, "400"},
		{"unknown route", `{"route":"nope","payload":{}}`, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, awstest.QueueURL("rejects"))
			resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("m-1", tt.body)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("batch item failures %v, want none (delivered or rejected)", failures(resp))
			}
			sent := e.aws.Sent()
			if tt.rejected == "" {
				if len(sent) != 0 {
					t.Fatalf("forwarded to rejects: %s", sent[0].Body)
				}
				return
			}
			if len(sent) != 1 {
				t.Fatalf("forwarded %d records to the rejects queue, want 1", len(sent))
			}
			var r queue.Rejection
			if err := json.Unmarshal([]byte(sent[0].Body), &r); err != nil {
				t.Fatal(err)
			}
			body := r.Body
			if r.BodyBase64 != "" {
				b, err := base64.StdEncoding.DecodeString(r.BodyBase64)
				if err != nil {
					t.Fatal(err)
				}
				body = string(b)
			}
			if r.MessageID != "m-1" || body != tt.body || !strings.Contains(r.Reason, tt.rejected) {
				t.Errorf("rejection %+v: want messageId m-1, the original body and a reason containing %q", r, tt.rejected)
			}
		})
	}
}

func TestRetryableFailuresAreReported(t *testing.T) {
	e := newEnv(t, awstest.QueueURL("rejects"))
	e.emu.AddFault(talkjstest.Fault{ConversationID: "conv-5xx", Status: 502})
	e.emu.AddFault(talkjstest.Fault{ConversationID: "conv-429", Status: 429, RetryAfter: time.Millisecond})
	e.emu.AddFault(talkjstest.Fault{ConversationID: "conv-drop", Drop: true})
	body := func(conv string, n int) string {
		return fmt.Sprintf(`{"conversationId":%q,"conversation":{"participants":["support"]},"message":{"type":"SystemMessage","text":"n%d"}}`, conv, n)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		record("ok-1", body("conv-ok", 1)),
		record("5xx-1", body("conv-5xx", 1)),
		record("429-1", body("conv-429", 1)),
		record("drop-1", body("conv-drop", 1)),
		record("ok-2", body("conv-ok", 2)),
		record("bad-1", `{"nope":true}`),
	}}
	resp, err := e.h.Handle(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failures(resp), []string{"429-1", "5xx-1", "drop-1"}; !slices.Equal(got, want) {
		t.Errorf("batch item failures %v, want %v", got, want)
	}
	if n := len(e.emu.Messages("conv-ok")); n != 2 {
		t.Errorf("conv-ok holds %d messages, want 2", n)
	}
	if sent := e.aws.Sent(); len(sent) != 1 || !strings.Contains(sent[0].Body, `"bad-1"`) {
		t.Errorf("rejects queue got %d messages, want only bad-1", len(sent))
	}

	// SQS redelivers the failed records once TalkJS is back: each message
	// arrives once, and the ones already sent are not sent again.
	e.emu.ClearFaults()
	var again events.SQSEvent
	for _, r := range ev.Records {
		if slices.Contains(failures(resp), r.MessageId) || r.MessageId == "ok-1" {
			again.Records = append(again.Records, r)
		}
	}
	resp, err = e.h.Handle(t.Context(), again)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %v %v", err, failures(resp))
	}
	for conv, want := range map[string]int{"conv-ok": 2, "conv-5xx": 1, "conv-429": 1, "conv-drop": 1} {
		if n := len(e.emu.Messages(conv)); n != want {
			t.Errorf("%s holds %d messages after redelivery, want %d", conv, n, want)
		}
	}
}

func TestRejectsQueueDownKeepsTheRecord(t *testing.T) {
	e := newEnv(t, awstest.QueueURL("rejects"))
	e.aws.Fail(true)
	resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("bad-1", `{}`)}})
	if !errors.Is(err, queue.ErrBatchFailed) {
		t.Fatalf("Handle error %v, want ErrBatchFailed: the one record is retried", err)
	}
	if got := failures(resp); !slices.Equal(got, []string{"bad-1"}) {
		t.Errorf("failures %v: a rejected record that cannot be forwarded must stay in SQS", got)
	}
}

func TestSecretUnavailableIsRetried(t *testing.T) {
	e := newEnv(t, "")
	srv, _ := talkjstest.NewServer(appID, key)
	t.Cleanup(srv.Close)
	c, err := talkjs.NewClient(appID, unavailable{}, talkjs.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	e.h.TalkJS = c
	resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		record("m-1", `{"conversationId":"a","message":{"type":"SystemMessage","text":"x"}}`),
	}})
	if !errors.Is(err, queue.ErrBatchFailed) {
		t.Fatalf("Handle error %v, want ErrBatchFailed: the one record is retried", err)
	}
	if got := failures(resp); !slices.Equal(got, []string{"m-1"}) {
		t.Errorf("failures %v, want m-1 retried while the secret is unavailable", got)
	}
}

func TestRouteMappedRecord(t *testing.T) {
	e := newEnv(t, "")
	payload, err := os.ReadFile("../../../testdata/github/issues/opened.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{
		"route":   "github",
		"headers": map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		"payload": json.RawMessage(payload),
	})
	ev := events.SQSEvent{Records: []events.SQSMessage{record("m-1", string(body))}}
	for range 2 {
		resp, err := e.h.Handle(t.Context(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%v %v", err, failures(resp))
		}
	}
	total := 0
	for _, c := range e.emu.Conversations() {
		total += len(e.emu.Messages(c.ID))
	}
	if total == 0 {
		t.Fatal("the route-mapped record sent nothing")
	}
	if c := e.emu.Counts(); c.IdempotentReplays == 0 {
		t.Errorf("the second delivery was not deduplicated by idempotency keys: %+v", c)
	}
	if total != e.emu.Counts().MessagesStored {
		t.Errorf("stored %d, counted %d", total, e.emu.Counts().MessagesStored)
	}
}

// TestCommandKeys: SQS delivering a record again adds nothing; the same
// command sent twice as two SQS messages is two messages; a command with
// its own idempotencyKey is one message however it arrives (a DLQ redrive
// gives it a new message id).
func TestCommandKeys(t *testing.T) {
	e := newEnv(t, "")
	plain := `{"conversationId":"ops","conversation":{"participants":["support"]},"message":{"type":"SystemMessage","text":"Backup finished"}}`
	keyed := `{"conversationId":"orders","conversation":{"participants":["support"]},"idempotencyKey":"order-9-shipped","message":{"type":"SystemMessage","text":"Shipped"}}`
	for _, r := range []events.SQSMessage{
		record("night-1", plain), record("night-1", plain), // redelivery
		record("night-2", plain), // the next night
		record("first", keyed), record("redriven", keyed),
	} {
		resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{r}})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %v %v", r.MessageId, err, failures(resp))
		}
	}
	if got := fmt.Sprint(len(e.emu.Messages("ops")), len(e.emu.Messages("orders"))); got != "2 1" {
		t.Errorf("ops and orders hold %s messages, want 2 1", got)
	}
}

// TestHungCallDoesNotBlockRejects is issue 14.6: in a batch where one
// TalkJS call hangs to the deadline, the malformed record and the one
// TalkJS refused (4xx) still reach the rejects queue before the invocation
// ends, and only the hung record is reported for retry.
func TestHungCallDoesNotBlockRejects(t *testing.T) {
	e := newEnv(t, awstest.QueueURL("rejects"))
	e.emu.AddFault(talkjstest.Fault{ConversationID: "hung", Latency: time.Hour})
	e.emu.AddFault(talkjstest.Fault{ConversationID: "refused", Status: 403})
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	msg := func(conv string) string {
		return `{"conversationId":"` + conv + `","message":{"type":"SystemMessage","text":"hi"}}`
	}
	resp, err := e.h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		record("hung-1", msg("hung")),
		record("malformed-1", `{"conversationId":`),
		record("refused-1", msg("refused")),
		record("good-1", `{"conversationId":"good","conversation":{"subject":"Good"},"message":{"type":"SystemMessage","text":"hi"}}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := failures(resp); !slices.Equal(got, []string{"hung-1"}) {
		t.Errorf("batch item failures %v, want only the hung record", got)
	}
	var forwarded []string
	for _, m := range e.aws.Sent() {
		var r queue.Rejection
		if err := json.Unmarshal([]byte(m.Body), &r); err != nil {
			t.Fatal(err)
		}
		forwarded = append(forwarded, r.MessageID)
	}
	slices.Sort(forwarded)
	if want := []string{"malformed-1", "refused-1"}; !slices.Equal(forwarded, want) {
		t.Errorf("forwarded to the rejects queue: %v, want %v", forwarded, want)
	}
	if n := len(e.emu.Messages("good")); n != 1 {
		t.Errorf("the good record's conversation has %d messages, want 1", n)
	}
}

// TestEveryRecordFailing checks the decision for a batch whose every record
// is to be delivered again: the invocation fails (ErrBatchFailed), so the
// SQS event source backs off, and the response still lists every record. A
// batch with anything sent or rejected answers normally.
func TestEveryRecordFailing(t *testing.T) {
	cmd := func(conv string) string {
		return `{"conversationId":"` + conv + `","message":{"type":"SystemMessage","text":"x"}}`
	}
	tests := []struct {
		name     string
		records  []events.SQSMessage
		failures []string
		wantErr  bool
	}{
		{name: "every record fails", records: []events.SQSMessage{record("f-1", cmd("down")), record("f-2", cmd("down-2"))}, failures: []string{"f-1", "f-2"}, wantErr: true},
		{name: "one sent, one fails", records: []events.SQSMessage{record("ok-1", cmd("up")), record("f-1", cmd("down"))}, failures: []string{"f-1"}},
		{name: "one rejected, one fails", records: []events.SQSMessage{record("bad-1", `{}`), record("f-1", cmd("down"))}, failures: []string{"f-1"}},
		{name: "every record rejected", records: []events.SQSMessage{record("bad-1", `{}`), record("bad-2", "x")}},
		{name: "empty batch", records: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			e.emu.AddFault(talkjstest.Fault{ConversationID: "down", Status: 503})
			e.emu.AddFault(talkjstest.Fault{ConversationID: "down-2", Status: 500})
			resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: tt.records})
			if got := errors.Is(err, queue.ErrBatchFailed); got != tt.wantErr || (err != nil && !got) {
				t.Errorf("Handle error %v, want ErrBatchFailed: %v", err, tt.wantErr)
			}
			if got := failures(resp); !slices.Equal(got, tt.failures) && len(got)+len(tt.failures) > 0 {
				t.Errorf("batch item failures %v, want %v", got, tt.failures)
			}
		})
	}
}

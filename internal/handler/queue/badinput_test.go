package queue_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// The bad-input suite keeps its own names so it does not lean on the other
// test files of this package.
const (
	bqAppID = "tQueueBadInput"
	bqKey   = "sk_test_queue_badinput_0123"
)

var bqRejectsURL = awstest.QueueURL("talkjs-bridge-rejects")

type bqEnv struct {
	h    *queue.Handler
	emu  *talkjstest.Emulator
	aws  *awstest.Server
	logs *bytes.Buffer
}

// newBQ builds a handler whose rejects go to a local SQS endpoint through
// the real SDK client. wrap, when set, wraps the TalkJS client.
func newBQ(t *testing.T, wrap func(dispatch.TalkJS) dispatch.TalkJS) bqEnv {
	t.Helper()
	srv, emu := talkjstest.NewServer(bqAppID, bqKey)
	t.Cleanup(srv.Close)
	c, err := talkjs.NewClient(bqAppID, talkjs.StaticKey(bqKey), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	awsSrv := awstest.New()
	as := httptest.NewServer(awsSrv)
	t.Cleanup(as.Close)
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	var tj dispatch.TalkJS = c
	if wrap != nil {
		tj = wrap(c)
	}
	// The conversations the tests send to without upserting them.
	for _, id := range []string{"bq-ok", "bq-0", "bq-1", "bq-2", "hot-run", "calm"} {
		emu.PutConversation(talkjstest.Conversation{ID: id})
	}
	logs := new(bytes.Buffer)
	h := &queue.Handler{
		Routes: routes, TalkJS: tj, Concurrency: 4,
		Rejects: queue.SQSRejects{Client: sqs.NewFromConfig(awstest.Config(as.URL)), QueueURL: bqRejectsURL},
		Logger:  logging.New(logs, slog.LevelDebug),
		Now:     func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	return bqEnv{h: h, emu: emu, aws: awsSrv, logs: logs}
}

func bqRecord(id, group, body string) events.SQSMessage {
	r := events.SQSMessage{MessageId: id, Body: body, EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:talkjs-bridge", Attributes: map[string]string{}}
	if group != "" {
		r.Attributes["MessageGroupId"] = group
		r.EventSourceARN += ".fifo"
	}
	return r
}

// bqRejections decodes what reached the rejects queue, by messageId.
func bqRejections(t *testing.T, s *awstest.Server) map[string]queue.Rejection {
	t.Helper()
	out := map[string]queue.Rejection{}
	for _, m := range s.Sent() {
		if m.QueueURL != bqRejectsURL {
			t.Errorf("forwarded to %s, want %s", m.QueueURL, bqRejectsURL)
		}
		var r queue.Rejection
		if err := json.Unmarshal([]byte(m.Body), &r); err != nil {
			t.Fatalf("rejection is not JSON: %v: %s", err, m.Body)
		}
		if _, dup := out[r.MessageID]; dup {
			t.Errorf("record %s forwarded twice", r.MessageID)
		}
		if m.Attributes["sourceMessageId"] != r.MessageID {
			t.Errorf("rejection of %s carries sourceMessageId %q", r.MessageID, m.Attributes["sourceMessageId"])
		}
		out[r.MessageID] = r
	}
	return out
}

func bqOriginal(t *testing.T, r queue.Rejection) string {
	t.Helper()
	if r.BodyBase64 == "" {
		return r.Body
	}
	b, err := base64.StdEncoding.DecodeString(r.BodyBase64)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const bqGood = `{"conversationId":"bq-ok","message":{"type":"SystemMessage","text":"fine"}}`

var bqBadRecords = []struct {
	name   string
	body   string
	reason string // must appear in the rejection's reason
}{
	{"not JSON", `{"conversationId":`, "not a JSON object"},
	{"empty body", ``, "not a JSON object"},
	{"whitespace body", " \n\t", "not a JSON object"},
	{"JSON string", `"send hello"`, "not a JSON object"},
	{"JSON number", `42`, "not a JSON object"},
	{"JSON array", `[{"conversationId":"a"}]`, "not a JSON object"},
	{"JSON null", `null`, "conversationId is missing"},
	{"data after the object", `{"conversationId":"a","message":{"type":"SystemMessage","text":"x"}} {}`, "not a JSON object"},
	{"not UTF-8", "{\"conversationId\":\"a\",\"message\":{\"type\":\"SystemMessage\",\"text\":\"\xff\xfe\"}}", "UTF-8"},
	// 20k levels: twice the decoder's limit, and a body that still fits
	// SQS's message size once wrapped in a rejection.
	{"deeply nested (20k levels)", strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000), "not a JSON object"},
	{"field name typo", `{"conversation_id":"a","message":{"type":"SystemMessage","text":"x"}}`, "unknown field"},
	{"conversationId a number", `{"conversationId":1042,"message":{"type":"SystemMessage","text":"x"}}`, "not a valid command"},
	{"conversationId empty", `{"conversationId":"","message":{"type":"SystemMessage","text":"x"}}`, "conversationId is missing"},
	{"messages not a list", `{"conversationId":"a","messages":{"type":"SystemMessage","text":"x"}}`, "not a valid command"},
	{"messages empty", `{"conversationId":"a","messages":[]}`, "no messages"},
	{"message and messages", `{"conversationId":"a","message":{"type":"SystemMessage","text":"x"},"messages":[{"type":"SystemMessage","text":"y"}]}`, "either message or messages"},
	{"type missing", `{"conversationId":"a","message":{"text":"x"}}`, "type is missing"},
	{"type unknown", `{"conversationId":"a","message":{"type":"Broadcast","text":"x"}}`, "not UserMessage or SystemMessage"},
	{"text empty", `{"conversationId":"a","messages":[{"type":"SystemMessage","text":"ok"},{"type":"SystemMessage","text":""}]}`, "messages[1]: text is empty"},
	{"UserMessage without sender", `{"conversationId":"a","message":{"type":"UserMessage","text":"x"}}`, "needs a sender"},
	{"huge number in custom", `{"conversationId":"a","message":{"type":"SystemMessage","text":"x","custom":{"n":1e999999}}}`, "not a valid command"},
	{"participants not a list", `{"conversationId":"a","conversation":{"participants":"cust-7"},"message":{"type":"SystemMessage","text":"x"}}`, "not a valid command"},
	{"idempotencyKey not a string", `{"conversationId":"a","idempotencyKey":7,"message":{"type":"SystemMessage","text":"x"}}`, "not a valid command"},
	// Issue 14.7: the webhook's id rule, before any request.
	{"conversationId .", `{"conversationId":".","message":{"type":"SystemMessage","text":"x"}}`, "conversationId: invalid id"},
	{"conversationId ..", `{"conversationId":"..","message":{"type":"SystemMessage","text":"x"}}`, "path segment"},
	{"conversationId with a slash", `{"conversationId":"a/b","message":{"type":"SystemMessage","text":"x"}}`, "conversationId: invalid id"},
	{"conversationId with NUL", `{"conversationId":"a\u0000b","message":{"type":"SystemMessage","text":"x"}}`, "conversationId: invalid id"},
	{"conversationId of 256 bytes", `{"conversationId":"` + strings.Repeat("a", 256) + `","message":{"type":"SystemMessage","text":"x"}}`, "at most 255"},
	{"participant ..", `{"conversationId":"a","conversation":{"participants":[".."]},"message":{"type":"SystemMessage","text":"x"}}`, "participants[0]"},
	{"user id a/b", `{"conversationId":"a","users":{"a/b":{"name":"x"}},"message":{"type":"SystemMessage","text":"x"}}`, "users: invalid id"},
	{"sender .", `{"conversationId":"a","message":{"type":"UserMessage","sender":".","text":"x"}}`, "messages[0]: sender id"},
	{"route empty", `{"route":"","payload":{}}`, "route is empty"},
	{"route without payload", `{"route":"github"}`, "payload is missing"},
	{"route unknown", `{"route":"nope","payload":{}}`, "route not found"},
	{"route with an unknown field", `{"route":"github","payload":{},"signature":"x"}`, "unknown field"},
	{"route payload missing a template field", `{"route":"github","headers":{"X-GitHub-Event":"issues"},"payload":{"action":"opened","sender":{"login":"o"}}}`, "invalid payload"},
	{"route payload without its event header", `{"route":"github","payload":{"action":"opened"}}`, "X-GitHub-Event"},
	{"route payload not valid for money", `{"route":"stripe","payload":{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi","amount":"lots","currency":"usd"}}}}`, "money"},
}

// TestBadRecords: every record that can never be delivered is rejected with
// a reason naming what is wrong, forwarded to the rejects queue with its
// original body, never reported for retry, and never reaches TalkJS.
func TestBadRecords(t *testing.T) {
	if len(bqBadRecords) < 15 {
		t.Fatalf("%d bad records, want at least 15", len(bqBadRecords))
	}
	for _, tt := range bqBadRecords {
		for _, group := range []string{"", "fifo-group"} {
			name := tt.name
			if group != "" {
				name += "/fifo"
			}
			t.Run(name, func(t *testing.T) {
				e := newBQ(t, nil)
				resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{bqRecord("bad-1", group, tt.body)}})
				if err != nil {
					t.Fatalf("Handle failed the whole batch: %v", err)
				}
				if len(resp.BatchItemFailures) != 0 {
					t.Fatalf("reported for retry: %v; a record that can never be valid must not loop until the DLQ", resp.BatchItemFailures)
				}
				rej := bqRejections(t, e.aws)
				r, ok := rej["bad-1"]
				if !ok || len(rej) != 1 {
					t.Fatalf("rejections %v, want exactly bad-1", rej)
				}
				if !strings.Contains(r.Reason, tt.reason) {
					t.Errorf("reason %q does not mention %q", r.Reason, tt.reason)
				}
				if got := bqOriginal(t, r); got != tt.body {
					t.Errorf("rejection carries body %.80q, want the original %.80q", got, tt.body)
				}
				if r.Group != group {
					t.Errorf("rejection group %q, want %q", r.Group, group)
				}
				if n := e.emu.Counts().Requests; n != 0 {
					t.Errorf("TalkJS got %d requests for a record that could never be valid", n)
				}
				if !strings.Contains(e.logs.String(), `"messageId":"bad-1"`) || !strings.Contains(e.logs.String(), `"level":"ERROR"`) {
					t.Errorf("no error log line with the messageId: %s", e.logs.String())
				}
			})
		}
	}
}

// TestBadRecordsInOneBatch mixes every bad record with good ones, in a FIFO
// group and outside: the good ones are delivered, the bad ones do not hold
// their group back, and nothing is reported for retry.
func TestBadRecordsInOneBatch(t *testing.T) {
	e := newBQ(t, nil)
	var recs []events.SQSMessage
	for i, tt := range bqBadRecords {
		group := ""
		if i%2 == 0 {
			group = "g-1"
		}
		recs = append(recs, bqRecord(fmt.Sprintf("bad-%02d", i), group, tt.body))
		recs = append(recs, bqRecord(fmt.Sprintf("good-%02d", i), group,
			fmt.Sprintf(`{"conversationId":"bq-%d","message":{"type":"SystemMessage","text":"good %d"}}`, i%3, i)))
	}
	// SQS hands a Lambda at most 10,000 records, in batches; one big batch
	// is the hardest case for lanes.
	resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("reported for retry: %v", resp.BatchItemFailures)
	}
	rej := bqRejections(t, e.aws)
	if len(rej) != len(bqBadRecords) {
		t.Errorf("%d rejections, want %d", len(rej), len(bqBadRecords))
	}
	var stored int
	for i := range 3 {
		for _, m := range e.emu.Messages(fmt.Sprintf("bq-%d", i)) {
			if !strings.HasPrefix(m.Text, "good ") {
				t.Errorf("stored %q", m.Text)
			}
			stored++
		}
	}
	if stored != len(bqBadRecords) {
		t.Errorf("%d good messages stored, want %d", stored, len(bqBadRecords))
	}
}

// TestTalkJSRefusalIsRejected: a TalkJS 4xx is permanent; the record is
// rejected with TalkJS's status and answer, not retried.
func TestTalkJSRefusalIsRejected(t *testing.T) {
	e := newBQ(t, nil)
	e.emu.AddFault(talkjstest.Fault{Status: 400})
	resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{bqRecord("m-400", "", bqGood)}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("err %v, failures %v; want a rejection", err, resp.BatchItemFailures)
	}
	r := bqRejections(t, e.aws)["m-400"]
	if r.Status != 400 || !strings.Contains(r.Answer, "INJECTED_FAULT") || r.Reason == "" {
		t.Errorf("rejection %+v: want status 400, TalkJS's answer and a reason", r)
	}
}

// bqPanicky panics in the call named by where, and passes every other call
// to the real client.
type bqPanicky struct {
	dispatch.TalkJS
	where string
	calls atomic.Int32
}

func (p *bqPanicky) UpsertUser(ctx context.Context, id string, u talkjs.UserUpdate) error {
	p.calls.Add(1)
	if p.where == "user" || p.where == "first-user" && p.calls.Load() == 1 {
		panic("test panic in UpsertUser")
	}
	return p.TalkJS.UpsertUser(ctx, id, u)
}

func (p *bqPanicky) UpsertConversation(ctx context.Context, id string, u talkjs.ConversationUpdate) error {
	p.calls.Add(1)
	if p.where == "conversation" {
		panic("test panic in UpsertConversation")
	}
	return p.TalkJS.UpsertConversation(ctx, id, u)
}

func (p *bqPanicky) SendMessages(ctx context.Context, id string, msgs ...talkjs.NewMessage) ([]string, error) {
	p.calls.Add(1)
	if p.where == "send" && id != "calm" {
		var m map[string]int
		m["x"]++
	}
	return p.TalkJS.SendMessages(ctx, id, msgs...)
}

// TestPanicIsReported: a panic while delivering reports the records it hit
// for retry (redelivery is safe), logs it with the request and message ids,
// and leaves the other conversations of the batch alone.
func TestPanicIsReported(t *testing.T) {
	// Each record upserts its own user: see TestPanicInUpsertLeavesNoMemo
	// for a shared one.
	cmd := func(conv, text string) string {
		return fmt.Sprintf(`{"conversationId":%q,"conversation":{"subject":"s"},"users":{"bot-%s":{"name":"Bot"}},"message":{"type":"SystemMessage","text":%q}}`, conv, text, text)
	}
	for _, where := range []string{"user", "conversation", "send"} {
		t.Run(where, func(t *testing.T) {
			var p *bqPanicky
			e := newBQ(t, func(c dispatch.TalkJS) dispatch.TalkJS { p = &bqPanicky{TalkJS: c, where: where}; return p })
			recs := []events.SQSMessage{
				bqRecord("alone", "", cmd("hot", "one")),
				// A coalescible run: three records for one conversation.
				bqRecord("run-1", "", `{"conversationId":"hot-run","message":{"type":"SystemMessage","text":"a"}}`),
				bqRecord("run-2", "", `{"conversationId":"hot-run","message":{"type":"SystemMessage","text":"b"}}`),
				bqRecord("run-3", "", `{"conversationId":"hot-run","message":{"type":"SystemMessage","text":"c"}}`),
				bqRecord("fifo-1", "g", cmd("hot-fifo", "f1")),
				bqRecord("fifo-2", "g", cmd("hot-fifo", "f2")),
				bqRecord("calm", "", `{"conversationId":"calm","message":{"type":"SystemMessage","text":"unaffected"}}`),
			}
			ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-queue-panic"})
			resp, err := e.h.Handle(ctx, events.SQSEvent{Records: recs})
			if err != nil {
				t.Fatalf("Handle failed the batch: %v", err)
			}
			failed := map[string]bool{}
			for _, f := range resp.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
			want := map[string]bool{"alone": true, "fifo-1": true, "fifo-2": true}
			if where == "send" {
				want["run-1"], want["run-2"], want["run-3"] = true, true, true
			}
			for id := range want {
				if !failed[id] {
					t.Errorf("%s was not reported for retry after a panic", id)
				}
			}
			if failed["calm"] {
				t.Error("a panic in one conversation made another one retry")
			}
			if rej := bqRejections(t, e.aws); len(rej) != 0 {
				t.Errorf("rejected %v: ", rej)
				t.Error("a record hit by a panic was rejected; it must be retried (it may well be valid)")
			}
			if len(e.emu.Messages("calm")) != 1 {
				t.Error("the unaffected conversation got no message")
			}
			if p.calls.Load() == 0 {
				t.Fatal("the panicking client was never called")
			}
			var lines int
			for line := range strings.Lines(e.logs.String()) {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line is not JSON: %q", line)
				}
				if rec["messageId"] == "alone" && rec["message"] == "record will be retried" {
					lines++
					if rec["requestId"] != "req-queue-panic" || !strings.Contains(fmt.Sprint(rec["reason"]), "panic") ||
						!strings.Contains(fmt.Sprint(rec["stack"]), "bqPanicky") {
						t.Errorf("retry line lacks the request id, the panic or its stack: %s", line)
					}
				}
			}
			if lines != 1 {
				t.Errorf("%d retry lines for the panicked record, want 1", lines)
			}
		})
	}
}

// TestPanicInUpsertLeavesNoMemo: after a panic in a user upsert, a later
// record of the same batch that needs the same user must upsert it again
// (or be retried), not skip it because the Sender's memo says it was done.
// Otherwise the later record's UserMessage reaches TalkJS from a user that
// does not exist, and a valid record is rejected for good.
func TestPanicInUpsertLeavesNoMemo(t *testing.T) {
	var p *bqPanicky
	e := newBQ(t, func(c dispatch.TalkJS) dispatch.TalkJS { p = &bqPanicky{TalkJS: c, where: "first-user"}; return p })
	e.h.Concurrency = 1 // lanes in batch order, so "first" panics and "second" follows
	body := func(conv string) string {
		return fmt.Sprintf(`{"conversationId":%q,"conversation":{"participants":["bot"]},"users":{"bot":{"name":"Bot"}},`+
			`"message":{"type":"UserMessage","sender":"bot","text":"hello"}}`, conv)
	}
	resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		bqRecord("first", "", body("memo-1")), bqRecord("second", "", body("memo-2")),
	}})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	if !failed["first"] {
		t.Fatalf("the record whose upsert panicked was not reported for retry: %v", resp.BatchItemFailures)
	}
	if rej := bqRejections(t, e.aws); len(rej) > 0 {
		t.Errorf("dispatch.Sender kept its memo of an upsert that panicked, "+
			"so record \"second\" skipped the user upsert and was rejected for good: %s", rej["second"].Reason)
	}
	if !failed["second"] && len(e.emu.Messages("memo-2")) != 1 {
		t.Errorf("record second neither delivered nor retried")
	}
}

// TestBigBadRecordIsForwarded: a bad record that SQS accepted (under its
// 256 KiB limit) must fit the rejects queue too. JSON escaping can double a
// body's size, so a rejection that carries it verbatim may not fit; the
// record is then retried until the DLQ instead of being rejected.
func TestBigBadRecordIsForwarded(t *testing.T) {
	e := newBQ(t, nil)
	body := strings.Repeat(`"\`, 100*1024) // 200 KiB, every byte escaped in JSON
	resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{bqRecord("big", "", body)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("the rejection of a %d-byte record was not forwarded (over SQS's size limit?), so it would loop until the DLQ", len(body))
	}
	if _, ok := bqRejections(t, e.aws)["big"]; !ok {
		t.Error("the big record was neither retried nor forwarded")
	}
}

// TestUnhandledRoutedEventIsNotRetried: a routed record whose event no
// action of the route handles (the webhook answers 202) can never send
// anything; retrying it only walks it to the DLQ. It must be acknowledged
// (dropped with a log line) or rejected with the reason, not reported.
func TestUnhandledRoutedEventIsNotRetried(t *testing.T) {
	e := newBQ(t, nil)
	body := `{"route":"github","headers":{"X-GitHub-Event":"star"},"payload":{"action":"created","repository":{"full_name":"o/r"}}}`
	resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{bqRecord("star", "", body)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("an unhandled routed event is reported for retry, so it would be redelivered until the DLQ (%v)", resp.BatchItemFailures)
	}
	if n := e.emu.Counts().Requests; n != 0 {
		t.Errorf("TalkJS got %d requests for an event nothing handles", n)
	}
	// Today it is rejected (forwarded with the reason), which keeps it
	// visible without looping.
	if r, ok := bqRejections(t, e.aws)["star"]; ok && !strings.Contains(r.Reason, "event not handled") {
		t.Errorf("rejection reason %q does not say that no action handles the event", r.Reason)
	}
}

// TestClientRefusalIsRejected: what the TalkJS client refuses before
// sending (talkjs.ErrInvalidRequest, e.g. an empty user id) can never
// succeed, so the record must be rejected, not retried until the DLQ.
func TestClientRefusalIsRejected(t *testing.T) {
	e := newBQ(t, nil)
	body := `{"conversationId":"bq-ok","users":{"":{"name":"Nobody"}},"message":{"type":"SystemMessage","text":"x"}}`
	resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{bqRecord("empty-user", "", body)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("a record the client refuses before sending (empty user id) is reported for retry, so it would loop until the DLQ")
	}
	if _, ok := bqRejections(t, e.aws)["empty-user"]; !ok {
		t.Error("record neither retried nor rejected")
	}
}

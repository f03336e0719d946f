package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// stack is the bridge every test uses, one test at a time.
var stack *localrun.Stack

// buildDir holds the bootstraps, for tests that start a stack of their own.
var buildDir string

// eventsDir is the repository's events/ directory.
const eventsDir = "../../events"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	buildDir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	stack, err = localrun.Start(ctx, localrun.Options{BuildDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: bootstraps built and stack started in %s\n", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if code != 0 {
		for _, fn := range localrun.Functions {
			fmt.Fprintf(os.Stderr, "=== logs of %s\n%s\n", fn, tail(stack.Logs(fn), 60))
		}
	}
	if err := stack.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: close:", err)
	}
	return code
}

// tail keeps the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// reset empties the emulator and seeds the demo users again.
func reset(t *testing.T) {
	t.Helper()
	stack.Reset()
}

// invoke sends event to fn and fails the test on any error.
func invoke(t *testing.T, fn string, event []byte) []byte {
	t.Helper()
	out, err := stack.Invoke(t.Context(), fn, event)
	if err != nil {
		t.Fatalf("invoke %s: %v\nanswer: %s", fn, err, out)
	}
	return out
}

// loadEvent reads events/<name> with localrun.LoadEvent.
func loadEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := localrun.LoadEvent(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webhookAnswer is the part of an API Gateway (v1 or v2) answer tests read.
type webhookAnswer struct {
	StatusCode int    `json:"statusCode"`
	Body       string `json:"body"`
}

// callWebhook invokes the webhook function and decodes its answer.
func callWebhook(t *testing.T, event []byte) webhookAnswer {
	t.Helper()
	var a webhookAnswer
	if err := json.Unmarshal(invoke(t, localrun.Webhook, event), &a); err != nil {
		t.Fatalf("webhook answer: %v", err)
	}
	return a
}

// sentAnswer is the body of a 200 webhook answer.
type sentAnswer struct {
	Sent []struct {
		ConversationID string   `json:"conversationId"`
		MessageIDs     []string `json:"messageIds"`
	} `json:"sent"`
}

// callQueue invokes the queue function and returns the failed message ids.
func callQueue(t *testing.T, event []byte) []string {
	t.Helper()
	var resp events.SQSEventResponse
	if err := json.Unmarshal(invoke(t, localrun.Queue, event), &resp); err != nil {
		t.Fatalf("queue answer: %v", err)
	}
	ids := make([]string, 0, len(resp.BatchItemFailures))
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

// scheduleSummary is the schedule function's answer.
type scheduleSummary struct {
	Reminders []string `json:"reminders"`
	Sent      int      `json:"sent"`
	Rejected  int      `json:"rejected"`
	Retry     int      `json:"retry"`
}

func callSchedule(t *testing.T, event []byte) scheduleSummary {
	t.Helper()
	var s scheduleSummary
	if err := json.Unmarshal(invoke(t, localrun.Schedule, event), &s); err != nil {
		t.Fatalf("schedule answer: %v", err)
	}
	return s
}

// record is one SQS record a test builds.
type record struct {
	id    string
	body  string
	group string
}

// sqsEvent makes an SQS batch event of records, in order.
func sqsEvent(t *testing.T, recs ...record) []byte {
	t.Helper()
	var ev events.SQSEvent
	for i, r := range recs {
		m := events.SQSMessage{
			MessageId:      r.id,
			ReceiptHandle:  "AQEB" + r.id,
			Body:           r.body,
			EventSource:    "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:talkjs-bridge-CommandQueue",
			AWSRegion:      "us-east-1",
			Attributes:     map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1795597200000"},
		}
		if r.group != "" {
			m.EventSourceARN = "arn:aws:sqs:us-east-1:123456789012:talkjs-bridge-orders.fifo"
			m.Attributes["MessageGroupId"] = r.group
			m.Attributes["MessageDeduplicationId"] = r.id
			m.Attributes["SequenceNumber"] = fmt.Sprintf("1889638122649305%04d", i)
		}
		ev.Records = append(ev.Records, m)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// command renders a queue send command.
func command(t *testing.T, c map[string]any) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// texts lists the texts of conversation id's messages, oldest first.
func texts(id string) []string {
	var out []string
	for _, m := range stack.TalkJS.Messages(id) {
		out = append(out, m.Text)
	}
	return out
}

// wantMessage checks one stored message.
func wantMessage(t *testing.T, m talkjstest.Message, typ, sender string, words ...string) {
	t.Helper()
	if m.Type != typ || m.SenderID != sender {
		t.Errorf("message %s in %s: type %q sender %q, want %q %q", m.ID, m.ConversationID, m.Type, m.SenderID, typ, sender)
	}
	for _, w := range words {
		if !strings.Contains(m.Text, w) {
			t.Errorf("message %s in %s: text %q lacks %q", m.ID, m.ConversationID, m.Text, w)
		}
	}
	if m.IdempotencyKey == "" {
		t.Errorf("message %s in %s has no idempotency key", m.ID, m.ConversationID)
	}
}

// asFunctionError reports whether err is a function error answer.
func asFunctionError(err error) (*rietest.FunctionError, bool) {
	var fe *rietest.FunctionError
	ok := errors.As(err, &fe)
	return fe, ok
}

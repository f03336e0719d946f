package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// memQueue is a command queue in memory: it keeps what was sent and fails
// on demand.
type memQueue struct {
	mu   sync.Mutex
	msgs []webhook.QueueMessage
	err  error
	// block makes Send wait for its context, as a hung SQS would.
	block bool
	// failAfter, when > 0, makes every Send after the first failAfter fail.
	failAfter int
}

func (q *memQueue) send(ctx context.Context, m webhook.QueueMessage) (string, error) {
	if q.block {
		<-ctx.Done()
		return "", ctx.Err()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return "", q.err
	}
	if q.failAfter > 0 && len(q.msgs) >= q.failAfter {
		return "", errors.New("api error ServiceUnavailable")
	}
	q.msgs = append(q.msgs, m)
	return fmt.Sprintf("qm-%d", len(q.msgs)), nil
}

func (q *memQueue) sent() []webhook.QueueMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]webhook.QueueMessage(nil), q.msgs...)
}

func queuedServer(t *testing.T, url string) (*webhook.Server, *memQueue, func() int) {
	t.Helper()
	s, emu, _ := newServer(t)
	q := &memQueue{}
	s.Queue = &webhook.CommandQueue{URL: url, Send: q.send, Timeout: 200 * time.Millisecond}
	return s, q, func() int { return emu.Counts().Requests }
}

// TestQueueModeStatuses is the status table in queue mode: bad input is
// refused at the door with nothing queued, a good delivery is queued and
// answered 202 without a TalkJS call, and a queue that cannot be written
// is a 503, never a 2xx.
func TestQueueModeStatuses(t *testing.T) {
	issue := fixture(t, "github", "issues", "opened.payload.json")
	ping := fixture(t, "github", "ping", "payload.json")
	tests := []struct {
		name   string
		route  string
		header func() http.Header
		body   []byte
		queue  func(*memQueue)
		want   int
		queued int
	}{
		{name: "signed issue is queued", route: "github", header: func() http.Header { return githubHeaders(t, "issues", "d-1", issue) }, body: issue, want: 202, queued: 1},
		{name: "bad signature", route: "github", header: func() http.Header {
			h := githubHeaders(t, "issues", "d-1", issue)
			h.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
			return h
		}, body: issue, want: 401},
		{name: "unknown route", route: "nope", header: func() http.Header { return githubHeaders(t, "issues", "d-1", issue) }, body: issue, want: 404},
		{name: "event the route does not handle", route: "github", header: func() http.Header { return githubHeaders(t, "watch", "d-2", ping) }, body: ping, want: 202},
		{name: "not JSON", route: "github", header: func() http.Header { return githubHeaders(t, "issues", "d-3", []byte("{nope")) }, body: []byte("{nope"), want: 400},
		{name: "payload missing fields", route: "github", header: func() http.Header { return githubHeaders(t, "issues", "d-3", []byte(`{"action":"opened"}`)) }, body: []byte(`{"action":"opened"}`), want: 400},
		{name: "body over the limit", route: "github", header: func() http.Header { return http.Header{} }, body: bytes.Repeat([]byte("a"), webhook.DefaultMaxBody+1), want: 413},
		{name: "secret missing for route", route: "stripe", header: func() http.Header { return http.Header{"Stripe-Signature": {"t=1,v1=00"}} }, body: []byte(`{}`), want: 503},
		{name: "SQS error", route: "github", header: func() http.Header { return githubHeaders(t, "issues", "d-4", issue) }, body: issue,
			queue: func(q *memQueue) { q.err = errors.New("api error InternalError") }, want: 503},
		{name: "SQS throttling", route: "github", header: func() http.Header { return githubHeaders(t, "issues", "d-5", issue) }, body: issue,
			queue: func(q *memQueue) { q.err = errors.New("api error RequestThrottled: Rate exceeded") }, want: 503},
		{name: "SQS hangs past the timeout", route: "github", header: func() http.Header { return githubHeaders(t, "issues", "d-6", issue) }, body: issue,
			queue: func(q *memQueue) { q.block = true }, want: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, q, talkjsCalls := queuedServer(t, awstest.QueueURL("commands"))
			if tt.queue != nil {
				tt.queue(q)
			}
			start := time.Now()
			resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: tt.route, Headers: tt.header(), Body: tt.body})
			if resp.Status != tt.want {
				t.Errorf("status %d (%s), want %d", resp.Status, resp.Body, tt.want)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("answered after %v: the enqueue timeout did not hold", elapsed)
			}
			if n := len(q.sent()); n != tt.queued {
				t.Errorf("%d messages queued, want %d", n, tt.queued)
			}
			if n := talkjsCalls(); n != 0 {
				t.Errorf("%d TalkJS requests in queue mode, want none", n)
			}
			var body map[string]any
			if err := json.Unmarshal(resp.Body, &body); err != nil {
				t.Errorf("answer %q is not JSON: %v", resp.Body, err)
			}
			if resp.Status >= 500 && bytes.Contains(resp.Body, []byte("api error")) {
				t.Errorf("answer %s shows the SQS error to the sender", resp.Body)
			}
		})
	}
}

// TestQueueModeEnqueuesACommand checks what goes on the queue: a send
// command the queue function accepts, with the delivery's idempotency keys,
// the same for a redelivery; and the 202 answer naming its queue message.
func TestQueueModeEnqueuesACommand(t *testing.T) {
	issue := fixture(t, "github", "issues", "opened.payload.json")
	s, q, _ := queuedServer(t, awstest.QueueURL("commands"))
	var answers []string
	for range 2 {
		resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "github", Headers: githubHeaders(t, "issues", "d-1", issue), Body: issue})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("status %d (%s), want 202", resp.Status, resp.Body)
		}
		answers = append(answers, string(resp.Body))
	}
	var a struct {
		Queued []struct{ ConversationID, QueueMessageID string }
	}
	if err := json.Unmarshal([]byte(answers[0]), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Queued) != 1 || a.Queued[0].QueueMessageID != "qm-1" || a.Queued[0].ConversationID == "" {
		t.Errorf("answer %s: want one queued send with its conversation and queue message id qm-1", answers[0])
	}
	msgs := q.sent()
	if len(msgs) != 2 {
		t.Fatalf("%d messages queued, want 2 (one per delivery)", len(msgs))
	}
	if msgs[0].Body != msgs[1].Body {
		t.Errorf("a redelivery queued another body:\n%s\n%s", msgs[0].Body, msgs[1].Body)
	}
	if msgs[0].GroupID != "" || msgs[0].DeduplicationID != "" {
		t.Errorf("standard queue got FIFO attributes %q %q", msgs[0].GroupID, msgs[0].DeduplicationID)
	}
	c, err := queue.ParseCommand(msgs[0].Body)
	if err != nil {
		t.Fatalf("the queue function refuses what the webhook queued: %v\n%s", err, msgs[0].Body)
	}
	if c.ConversationID != a.Queued[0].ConversationID || len(c.Messages) == 0 {
		t.Errorf("command %+v does not match the answer %s", c, answers[0])
	}
	for i, m := range c.Messages {
		if !strings.HasPrefix(m.IdempotencyKey, "github:") {
			t.Errorf("message %d has idempotency key %q, want the route's key from the delivery", i, m.IdempotencyKey)
		}
	}
	if c.Conversation == nil || c.Conversation.Subject == nil || len(c.Conversation.Participants) == 0 || len(c.Users) == 0 {
		t.Errorf("command lost the route's conversation or users: %s", msgs[0].Body)
	}
}

// TestQueueModeFIFO checks the FIFO attributes: the conversation as group,
// a deduplication id from the idempotency keys (the same for a redelivery,
// another for another delivery), both within SQS's limits.
func TestQueueModeFIFO(t *testing.T) {
	issue := fixture(t, "github", "issues", "opened.payload.json")
	// Another delivery is another body: GitHub's keys come from the body,
	// which the signature covers, not from X-GitHub-Delivery.
	reopened := bytes.Replace(issue, []byte(`"action": "opened"`), []byte(`"action": "reopened"`), 1)
	if bytes.Equal(reopened, issue) {
		t.Fatal("the fixture has no \"action\": \"opened\" to change")
	}
	s, q, _ := queuedServer(t, awstest.QueueURL("commands.fifo"))
	for _, d := range []struct {
		id   string
		body []byte
	}{{"d-1", issue}, {"d-1", issue}, {"d-2", reopened}} {
		resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "github", Headers: githubHeaders(t, "issues", d.id, d.body), Body: d.body})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("status %d (%s), want 202", resp.Status, resp.Body)
		}
	}
	msgs := q.sent()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	c, err := queue.ParseCommand(msgs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		if m.GroupID != c.ConversationID {
			t.Errorf("message %d: group %q, want the conversation %q", i, m.GroupID, c.ConversationID)
		}
		if len(m.DeduplicationID) == 0 || len(m.DeduplicationID) > 128 || strings.Trim(m.DeduplicationID, "0123456789abcdef") != "" {
			t.Errorf("message %d: deduplication id %q is not 1-128 hex characters", i, m.DeduplicationID)
		}
	}
	if msgs[0].DeduplicationID != msgs[1].DeduplicationID {
		t.Errorf("a redelivery got another deduplication id: %q, %q", msgs[0].DeduplicationID, msgs[1].DeduplicationID)
	}
	if msgs[0].DeduplicationID == msgs[2].DeduplicationID {
		t.Errorf("another delivery got the same deduplication id %q", msgs[0].DeduplicationID)
	}
}

func TestGroupID(t *testing.T) {
	long := strings.Repeat("c", 129)
	tests := []struct {
		name, conv string
		same       bool
	}{
		{name: "plain id", conv: "github-codertocat-hello-world", same: true},
		{name: "punctuation", conv: "order#1042:a/b", same: true},
		{name: "128 characters", conv: strings.Repeat("c", 128), same: true},
		{name: "129 characters", conv: long},
		{name: "space", conv: "order 1042"},
		{name: "non-ASCII", conv: "bestellung-ä"},
		{name: "empty", conv: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := webhook.GroupID(tt.conv)
			if tt.same != (got == tt.conv) {
				t.Errorf("GroupID(%q) = %q, want it kept: %v", tt.conv, got, tt.same)
			}
			if len(got) == 0 || len(got) > 128 {
				t.Errorf("GroupID(%q) = %q: not 1-128 characters", tt.conv, got)
			}
			for _, c := range []byte(got) {
				if c <= ' ' || c > '~' {
					t.Errorf("GroupID(%q) = %q has %q, which SQS refuses", tt.conv, got, c)
				}
			}
		})
	}
	if webhook.GroupID(long) == webhook.GroupID(long+"x") {
		t.Error("two long ids share a group")
	}
}

// TestQueueModeTooLarge checks that a send that does not fit one SQS
// message is refused with 413 and a reason, before anything is queued, and
// that the sends of a route are split one message per conversation.
func TestQueueModeTooLarge(t *testing.T) {
	routes, err := mapping.Parse([]byte(`
limits: {maxTextLength: 65536}
routes:
  big:
    verify: none
    actions:
      - conversation: {id: small, welcomeMessages: ['welcome']}
        message: {text: 'small one'}
      - conversation: {id: large}
        messages:
          - {text: '{{ .payload.text }}'}
          - {text: '{{ .payload.text }}'}
          - {text: '{{ .payload.text }}'}
          - {text: '{{ .payload.text }}'}
          - {text: '{{ .payload.text }}'}
`), "big.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		size   int
		want   int
		queued int
	}{
		{name: "fits: one message per conversation", size: 40 << 10, want: 202, queued: 2},
		{name: "one send over the limit", size: 60 << 10, want: 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, q, _ := queuedServer(t, awstest.QueueURL("commands"))
			s.Routes = routes
			body, _ := json.Marshal(map[string]string{"text": strings.Repeat("x", tt.size)})
			resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "big", Headers: http.Header{}, Body: body})
			if resp.Status != tt.want {
				t.Fatalf("status %d (%.200s), want %d", resp.Status, resp.Body, tt.want)
			}
			msgs := q.sent()
			if len(msgs) != tt.queued {
				t.Errorf("%d messages queued, want %d", len(msgs), tt.queued)
			}
			for _, m := range msgs {
				if len(m.Body) > webhook.MaxQueueMessage {
					t.Errorf("a %d-byte message was queued", len(m.Body))
				}
			}
			if len(msgs) > 0 {
				c, err := queue.ParseCommand(msgs[0].Body)
				if err != nil || c.Conversation == nil || len(c.Conversation.WelcomeMessages) != 1 {
					t.Errorf("the queue function reads %+v, %v from %s: welcome messages lost", c.Conversation, err, msgs[0].Body)
				}
			}
			if tt.want == 413 && !bytes.Contains(resp.Body, []byte(`large`)) {
				t.Errorf("413 answer %s does not say which send is too large", resp.Body)
			}
		})
	}
}

// TestSQSCommandQueue sends through the real SDK client to the local SQS
// endpoint: FIFO attributes reach SQS, a standard queue gets none, and an
// SQS failure is an error.
func TestSQSCommandQueue(t *testing.T) {
	aws := awstest.New()
	srv := httptest.NewServer(aws)
	t.Cleanup(srv.Close)
	client := sqs.NewFromConfig(awstest.Config(srv.URL))
	send := mapping.Send{ConversationID: "order-1042", Messages: []talkjs.NewMessage{{Type: talkjs.SystemMessage, Text: "shipped", IdempotencyKey: "k-1"}}}

	for _, url := range []string{awstest.QueueURL("commands"), awstest.QueueURL("commands.fifo")} {
		q := webhook.NewSQSCommandQueue(client, url)
		m, err := q.Message(send)
		if err != nil {
			t.Fatal(err)
		}
		id, err := q.Send(t.Context(), m)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		got := aws.Sent()[len(aws.Sent())-1]
		if got.MessageID != id || got.QueueURL != url || got.Body != m.Body {
			t.Errorf("%s: SQS holds %+v, want id %s and the body", url, got, id)
		}
		if fifo := strings.HasSuffix(url, ".fifo"); fifo != (got.MessageGroupID == "order-1042") || fifo != (got.MessageDeduplicationID == webhook.DeduplicationID(send)) {
			t.Errorf("%s: group %q dedup %q", url, got.MessageGroupID, got.MessageDeduplicationID)
		}
	}
	aws.Fail(true)
	q := webhook.NewSQSCommandQueue(client, awstest.QueueURL("commands"))
	if _, err := q.Send(t.Context(), webhook.QueueMessage{Body: "{}"}); err == nil {
		t.Error("Send succeeded while SQS fails")
	}
	if u := aws.Unsigned(); len(u) > 0 {
		t.Errorf("unsigned requests: %v", u)
	}
}

// TestQueueModeTalkJSSenderGets200: TalkJS retries every answer but 200, so
// a route verified with the talkjs preset is answered 200 when queued.
func TestQueueModeTalkJSSenderGets200(t *testing.T) {
	routes, err := mapping.Parse([]byte(`
routes:
  chat:
    verify: {preset: talkjs, secrets: [talkjs]}
    actions:
      - conversation: {id: copy}
        message: {text: '{{ .payload.text }}'}
`), "chat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, q, _ := queuedServer(t, awstest.QueueURL("commands"))
	s.Routes = routes
	s.Secrets = func(context.Context, string) (string, error) { return "test-talkjs-webhook-key", nil }
	body := []byte(`{"text":"hello"}`)
	h, err := verify.Sign(verify.Config{Preset: verify.PresetTalkJS}, []byte("test-talkjs-webhook-key"), "", now, body)
	if err != nil {
		t.Fatal(err)
	}
	resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "chat", Headers: h, Body: body})
	if resp.Status != http.StatusOK || len(q.sent()) != 1 {
		t.Errorf("status %d (%s) with %d queued, want 200 and one message", resp.Status, resp.Body, len(q.sent()))
	}
}

// TestQueueModeSecondWriteFails: a route that sends to two conversations,
// whose second queue write fails, answers 503; the sender's retry writes
// both again, with the same bodies (so the same idempotency keys).
func TestQueueModeSecondWriteFails(t *testing.T) {
	routes, err := mapping.Parse([]byte(`
routes:
  two:
    verify: none
    actions:
      - conversation: {id: first}
        message: {text: 'one {{ .payload.text }}'}
      - conversation: {id: second}
        message: {text: 'two {{ .payload.text }}'}
`), "two.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, q, _ := queuedServer(t, awstest.QueueURL("commands.fifo"))
	s.Routes = routes
	q.failAfter = 1
	req := webhook.Request{Method: "POST", Route: "two", Headers: http.Header{"Webhook-Id": {"msg_1"}}, Body: []byte(`{"text":"x"}`)}
	if resp := s.Serve(t.Context(), req); resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503 when the second write fails", resp.Status, resp.Body)
	}
	q.failAfter = 0
	resp := s.Serve(t.Context(), req)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("retry: status %d (%s), want 202", resp.Status, resp.Body)
	}
	msgs := q.sent()
	if len(msgs) != 3 {
		t.Fatalf("%d messages written, want 1 before the failure and 2 on the retry", len(msgs))
	}
	if msgs[0].Body != msgs[1].Body || msgs[0].DeduplicationID != msgs[1].DeduplicationID {
		t.Error("the retry wrote the first send differently: it would be a second message")
	}
	if msgs[1].GroupID != "first" || msgs[2].GroupID != "second" {
		t.Errorf("groups %q, %q, want first, second, in the route's order", msgs[1].GroupID, msgs[2].GroupID)
	}
}

// TestQueueModeKeepsRecipients: a queued delivery must notify the people a
// direct one does, so the queued command carries the route's notify
// recipients with their settings, and the queue function reads them back.
func TestQueueModeKeepsRecipients(t *testing.T) {
	routes, err := mapping.Parse([]byte(`
routes:
  ops:
    verify: none
    notify:
      bot: {id: ops-bot, name: Ops}
      recipients:
        - {id: alice, notify: true}
        - {id: bob, access: Read, notify: MentionsOnly}
    actions:
      - conversation: {id: ops}
        message: {text: 'deploy {{ .payload.version }}'}
`), "recipients.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"version":"1.2"}`)
	direct, err := routes.Trusted(t.Context(), mapping.Request{Route: "ops", Body: body, Now: now})
	if err != nil || len(direct.Sends) != 1 || len(direct.Sends[0].Recipients) != 2 {
		t.Fatalf("direct mapping: %v, %+v; want one send with two recipients", err, direct.Sends)
	}

	s, q, _ := queuedServer(t, awstest.QueueURL("commands"))
	s.Routes = routes
	resp := s.Serve(t.Context(), webhook.Request{Method: "POST", Route: "ops", Headers: http.Header{}, Body: body})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202", resp.Status, resp.Body)
	}
	msgs := q.sent()
	if len(msgs) != 1 {
		t.Fatalf("%d messages queued, want 1", len(msgs))
	}
	c, err := queue.ParseCommand(msgs[0].Body)
	if err != nil {
		t.Fatalf("the queue function refuses what the webhook queued: %v", err)
	}
	want := direct.Sends[0].Recipients
	if len(c.Recipients) != len(want) {
		t.Fatalf("queued recipients %+v, want %+v", c.Recipients, want)
	}
	for id, p := range want {
		if c.Recipients[id] != p {
			t.Errorf("recipient %s: queued %+v, want %+v", id, c.Recipients[id], p)
		}
	}
}

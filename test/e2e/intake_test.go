package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// The tests in this file run the webhook function in queue mode
// (COMMAND_QUEUE_URL, as template.yaml deploys it by default) on a stack of
// their own, from the bootstraps TestMain built, with the queue function fed
// what the webhook queued (localrun's DeliverQueued).

// queuedStack starts the webhook and queue functions with the command
// queue, FIFO or not.
func queuedStack(t *testing.T, fifo bool) *localrun.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := localrun.Start(ctx, localrun.Options{BuildDir: buildDir, Prebuilt: true,
		Functions: []string{localrun.Webhook, localrun.Queue}, Queued: true, FIFO: fifo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, fn := range []string{localrun.Webhook, localrun.Queue} {
				t.Logf("=== logs of %s\n%s", fn, tail(s.Logs(fn), 40))
			}
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// issueDelivery is a GitHub issues delivery as API Gateway (REST) hands it
// over: issue number n in the Codertocat/Hello-World repository, signed
// with the demo secret, with delivery as X-GitHub-Delivery.
func issueDelivery(t *testing.T, n int, delivery string) []byte {
	t.Helper()
	body := fmt.Sprintf(`{"action":"opened","issue":{"number":%d,"title":"Issue %d","html_url":"https://github.com/Codertocat/Hello-World/issues/%d"},"sender":{"login":"octocat"},"repository":{"full_name":"Codertocat/Hello-World"}}`, n, n, n)
	h, err := verify.Sign(verify.Config{Preset: verify.PresetGitHub, Secrets: []string{"github"}}, []byte(democreds.WebhookSecrets()["github"]), "", time.Now(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ev := events.APIGatewayProxyRequest{
		Resource: "/webhooks/{route}", Path: "/webhooks/github", HTTPMethod: "POST", Body: body,
		PathParameters: map[string]string{"route": "github"},
		Headers: map[string]string{"Content-Type": "application/json", "X-GitHub-Event": "issues",
			"X-GitHub-Delivery": delivery, "X-Hub-Signature-256": h.Get("X-Hub-Signature-256")},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webhookOn invokes the webhook function of s and decodes its answer.
func webhookOn(t *testing.T, s *localrun.Stack, event []byte) webhookAnswer {
	t.Helper()
	out, err := s.Invoke(t.Context(), localrun.Webhook, event)
	if err != nil {
		t.Fatalf("invoke webhook: %v\nanswer: %s", err, out)
	}
	var a webhookAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("webhook answer: %v", err)
	}
	return a
}

func rejectsOf(s *localrun.Stack) int {
	n := 0
	for _, m := range s.AWS.Sent() {
		if m.QueueURL == s.RejectsQueueURL {
			n++
		}
	}
	return n
}

// TestQueuedIntakeTalkJSDown: with TalkJS down, 20 signed deliveries from
// GitHub, which never redelivers on its own, are all acknowledged 2xx
// without a TalkJS call; the queue function retries every one of them (none
// rejected); once TalkJS is back each delivery is exactly one message, even
// though SQS delivers every record twice and GitHub redelivers one webhook.
func TestQueuedIntakeTalkJSDown(t *testing.T) {
	s := queuedStack(t, false)
	s.TalkJS.AddFault(talkjstest.Fault{Status: 503})
	const n = 20
	for i := 1; i <= n; i++ {
		a := webhookOn(t, s, issueDelivery(t, i, fmt.Sprintf("delivery-%02d", i)))
		if a.StatusCode < 200 || a.StatusCode > 299 {
			t.Fatalf("delivery %d answered %d (%s) while TalkJS is down, want 2xx", i, a.StatusCode, a.Body)
		}
		if !strings.Contains(a.Body, "queueMessageId") {
			t.Errorf("delivery %d: answer %s names no queue message", i, a.Body)
		}
	}
	if c := s.TalkJS.Counts(); c.Requests != 0 {
		t.Fatalf("the webhook made %d TalkJS requests in queue mode, want 0", c.Requests)
	}
	if q := s.Queued(); len(q) != n {
		t.Fatalf("%d messages queued, want %d", len(q), n)
	}

	run, err := s.DeliverQueued(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Retried) != n || len(run.Delivered) != 0 {
		t.Errorf("TalkJS down: %d retried, %d deleted, want all %d retried", len(run.Retried), len(run.Delivered), n)
	}
	if run.FunctionErrors == 0 {
		t.Error("no batch failed the invocation although every record failed (ErrBatchFailed)")
	}
	if r := rejectsOf(s); r != 0 {
		t.Errorf("%d records rejected while TalkJS was down, want none", r)
	}
	if c := s.TalkJS.Counts(); c.MessagesStored != 0 {
		t.Fatalf("%d messages stored while TalkJS was down", c.MessagesStored)
	}

	// GitHub's "Redeliver" button on one delivery while the rest wait.
	if a := webhookOn(t, s, issueDelivery(t, 7, "delivery-07")); a.StatusCode != 202 {
		t.Fatalf("redelivery answered %d (%s)", a.StatusCode, a.Body)
	}

	s.TalkJS.ClearFaults()
	run, err = s.DeliverQueued(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Retried) != 0 || len(run.Delivered) != n+1 {
		t.Errorf("TalkJS back: %d retried, %d deleted, want all %d deleted", len(run.Retried), len(run.Delivered), n+1)
	}
	msgs := s.TalkJS.Messages(githubConv)
	var got []string
	for _, m := range msgs {
		got = append(got, strings.SplitN(m.Text, "*", 3)[1])
	}
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprintf("Issue #%d opened", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %d messages %q, want each delivery once, in order: %q", githubConv, len(got), got, want)
	}
	if r := rejectsOf(s); r != 0 {
		t.Errorf("%d records rejected, want none", r)
	}
}

// TestQueuedIntakeSQSDown: when the command queue cannot be written the
// webhook answers 5xx, so the sender retries, and nothing reaches TalkJS.
func TestQueuedIntakeSQSDown(t *testing.T) {
	s := queuedStack(t, false)
	// A first delivery warms the function (secret cached), so the 5xx below
	// is the queue's, not the secret's.
	if a := webhookOn(t, s, issueDelivery(t, 1, "d-1")); a.StatusCode != 202 {
		t.Fatalf("answered %d (%s), want 202", a.StatusCode, a.Body)
	}
	s.AWS.FailOperation(awstest.SendMessage, true)
	a := webhookOn(t, s, issueDelivery(t, 2, "d-2"))
	if a.StatusCode < 500 {
		t.Errorf("SQS down: answered %d (%s), want 5xx", a.StatusCode, a.Body)
	}
	if q := s.Queued(); len(q) != 1 {
		t.Errorf("%d messages queued, want only the first delivery's", len(q))
	}
	if c := s.TalkJS.Counts(); c.Requests != 0 {
		t.Errorf("%d TalkJS requests, want 0", c.Requests)
	}
	s.AWS.FailOperation(awstest.SendMessage, false)
	if a := webhookOn(t, s, issueDelivery(t, 2, "d-2")); a.StatusCode != 202 {
		t.Errorf("the sender's retry answered %d (%s), want 202", a.StatusCode, a.Body)
	}
}

// TestQueuedIntakeFIFO: on a FIFO command queue each message's group is the
// conversation and its deduplication id comes from the idempotency keys (a
// redelivery is deduplicated by SQS), and two deliveries to one
// conversation arrive in their order, also when the first fails once.
func TestQueuedIntakeFIFO(t *testing.T) {
	s := queuedStack(t, true)
	for _, d := range []struct {
		n  int
		id string
	}{{1, "d-1"}, {2, "d-2"}, {1, "d-1"}} {
		if a := webhookOn(t, s, issueDelivery(t, d.n, d.id)); a.StatusCode != 202 {
			t.Fatalf("answered %d (%s), want 202", a.StatusCode, a.Body)
		}
	}
	q := s.Queued()
	if len(q) != 2 {
		t.Fatalf("%d messages on the FIFO queue, want 2 (the redelivery deduplicated)", len(q))
	}
	for i, m := range q {
		if m.MessageGroupID != githubConv {
			t.Errorf("message %d: group %q, want the conversation %q", i, m.MessageGroupID, githubConv)
		}
		if len(m.MessageDeduplicationID) != 64 {
			t.Errorf("message %d: deduplication id %q, want a SHA-256 in hex", i, m.MessageDeduplicationID)
		}
	}
	if q[0].MessageDeduplicationID == q[1].MessageDeduplicationID {
		t.Error("two deliveries share a deduplication id")
	}

	// The first send fails once: the second must wait for it.
	s.TalkJS.AddFault(talkjstest.Fault{ConversationID: githubConv, Status: 503, Times: 4})
	for pass := 0; pass < 4 && len(s.Queued()) > 0; pass++ {
		run, err := s.DeliverQueued(t.Context(), false)
		if err != nil {
			t.Fatal(err)
		}
		if pass == 0 && len(run.Retried) != 2 {
			t.Errorf("first pass: %d left on the queue, want both (the first failed, the second held)", len(run.Retried))
		}
	}
	if n := len(s.Queued()); n != 0 {
		t.Fatalf("%d messages still queued after four passes", n)
	}
	var got []string
	for _, m := range s.TalkJS.Messages(githubConv) {
		got = append(got, strings.SplitN(m.Text, "*", 3)[1])
	}
	if want := []string{"Issue #1 opened", "Issue #2 opened"}; !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", githubConv, got, want)
	}
}

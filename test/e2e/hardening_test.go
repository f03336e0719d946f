package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// TestHungCallStillForwardsRejects is issue 14.6 through the real queue
// bootstrap: one TalkJS call hangs to the deadline; the malformed record and
// the one TalkJS refuses still reach the rejects queue, and only the hung
// record is a batch item failure. A stack of its own, with a short timeout,
// keeps the hang short.
func TestHungCallStillForwardsRejects(t *testing.T) {
	s, err := localrun.Start(t.Context(), localrun.Options{
		BuildDir: buildDir, Prebuilt: true, Functions: []string{localrun.Queue}, Timeout: 6 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	s.TalkJS.AddFault(talkjstest.Fault{ConversationID: "hung", Latency: time.Hour})
	s.TalkJS.AddFault(talkjstest.Fault{ConversationID: "refused", Status: 403})
	event := sqsEvent(t,
		record{id: "r1-hung", body: system(t, "hung", "never answered")},
		record{id: "r2-malformed", body: `{"conversationId":`},
		record{id: "r3-refused", body: system(t, "refused", "refused for good")},
		record{id: "r4-ok", body: system(t, "fine", "delivered")},
	)
	out, err := s.Invoke(t.Context(), localrun.Queue, event)
	if err != nil {
		t.Fatalf("invoke: %v (%s)", err, out)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !slices.Equal(failed, []string{"r1-hung"}) {
		t.Errorf("batch item failures %v, want only r1-hung", failed)
	}
	var forwarded []string
	for _, m := range s.AWS.Sent() {
		var r queue.Rejection
		if err := json.Unmarshal([]byte(m.Body), &r); err != nil {
			t.Fatal(err)
		}
		forwarded = append(forwarded, r.MessageID)
	}
	slices.Sort(forwarded)
	if want := []string{"r2-malformed", "r3-refused"}; !slices.Equal(forwarded, want) {
		t.Errorf("rejects queue got %v, want %v", forwarded, want)
	}
}

// TestQueueIDRule is issue 14.7 through the real queue bootstrap: ids the
// webhook refuses ("..", "a/b", NUL, over 255 bytes) are rejected before
// any TalkJS request, not sent as path segments.
func TestQueueIDRule(t *testing.T) {
	reset(t)
	before, rejectsBefore := stack.TalkJS.Counts().Requests, len(stack.AWS.Sent())
	var recs []record
	for i, id := range []string{".", "..", "a/b", "a\x00b", strings.Repeat("a", 256)} {
		recs = append(recs, record{id: "bad-id-" + string(rune('a'+i)), body: system(t, id, "should not be sent")})
	}
	if failed := callQueue(t, sqsEvent(t, recs...)); len(failed) != 0 {
		t.Errorf("batch item failures %v, want none (rejected)", failed)
	}
	if n := stack.TalkJS.Counts().Requests - before; n != 0 {
		t.Errorf("TalkJS got %d requests for records with bad ids", n)
	}
	if n := len(stack.AWS.Sent()) - rejectsBefore; n != len(recs) {
		t.Errorf("%d records forwarded to the rejects queue, want %d", n, len(recs))
	}
}

// TestDuplicateSignatureHeader is issue 14.8 through the real webhook
// bootstrap: an event holding the signature under two spellings, one
// wrong, answered 200 or 401 by map order. It is 401 every time now.
func TestDuplicateSignatureHeader(t *testing.T) {
	reset(t)
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(loadEvent(t, "webhook-github-issue-rest.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev.Headers["x-hub-signature-256"] = "sha256=" + strings.Repeat("0", 64)
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if a := callWebhook(t, raw); a.StatusCode != 401 {
			t.Fatalf("attempt %d: status %d (%s), want 401", i, a.StatusCode, a.Body)
		}
	}
	if n := stack.TalkJS.Counts().MessagesStored; n != 0 {
		t.Errorf("%d messages stored", n)
	}
}

// TestWebhookDotIDs is issue 14.7 on the webhook: a conversation id "."
// or ".." from the payload is refused (400) before any TalkJS request.
func TestWebhookDotIDs(t *testing.T) {
	reset(t)
	secret := democreds.WebhookSecrets()["generic"]
	for _, id := range []string{".", ".."} {
		body := `{"type":"note","conversationId":"` + id + `","text":"x"}`
		h, err := verify.Sign(verify.Config{Preset: verify.PresetStandardWebhooks}, []byte(secret), "", time.Now(), []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if a := callWebhook(t, httpAPIEvent(t, "generic", h, body, nil)); a.StatusCode != 400 {
			t.Errorf("conversation id %q: status %d (%s), want 400", id, a.StatusCode, a.Body)
		}
	}
	if n := stack.TalkJS.Counts().Requests; n != 0 {
		t.Errorf("TalkJS got %d requests", n)
	}
}

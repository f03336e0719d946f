package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
)

// Conversations the default routes file sends the sample webhooks to.
const (
	githubConv = "github-codertocat-hello-world-2dd472678382"
	alertsConv = "alerts-teams_proxy-5b110c6a924d"
	stripeConv = "stripe-payments"
)

// eventCase is what events/README.md says one sample event does.
type eventCase struct {
	// before are events/ files delivered first, to create the
	// conversations the event needs (reminders select among them).
	before []string
	check  func(t *testing.T, out []byte)
}

var eventCases = map[string]eventCase{
	"webhook-github-issue-rest.json":    {check: wantGitHubIssue},
	"webhook-github-issue-httpapi.json": {check: wantGitHubIssue},
	"webhook-stripe.json": {check: func(t *testing.T, out []byte) {
		a := wantSent(t, out, stripeConv)
		msgs := stack.TalkJS.Messages(stripeConv)
		if len(msgs) != 1 {
			t.Fatalf("%s has %d messages, want 1: %q", stripeConv, len(msgs), texts(stripeConv))
		}
		wantMessage(t, msgs[0], "UserMessage", "stripe-bot", "Payment received", "10.00 USD")
		wantIDs(t, a, msgs[0].ID)
	}},
	"webhook-alertmanager.json": {check: func(t *testing.T, out []byte) {
		a := wantSent(t, out, alertsConv)
		msgs := stack.TalkJS.Messages(alertsConv)
		if len(msgs) != 1 {
			t.Fatalf("%s has %d messages, want 1: %q", alertsConv, len(msgs), texts(alertsConv))
		}
		wantMessage(t, msgs[0], "UserMessage", "alertmanager-bot", "FIRING", "high_memory_load", "instance-with-hyphen_and_underscore")
		wantIDs(t, a, msgs[0].ID)
	}},
	// One delivery per ready route, each a real payload from testdata/.
	"webhook-gitlab.json":      {check: wantDelivery("gitlab-mike-diaspora-8bb46aeb43d8", "UserMessage", "gitlab-bot", "*John Smith* pushed 4 commit(s) to refs/heads/master")},
	"webhook-bitbucket.json":   {check: wantDelivery("bitbucket-team_name-repo_name-1811f8080f45", "UserMessage", "bitbucket-bot", "*PR #1 created* by Emma: Title of pull request")},
	"webhook-circleci.json":    {check: wantDelivery("circleci-github-acme-web-c22eecd75055", "UserMessage", "circleci-bot", "Workflow *build-test-deploy* #130 failed on main")},
	"webhook-sentry.json":      {check: wantDelivery("sentry-1-6b86b273ff34", "UserMessage", "sentry-bot", "TypeError: Cannot read properties of undefined")},
	"webhook-pagerduty.json":   {check: wantDelivery("pagerduty-pf9kmxh-8e7ffe4f4f13", "UserMessage", "pagerduty-bot", "*Incident #2 priority updated*: A little bump in the road")},
	"webhook-grafana.json":     {check: wantDelivery("grafana-my-super-webhook-afb2146f660e", "UserMessage", "grafana-bot", "*FIRING* 2 alert(s)", "High memory usage (us-1)")},
	"webhook-uptime-kuma.json": {check: wantDelivery("uptime-api-prod-c8fab9b1276d", "UserMessage", "uptime-kuma-bot", "is down*: connect ECONNREFUSED 10.0.0.7:443")},
	"webhook-paddle.json":      {check: wantDelivery("paddle-ctm_01hv8wt8nffez4p2t6typn4a5j-09692c028e16", "UserMessage", "paddle-bot", "*Transaction completed*: 32.40 USD, invoice 325-10566")},
	"webhook-postmark.json":    {check: wantDelivery("postmark-outbound-fed5e6c7d987", "UserMessage", "postmark-bot", "*Hard bounce* from john@example.com")},
	"webhook-twilio.json":      {check: wantDelivery("sms-19253920364-dce6e84f756d", "UserMessage", "twilio-bot", "*+19253920364* (BRENTWOOD, US)", "twilio-go testing!")},
	"webhook-slack.json":       {check: wantDelivery("slack-t0jfd6m53-0aed4027ce8d-d2aqcjcq2-6b5624fa130a", "SystemMessage", "", "*U27FFLNF4* reacted :grinning: to a message by U299ATJ2X")},
	"webhook-talkjs.json":      {check: wantDelivery("support-inbox", "UserMessage", "talkjs-bridge", "*Jane Doe* in Order #1001")},
	"webhook-shopify.json":     {check: wantDelivery("shopify-shop-myshopify-com-536c436919ca", "UserMessage", "shopify-bot", "*New order #9999*: 388.00 USD from jon@example.com")},
	// The generic route posts into the conversation the body names, which
	// must exist: the Alertmanager sample creates it first.
	"webhook-generic.json": {before: []string{"webhook-alertmanager.json"}, check: func(t *testing.T, out []byte) {
		a := wantSent(t, out, alertsConv)
		msgs := stack.TalkJS.Messages(alertsConv)
		if len(msgs) != 2 {
			t.Fatalf("%s has %d messages, want the alert's and the generic one: %q", alertsConv, len(msgs), texts(alertsConv))
		}
		wantMessage(t, msgs[1], "SystemMessage", "", "*contact.created*", "John Smith")
		wantIDs(t, a, msgs[1].ID)
	}},
	"webhook-bad-signature.json": {check: func(t *testing.T, out []byte) { wantRefused(t, out, 401) }},
	"webhook-unknown-route.json": {check: func(t *testing.T, out []byte) { wantRefused(t, out, 404) }},
	"queue-commands.json": {check: func(t *testing.T, out []byte) {
		wantNoFailures(t, out)
		wantOrder1042(t)
		msgs := stack.TalkJS.Messages("support-ticket-311")
		if len(msgs) != 1 {
			t.Fatalf("support-ticket-311 has %d messages, want 1", len(msgs))
		}
		wantMessage(t, msgs[0], "SystemMessage", "", "Ticket #311 opened")
		c, ok := stack.TalkJS.Conversation("support-ticket-311")
		if !ok || c.Subject != "Password reset" || len(c.Participants) != 2 {
			t.Errorf("support-ticket-311 = %+v, want subject Password reset and participants cust-9, support", c)
		}
	}},
	"queue-fifo.json": {check: func(t *testing.T, out []byte) {
		wantNoFailures(t, out)
		want := []string{"Order #1043 received", "Payment confirmed for order #1043", "Order #1043 has shipped"}
		if got := texts("order-1043"); !slices.Equal(got, want) {
			t.Errorf("order-1043 texts = %q, want %q in this order", got, want)
		}
	}},
	"queue-route-mapped.json": {check: func(t *testing.T, out []byte) {
		wantNoFailures(t, out)
		msgs := stack.TalkJS.Messages(githubConv)
		if len(msgs) != 1 {
			t.Fatalf("%s has %d messages, want 1", githubConv, len(msgs))
		}
		wantMessage(t, msgs[0], "UserMessage", "github", "Issue #1 opened", "Spelling error in the README file")
	}},
	"queue-sns-cloudwatch-alarm.json": {check: func(t *testing.T, out []byte) {
		wantNoFailures(t, out)
		msgs := stack.TalkJS.Messages("cloudwatch-123456789012")
		if len(msgs) != 1 {
			t.Fatalf("cloudwatch-123456789012 has %d messages, want 1", len(msgs))
		}
		wantMessage(t, msgs[0], "UserMessage", "cloudwatch-bot", "ALARM", "api-5xx-high", "region=us-east-1")
	}},
	"schedule-rule.json":               {before: engineering, check: wantStandup},
	"schedule-scheduler.json":          {before: engineering, check: wantStandup},
	"schedule-scheduler-no-input.json": {before: engineering, check: wantStandup},
	"schedule-inline.json": {before: []string{"queue-commands.json"}, check: func(t *testing.T, out []byte) {
		var s scheduleSummary
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatal(err)
		}
		if s.Sent != 2 || s.Rejected != 0 || s.Retry != 0 {
			t.Errorf("summary = %+v, want 2 sent", s)
		}
		for _, id := range []string{"order-1042", "support-ticket-311"} {
			msgs := stack.TalkJS.Messages(id)
			if len(msgs) == 0 {
				t.Fatalf("%s has no messages", id)
			}
			wantMessage(t, msgs[len(msgs)-1], "SystemMessage", "", "Reminder: we're here if you need anything.")
		}
	}},
}

// engineering are the events that create the conversations the standup
// reminder selects (custom.source github or alertmanager), plus one it
// must skip (order-1042).
var engineering = []string{"webhook-github-issue-rest.json", "webhook-alertmanager.json", "queue-commands.json"}

// TestEvents invokes every file in events/ through its function and checks
// the outcome events/README.md promises, on what reached TalkJS.
func TestEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	readme := readmeFunctions(t)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			c, ok := eventCases[name]
			if !ok {
				t.Fatalf("%s has no expectation in eventCases: add one", name)
			}
			fn := localrun.FunctionFor(name)
			if fn == "" || readme[name] != fn {
				t.Fatalf("function for %s: FunctionFor says %q, events/README.md says %q", name, fn, readme[name])
			}
			reset(t)
			for _, b := range c.before {
				deliver(t, b)
			}
			before := stack.TalkJS.Counts()
			logged := len(stack.TalkJS.Requests())
			rejects := len(stack.AWS.Sent())
			c.check(t, invoke(t, fn, loadEvent(t, name)))
			if n := len(stack.AWS.Sent()) - rejects; n != 0 {
				t.Errorf("%d records forwarded to the rejects queue, want none", n)
			}
			// The functions stay warm while the test empties the emulator,
			// so their memo of upserts is stale by construction: a send may
			// be refused with 404 once and repeated with the upserts. Any
			// other refusal is a failure.
			if got := stack.TalkJS.Counts(); got.Refused != before.Refused {
				for _, r := range stack.TalkJS.Requests()[logged:] {
					if r.Status >= 400 && !(r.Status == http.StatusNotFound && r.Method == http.MethodPost) {
						t.Errorf("TalkJS refused %s %s with %d", r.Method, r.Path, r.Status)
					}
				}
			}
		})
	}
	for name := range eventCases {
		if !slices.Contains(files, filepath.Join(eventsDir, name)) {
			t.Errorf("eventCases has %s, which is not in events/", name)
		}
	}
}

// readmeFunctions reads the file → function column of events/README.md.
func readmeFunctions(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string)
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		file := strings.Trim(strings.TrimSpace(cells[1]), "`")
		if strings.HasSuffix(file, ".json") {
			out[file] = strings.TrimSpace(cells[2])
		}
	}
	return out
}

// deliver invokes an events/ file and requires it to succeed, to set up
// state for a later event.
func deliver(t *testing.T, name string) {
	t.Helper()
	out := invoke(t, localrun.FunctionFor(name), loadEvent(t, name))
	switch localrun.FunctionFor(name) {
	case localrun.Webhook:
		var a webhookAnswer
		if err := json.Unmarshal(out, &a); err != nil || a.StatusCode != 200 {
			t.Fatalf("setup %s: answer %s", name, out)
		}
	case localrun.Queue:
		wantNoFailures(t, out)
	}
}

func wantSent(t *testing.T, out []byte, conv string) sentAnswer {
	t.Helper()
	var a webhookAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatal(err)
	}
	if a.StatusCode != 200 {
		t.Fatalf("status %d (%s), want 200", a.StatusCode, a.Body)
	}
	var s sentAnswer
	if err := json.Unmarshal([]byte(a.Body), &s); err != nil {
		t.Fatalf("body %q: %v", a.Body, err)
	}
	if len(s.Sent) != 1 || s.Sent[0].ConversationID != conv {
		t.Fatalf("sent = %+v, want one send to %s", s.Sent, conv)
	}
	return s
}

// wantDelivery checks that a sender's sample made exactly one message, in
// conv, from sender, holding words, and that the answer names it.
func wantDelivery(conv, typ, sender string, words ...string) func(t *testing.T, out []byte) {
	return func(t *testing.T, out []byte) {
		t.Helper()
		a := wantSent(t, out, conv)
		msgs := stack.TalkJS.Messages(conv)
		if len(msgs) != 1 {
			t.Fatalf("%s has %d messages, want 1: %q", conv, len(msgs), texts(conv))
		}
		wantMessage(t, msgs[0], typ, sender, words...)
		wantIDs(t, a, msgs[0].ID)
	}
}

func wantIDs(t *testing.T, s sentAnswer, ids ...string) {
	t.Helper()
	if !slices.Equal(s.Sent[0].MessageIDs, ids) {
		t.Errorf("answer's message ids = %q, want the stored %q", s.Sent[0].MessageIDs, ids)
	}
}

func wantRefused(t *testing.T, out []byte, status int) {
	t.Helper()
	var a webhookAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatal(err)
	}
	if a.StatusCode != status {
		t.Errorf("status %d (%s), want %d", a.StatusCode, a.Body, status)
	}
	if n := stack.TalkJS.Counts().Requests; n != 0 {
		t.Errorf("%d requests reached TalkJS, want none", n)
	}
}

func wantGitHubIssue(t *testing.T, out []byte) {
	t.Helper()
	a := wantSent(t, out, githubConv)
	msgs := stack.TalkJS.Messages(githubConv)
	if len(msgs) != 1 {
		t.Fatalf("%s has %d messages, want 1: %q", githubConv, len(msgs), texts(githubConv))
	}
	wantMessage(t, msgs[0], "UserMessage", "github", "Issue #1 opened", "Codertocat", "Spelling error in the README file")
	wantIDs(t, a, msgs[0].ID)
	c, _ := stack.TalkJS.Conversation(githubConv)
	if c.Custom["source"] != "github" || c.Subject != "GitHub · Codertocat/Hello-World" {
		t.Errorf("conversation = %+v, want source github and the repository in the subject", c)
	}
	if _, ok := c.Participants["github"]; !ok {
		t.Errorf("participants = %v, want github", c.Participants)
	}
}

func wantNoFailures(t *testing.T, out []byte) {
	t.Helper()
	var resp struct {
		BatchItemFailures []json.RawMessage `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("batch item failures %s, want none", out)
	}
}

// wantOrder1042 checks what queue-commands.json sends to order-1042.
func wantOrder1042(t *testing.T) {
	t.Helper()
	msgs := stack.TalkJS.Messages("order-1042")
	if len(msgs) != 3 {
		t.Fatalf("order-1042 has %d messages, want 3: %q", len(msgs), texts("order-1042"))
	}
	wantMessage(t, msgs[0], "SystemMessage", "", "Your order has shipped")
	wantMessage(t, msgs[1], "UserMessage", "support", "Tracking: 1Z999AA10123456784")
	wantMessage(t, msgs[2], "UserMessage", "support", "It should arrive on Friday.")
	if msgs[1].IdempotencyKey != "ship-1042" || msgs[1].Custom["carrier"] != "ups" {
		t.Errorf("tracking message = %+v, want its own idempotencyKey ship-1042 and custom carrier ups", msgs[1])
	}
	c, _ := stack.TalkJS.Conversation("order-1042")
	if c.Subject != "Order #1042" {
		t.Errorf("order-1042 subject %q", c.Subject)
	}
	for _, p := range []string{"cust-7", "support"} {
		if _, ok := c.Participants[p]; !ok {
			t.Errorf("order-1042 participants %v lack %s", c.Participants, p)
		}
	}
}

// wantStandup checks the standup reminder reached the engineering
// conversations and only them.
func wantStandup(t *testing.T, out []byte) {
	t.Helper()
	var s scheduleSummary
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Reminders, []string{"standup"}) || s.Sent != 2 || s.Rejected != 0 || s.Retry != 0 {
		t.Errorf("summary = %+v, want standup sent to 2", s)
	}
	for conv, subject := range map[string]string{githubConv: "GitHub · Codertocat/Hello-World", alertsConv: "Alerts · teams_proxy"} {
		msgs := stack.TalkJS.Messages(conv)
		if len(msgs) != 2 {
			t.Fatalf("%s has %d messages, want the webhook's and the reminder: %q", conv, len(msgs), texts(conv))
		}
		wantMessage(t, msgs[1], "SystemMessage", "", "Standup in 5 minutes", subject)
	}
	if n := len(stack.TalkJS.Messages("order-1042")); n != 3 {
		t.Errorf("order-1042 has %d messages: the reminder must not select it", n)
	}
}

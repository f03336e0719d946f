package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// expectations say what each sample event must do (events/README.md in
// short). A file not listed must simply not fail.
var expectations = map[string]expect{
	"webhook-github-issue-rest.json":    {status: 200, sent: true},
	"webhook-github-issue-httpapi.json": {status: 200, sent: true},
	"webhook-stripe.json":               {status: 200, sent: true},
	"webhook-alertmanager.json":         {status: 200, sent: true},
	"webhook-bad-signature.json":        {status: 401},
	"webhook-unknown-route.json":        {status: 404},
	// One delivery from each ready route's sender, on its real payload.
	"webhook-bitbucket.json":   {status: 200, sent: true},
	"webhook-circleci.json":    {status: 200, sent: true},
	"webhook-generic.json":     {status: 200, sent: true},
	"webhook-gitlab.json":      {status: 200, sent: true},
	"webhook-grafana.json":     {status: 200, sent: true},
	"webhook-paddle.json":      {status: 200, sent: true},
	"webhook-pagerduty.json":   {status: 200, sent: true},
	"webhook-postmark.json":    {status: 200, sent: true},
	"webhook-sentry.json":      {status: 200, sent: true},
	"webhook-shopify.json":     {status: 200, sent: true},
	"webhook-slack.json":       {status: 200, sent: true},
	"webhook-talkjs.json":      {status: 200, sent: true},
	"webhook-twilio.json":      {status: 200, sent: true},
	"webhook-uptime-kuma.json": {status: 200, sent: true},
}

// expect is one sample's outcome: the status, and with sent, an answer
// listing sends and no TalkJS refusal (a refused send still answers 200 to
// senders that would disable the endpoint otherwise).
type expect struct {
	status int
	sent   bool
}

// order replays webhooks first, so the reminders find the conversations
// they select.
var order = map[string]int{localrun.Webhook: 0, localrun.Queue: 1, localrun.Schedule: 2}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("events", "events", "directory of sample events")
	logs := fs.Bool("logs", false, "also print the functions' own log lines")
	one := fs.String("event", "", "replay only this event file (make invoke)")
	fnFlag := fs.String("fn", "", "with -event: the function to invoke (default: from the file name)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.json"))
	if *one != "" {
		files, err = []string{*one}, nil
		*logs = true
	}
	if err != nil || len(files) == 0 {
		fmt.Fprintf(stderr, "demo: no events in %s\n", *dir)
		return 1
	}
	fnFor := func(path string) string {
		if *fnFlag != "" {
			return *fnFlag
		}
		return localrun.FunctionFor(filepath.Base(path))
	}
	for _, f := range files {
		if fn := fnFor(f); !slices.Contains(localrun.Functions, fn) {
			fmt.Fprintf(stderr, "demo: cannot tell which function %s is for: name it webhook-*, queue-* or schedule-*, or give -fn\n", f)
			return 2
		}
	}
	slices.SortStableFunc(files, func(a, b string) int {
		return order[fnFor(a)] - order[fnFor(b)]
	})

	opts := localrun.Options{}
	real := getenv("TALKJS_APP_ID") != "" && getenv("TALKJS_SECRET_KEY") != ""
	if real {
		opts.RealTalkJS, opts.AppID, opts.SecretKey = true, getenv("TALKJS_APP_ID"), getenv("TALKJS_SECRET_KEY")
	}
	if *logs {
		opts.Logs = stderr
	}
	if *one != "" {
		opts.Functions = []string{fnFor(*one)}
	}
	fmt.Fprintln(stdout, "Building the functions and starting them under the Lambda runtime emulator…")
	start := time.Now()
	stack, err := localrun.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	defer stack.Close()
	target := "the embedded TalkJS emulator at " + stack.TalkJSURL
	if real {
		target = "the real TalkJS API, app " + stack.AppID
	}
	fmt.Fprintf(stdout, "Ready in %s: webhook, queue and schedule functions, sending to %s.\n", time.Since(start).Round(100*time.Millisecond), target)

	client, err := stack.Client()
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 1
	}
	// One event (make invoke) is reported, not judged: a user's own event
	// may rightly be refused or rejected.
	d := &demo{ctx: ctx, stack: stack, client: client, out: stdout, fnFor: fnFor, judge: *one == ""}
	failed := 0
	for i, path := range files {
		if !d.replay(i+1, path) {
			failed++
		}
	}
	if stack.TalkJS != nil && *one == "" {
		if !d.faults() {
			failed++
		}
		var logsTo io.Writer
		if *logs {
			logsTo = stderr
		}
		if !d.queuedIntake(len(files)+2, *dir, logsTo) {
			failed++
		}
	}
	fmt.Fprintln(stdout)
	if *one != "" {
		if failed > 0 {
			fmt.Fprintln(stdout, "The function failed (see ✗ above).")
			return 1
		}
		fmt.Fprintln(stdout, "Done: above is what the function answered, what it logged and what TalkJS now holds.")
		return 0
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of the demo's steps did not behave as expected (see ✗ above).\n", failed)
		return 1
	}
	fmt.Fprintf(stdout, "All %d events behaved as events/README.md says.\n", len(files))
	return 0
}

type demo struct {
	ctx    context.Context
	stack  *localrun.Stack
	client *talkjs.Client
	out    io.Writer
	seq    int
	fnFor  func(path string) string
	// judge compares each outcome with events/README.md; off for make
	// invoke, which reports what happened and fails only when the function did.
	judge bool
}

func (d *demo) printf(format string, a ...any) { fmt.Fprintf(d.out, format, a...) }

// replay sends one file through its function and prints the transcript. It
// reports whether the function ran and, when d.judge, whether the outcome
// matched the expectation.
func (d *demo) replay(n int, path string) bool {
	name := filepath.Base(path)
	fn := d.fnFor(path)
	d.printf("\n%d. %s → %s function\n", n, name, fn)
	event, err := localrun.LoadEvent(path)
	if err != nil {
		d.printf("   ✗ %v\n", err)
		return false
	}
	d.printf("   in:     %s\n", describe(fn, event))
	before := d.snapshot()
	rejectsBefore := d.rejects()
	answer, reqID, err := d.invoke(fn, event)
	if err != nil {
		d.printf("   ✗ the function failed: %v\n", err)
		d.printLogs(fn, reqID)
		return false
	}
	ok := true
	// delivered: the function says TalkJS accepted messages.
	delivered := false
	switch fn {
	case localrun.Webhook:
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		_ = json.Unmarshal(answer, &resp)
		d.printf("   out:    %d %s\n", resp.StatusCode, oneLine(resp.Body, 160))
		delivered = resp.StatusCode == 200
		var body struct {
			Sent     []json.RawMessage `json:"sent"`
			Rejected []json.RawMessage `json:"rejected"`
		}
		_ = json.Unmarshal([]byte(resp.Body), &body)
		if ex, has := expectations[name]; d.judge && has {
			switch {
			case ex.status != resp.StatusCode:
				d.printf("   ✗ expected %d\n", ex.status)
				ok = false
			case ex.sent && (len(body.Sent) == 0 || len(body.Rejected) > 0):
				d.printf("   ✗ expected every message sent, none rejected\n")
				ok = false
			}
		}
	case localrun.Queue:
		var resp events.SQSEventResponse
		_ = json.Unmarshal(answer, &resp)
		rejected := d.rejects()[len(rejectsBefore):]
		d.printf("   out:    %d to retry (batch item failures), %d rejected\n", len(resp.BatchItemFailures), len(rejected))
		for _, f := range resp.BatchItemFailures {
			d.printf("           retry  %s\n", f.ItemIdentifier)
		}
		for _, r := range rejected {
			d.printf("           reject %s\n", oneLine(r, 160))
		}
		delivered = len(resp.BatchItemFailures) == 0 && len(rejected) == 0
		if d.judge && !delivered {
			d.printf("   ✗ expected every record sent\n")
			ok = false
		}
	case localrun.Schedule:
		d.printf("   out:    %s\n", oneLine(string(answer), 160))
		var sum struct{ Sent, Rejected, Retry int }
		_ = json.Unmarshal(answer, &sum)
		// events/README.md says every schedule sample sends.
		delivered = sum.Sent > 0 && sum.Rejected == 0 && sum.Retry == 0
		if d.judge && !delivered {
			d.printf("   ✗ expected reminders sent, none rejected or retried\n")
			ok = false
		}
	}
	for _, line := range d.matched(fn, reqID) {
		d.printf("   log:    %s\n", line)
	}
	if !d.printChanges(before) && delivered {
		d.printf("           (its idempotency keys were used before: TalkJS kept the first copies)\n")
	}
	if ok && d.judge {
		d.printf("   ✓ as expected\n")
	}
	return ok
}

func (d *demo) invoke(fn string, event []byte) ([]byte, string, error) {
	d.seq++
	id := fmt.Sprintf("demo-%02d-%d", d.seq, time.Now().UnixNano()%1e6)
	f := d.stack.Function(fn)
	if f == nil {
		return nil, id, fmt.Errorf("function %s is not running", fn)
	}
	ctx, cancel := context.WithTimeout(d.ctx, time.Minute)
	defer cancel()
	out, err := f.Do(ctx, rietest.Invocation{Event: event, RequestID: id})
	return out, id, err
}

// matched pulls, from the function's JSON log lines for this request, what
// the route made of the event.
func (d *demo) matched(fn, reqID string) []string {
	var out []string
	for _, line := range strings.Split(d.stack.Logs(fn), "\n") {
		i := strings.Index(line, "{")
		if i < 0 || !strings.Contains(line, reqID) {
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line[i:]), &rec) != nil || rec["requestId"] != reqID {
			continue
		}
		var parts []string
		for _, k := range []string{"route", "event", "reminder", "messageId", "conversationId", "skipped", "reason"} {
			if v, ok := rec[k]; ok && v != nil && fmt.Sprint(v) != "" {
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
		out = append(out, oneLine(fmt.Sprintf("%v: %s", rec["message"], strings.Join(parts, " ")), 200))
	}
	return out
}

func (d *demo) printLogs(fn, reqID string) {
	for _, line := range strings.Split(d.stack.Logs(fn), "\n") {
		if strings.Contains(line, reqID) || strings.Contains(line, "ERROR") {
			d.printf("           %s\n", oneLine(line, 240))
		}
	}
}

// snapshot reads the messages per conversation, to print what an event added.
// Against a real TalkJS app, which may hold thousands of conversations, it
// looks at the most recent ones only: the demo's events touch a handful.
func (d *demo) snapshot() snapshot {
	const maxConversations, maxMessages = 200, 100
	snap := make(snapshot)
	for conv, err := range d.client.ListConversations(d.ctx, talkjs.ListOptions{Limit: 100}) {
		if err != nil || len(snap) == maxConversations {
			break
		}
		cs := convSnap{subject: conv.Subject, ids: make(map[string]bool)}
		for m, err := range d.client.ListMessages(d.ctx, conv.ID, talkjs.ListOptions{Limit: maxMessages}) {
			if err != nil || len(cs.msgs) == maxMessages {
				break
			}
			cs.msgs = append(cs.msgs, m)
			cs.ids[m.ID] = true
		}
		snap[conv.ID] = cs
	}
	return snap
}

// snapshot is what TalkJS holds, by conversation id, as far as the demo
// reads it.
type snapshot map[string]convSnap

type convSnap struct {
	subject string
	msgs    []talkjs.Message // newest first, as TalkJS lists them
	ids     map[string]bool
}

// printChanges takes a new snapshot and prints the messages it holds that
// before did not, reporting whether there were any.
func (d *demo) printChanges(before snapshot) bool {
	after := d.snapshot()
	convs := slices.Sorted(maps.Keys(after))
	printed := false
	for _, id := range convs {
		var added []talkjs.Message
		// Newest first: the new messages come before the first known one.
		for _, m := range after[id].msgs {
			if before[id].ids[m.ID] {
				break
			}
			added = append(added, m)
		}
		if len(added) == 0 {
			continue
		}
		d.printf("   TalkJS: conversation %s %q now also holds:\n", id, after[id].subject)
		slices.Reverse(added) // listings are newest first; a chat reads oldest first
		for _, m := range added {
			who := m.SenderID
			if m.Type == talkjs.SystemMessage {
				who = "system"
			}
			d.printf("           [%s] %s\n", who, oneLine(m.Text, 150))
		}
		printed = true
	}
	if !printed {
		d.printf("   TalkJS: nothing new\n")
	}
	return printed
}

func (d *demo) rejects() []string {
	var out []string
	for _, m := range d.stack.AWS.Sent() {
		if m.QueueURL == d.stack.RejectsQueueURL {
			out = append(out, m.Body)
		}
	}
	return out
}

// faults shows, on the emulator only, what the queue does when TalkJS fails:
// records retried, a bad one rejected, and the redelivery adding each
// message exactly once.
func (d *demo) faults() bool {
	emu := d.stack.TalkJS
	d.printf("\n%d. Faults: TalkJS answers 503 for conversation order-2001, and one record names a sender who is not a participant\n", d.seq+1)
	batch := events.SQSEvent{Records: []events.SQSMessage{
		record("fault-1", `{"conversationId":"order-2001","conversation":{"subject":"Order #2001","participants":["cust-7"]},"message":{"type":"SystemMessage","text":"Order #2001 received"}}`),
		record("fault-2", `{"conversationId":"order-2001","message":{"type":"SystemMessage","text":"Order #2001 paid"}}`),
		record("fault-3", `{"conversationId":"order-2002","conversation":{"subject":"Order #2002","participants":["cust-7"]},"message":{"type":"UserMessage","sender":"mallory","text":"not a participant"}}`),
		record("fault-4", `{"conversationId":"order-2002","message":{"type":"SystemMessage","text":"Order #2002 received"}}`),
	}}
	ev, _ := json.Marshal(batch)
	emu.AddFault(talkjstest.Fault{ConversationID: "order-2001", Status: 503})
	before := d.snapshot()
	answer, _, err := d.invoke(localrun.Queue, ev)
	if err != nil {
		d.printf("   ✗ %v\n", err)
		return false
	}
	var resp events.SQSEventResponse
	_ = json.Unmarshal(answer, &resp)
	var retried []string
	for _, f := range resp.BatchItemFailures {
		retried = append(retried, f.ItemIdentifier)
	}
	slices.Sort(retried)
	rejects := d.rejects()
	d.printf("   out:    retry %v (SQS delivers them again); rejected to the rejects queue: %d\n", retried, countContaining(rejects, "fault-3"))
	d.printChanges(before)
	ok := slices.Equal(retried, []string{"fault-1", "fault-2"}) && countContaining(rejects, "fault-3") == 1

	d.printf("   TalkJS recovers; SQS redelivers fault-1 and fault-2:\n")
	emu.ClearFaults()
	redo := events.SQSEvent{Records: batch.Records[:2]}
	ev, _ = json.Marshal(redo)
	before = d.snapshot()
	answer, _, err = d.invoke(localrun.Queue, ev)
	if err != nil {
		d.printf("   ✗ %v\n", err)
		return false
	}
	resp = events.SQSEventResponse{}
	_ = json.Unmarshal(answer, &resp)
	d.printf("   out:    %d to retry\n", len(resp.BatchItemFailures))
	d.printChanges(before)
	ok = ok && len(resp.BatchItemFailures) == 0 && len(emu.Messages("order-2001")) == 2

	d.printf("   The same batch delivered once more (at-least-once delivery):\n")
	before = d.snapshot()
	if _, _, err := d.invoke(localrun.Queue, ev); err != nil {
		d.printf("   ✗ %v\n", err)
		return false
	}
	d.printChanges(before)
	ok = ok && len(emu.Messages("order-2001")) == 2
	if ok {
		d.printf("   ✓ retried, rejected and deduplicated as expected\n")
	} else {
		d.printf("   ✗ expected fault-1 and fault-2 retried, fault-3 rejected, and each message once after redelivery\n")
	}
	return ok
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:talkjs-bridge", AWSRegion: "us-east-1"}
}

func countContaining(list []string, s string) int {
	n := 0
	for _, x := range list {
		if strings.Contains(x, s) {
			n++
		}
	}
	return n
}

// describe says in one line what an event is.
func describe(fn string, event []byte) string {
	switch fn {
	case localrun.Webhook:
		var probe struct {
			HTTPMethod      string            `json:"httpMethod"`
			Path            string            `json:"path"`
			RawPath         string            `json:"rawPath"`
			Version         string            `json:"version"`
			Headers         map[string]string `json:"headers"`
			Body            string            `json:"body"`
			IsBase64Encoded bool              `json:"isBase64Encoded"`
		}
		_ = json.Unmarshal(event, &probe)
		shape, method, path := "API Gateway REST (v1)", probe.HTTPMethod, probe.Path
		if probe.Version == "2.0" {
			shape, method, path = "HTTP API (v2)", "POST", probe.RawPath
		}
		var hs []string
		for k, v := range probe.Headers {
			switch headerRole(k) {
			case "event":
				hs = append(hs, k+": "+v)
			case "credential":
				// Never the value: a token header holds the secret itself.
				hs = append(hs, k+": …")
			}
		}
		slices.Sort(hs)
		b64 := ""
		if probe.IsBase64Encoded {
			b64 = ", base64 body"
		}
		desc := fmt.Sprintf("%s %s via %s%s, %d-byte body", method, path, shape, b64, len(probe.Body))
		if len(hs) > 0 {
			desc += "; " + strings.Join(hs, ", ")
		}
		return desc
	case localrun.Queue:
		var ev events.SQSEvent
		_ = json.Unmarshal(event, &ev)
		fifo := ""
		if len(ev.Records) > 0 && strings.HasSuffix(ev.Records[0].EventSourceARN, ".fifo") {
			fifo = " (FIFO)"
		}
		var ids []string
		for _, r := range ev.Records {
			var probe struct {
				ConversationID string `json:"conversationId"`
				Route          string `json:"route"`
			}
			_ = json.Unmarshal([]byte(r.Body), &probe)
			if probe.Route != "" {
				ids = append(ids, "route "+probe.Route)
			} else {
				ids = append(ids, probe.ConversationID)
			}
		}
		return fmt.Sprintf("%d SQS records%s for %s", len(ev.Records), fifo, strings.Join(ids, ", "))
	}
	var compact bytes.Buffer
	if json.Compact(&compact, event) != nil {
		return oneLine(string(event), 160)
	}
	return oneLine(compact.String(), 160)
}

// headerRole says whether a request header names the sender's event
// ("event"), carries a signature or credential ("credential"), or is
// neither (""), for the one-line description of a webhook event.
func headerRole(name string) string {
	lk := strings.ToLower(name)
	switch {
	case lk == "authorization" || strings.Contains(lk, "signature") || strings.HasSuffix(lk, "-token") || strings.HasSuffix(lk, "-hmac-sha256"):
		return "credential"
	case strings.HasSuffix(lk, "-event") || strings.HasSuffix(lk, "-event-key") || strings.HasSuffix(lk, "-event-type") ||
		strings.HasSuffix(lk, "-topic") || strings.HasSuffix(lk, "-hook-resource"):
		return "event"
	}
	return ""
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

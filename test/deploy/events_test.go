package deploy

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

// The demo secrets the sample events are signed with. They are public on
// purpose: `make demo` configures the same values, and no real sender uses them.
const (
	demoGitHubSecret      = "demo-github-secret"
	demoStripeSecret      = "whsec_demo_stripe"
	demoAlertmanagerToken = "demo-alertmanager-token"
)

// How each webhook event must authenticate. Every events/webhook-*.json must
// be listed, so a new sample cannot go in unchecked.
var webhookEvents = map[string]struct {
	route string
	auth  string // github, stripe, bearer, bad-github, preset, none
}{
	"webhook-github-issue-rest.json":    {"github", "github"},
	"webhook-github-issue-httpapi.json": {"github", "github"},
	"webhook-stripe.json":               {"stripe", "stripe"},
	"webhook-alertmanager.json":         {"alertmanager", "bearer"},
	"webhook-bad-signature.json":        {"github", "bad-github"},
	"webhook-unknown-route.json":        {"no-such-route", "none"},
	// One per ready route, checked with the route's own verify block.
	"webhook-bitbucket.json":   {"bitbucket", "preset"},
	"webhook-circleci.json":    {"circleci", "preset"},
	"webhook-generic.json":     {"generic", "preset"},
	"webhook-gitlab.json":      {"gitlab", "preset"},
	"webhook-grafana.json":     {"grafana", "preset"},
	"webhook-paddle.json":      {"paddle", "preset"},
	"webhook-pagerduty.json":   {"pagerduty", "preset"},
	"webhook-postmark.json":    {"postmark", "preset"},
	"webhook-sentry.json":      {"sentry", "preset"},
	"webhook-shopify.json":     {"shopify", "preset"},
	"webhook-slack.json":       {"slack", "preset"},
	"webhook-talkjs.json":      {"talkjs", "preset"},
	"webhook-twilio.json":      {"twilio", "preset"},
	"webhook-uptime-kuma.json": {"uptime-kuma", "preset"},
}

// formRoutes take application/x-www-form-urlencoded bodies, not JSON.
var formRoutes = map[string]bool{"twilio": true}

// What each queue event holds: commands, route-mapped records, or a FIFO batch
// of commands.
var queueEvents = map[string]struct {
	records int
	kind    string // commands, route, fifo, sns
}{
	"queue-commands.json":             {3, "commands"},
	"queue-fifo.json":                 {3, "fifo"},
	"queue-route-mapped.json":         {1, "route"},
	"queue-sns-cloudwatch-alarm.json": {1, "sns"},
}

// strictDecode decodes data into v and fails on fields v does not have, so a
// misspelt field in a sample event is caught rather than silently empty.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func TestEvents(t *testing.T) {
	files, err := filepath.Glob("../../events/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no events/*.json")
	}
	readme, err := os.ReadFile("../../events/README.md")
	if err != nil {
		t.Fatalf("events/README.md: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(data) {
				t.Fatal("not valid JSON")
			}
			if !bytes.Contains(readme, []byte("`"+name+"`")) {
				t.Errorf("events/README.md does not describe %s", name)
			}
			switch {
			case strings.HasPrefix(name, "webhook-"):
				checkWebhookEvent(t, name, data)
			case strings.HasPrefix(name, "queue-"):
				checkQueueEvent(t, name, data)
			case strings.HasPrefix(name, "schedule-"):
				checkScheduleEvent(t, data)
			default:
				t.Errorf("%s: name must start with the function it is for (webhook-, queue-, schedule-)", name)
			}
		})
	}
	t.Run("README lists only existing files", func(t *testing.T) {
		for _, line := range strings.Split(string(readme), "\n") {
			if !strings.HasPrefix(line, "| `") {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			if !slices.Contains(files, filepath.Join("..", "..", "events", name)) {
				t.Errorf("events/README.md lists %s, which does not exist", name)
			}
		}
	})
}

// request is what the webhook function sees of either API Gateway payload.
type request struct {
	method, path, route string
	// stagePath is the path with the REST API's stage (requestContext.path).
	stagePath string
	headers   map[string]string
	body      []byte
}

func (r request) header(name string) string {
	for k, v := range r.headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func checkWebhookEvent(t *testing.T, name string, data []byte) {
	t.Helper()
	want, ok := webhookEvents[name]
	if !ok {
		t.Fatalf("%s is not in webhookEvents in events_test.go: say how it authenticates", name)
	}
	var probe struct{ Version string }
	_ = json.Unmarshal(data, &probe)
	var req request
	if probe.Version == "2.0" {
		var ev events.APIGatewayV2HTTPRequest
		if err := strictDecode(data, &ev); err != nil {
			t.Fatalf("not an API Gateway HTTP API (v2) event: %v", err)
		}
		if ev.RouteKey != "POST /webhooks/{route}" || ev.RequestContext.RouteKey != ev.RouteKey {
			t.Errorf("routeKey = %q / %q, want POST /webhooks/{route}", ev.RouteKey, ev.RequestContext.RouteKey)
		}
		if ev.RawPath != ev.RequestContext.HTTP.Path {
			t.Errorf("rawPath %q differs from requestContext.http.path %q", ev.RawPath, ev.RequestContext.HTTP.Path)
		}
		for k := range ev.Headers {
			if k != strings.ToLower(k) {
				t.Errorf("header %q: HTTP API v2 delivers header names in lower case", k)
			}
		}
		req = request{method: ev.RequestContext.HTTP.Method, path: ev.RawPath, route: ev.PathParameters["route"], stagePath: ev.RawPath, headers: ev.Headers, body: []byte(ev.Body)}
		if ev.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				t.Fatalf("isBase64Encoded but body is not base64: %v", err)
			}
			req.body = b
		}
	} else {
		var ev events.APIGatewayProxyRequest
		if err := strictDecode(data, &ev); err != nil {
			t.Fatalf("not an API Gateway REST (v1) proxy event: %v", err)
		}
		if ev.Resource != "/webhooks/{route}" || ev.RequestContext.ResourcePath != ev.Resource {
			t.Errorf("resource = %q / %q, want /webhooks/{route}", ev.Resource, ev.RequestContext.ResourcePath)
		}
		if ev.RequestContext.HTTPMethod != ev.HTTPMethod {
			t.Errorf("requestContext.httpMethod %q differs from httpMethod %q", ev.RequestContext.HTTPMethod, ev.HTTPMethod)
		}
		if want := "/" + ev.RequestContext.Stage + ev.Path; ev.RequestContext.Path != want {
			t.Errorf("requestContext.path = %q, want %q", ev.RequestContext.Path, want)
		}
		for k, v := range ev.Headers {
			if mv := ev.MultiValueHeaders[k]; len(mv) != 1 || mv[0] != v {
				t.Errorf("multiValueHeaders[%q] = %q, want [%q] as API Gateway sends both", k, mv, v)
			}
		}
		req = request{method: ev.HTTPMethod, path: ev.Path, route: ev.PathParameters["route"], stagePath: ev.RequestContext.Path, headers: ev.Headers, body: []byte(ev.Body)}
		if ev.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				t.Fatalf("isBase64Encoded but body is not base64: %v", err)
			}
			req.body = b
		}
	}
	if req.method != "POST" || req.path != "/webhooks/"+want.route || req.route != want.route {
		t.Errorf("%s %s (route %q), want POST /webhooks/%s", req.method, req.path, req.route, want.route)
	}
	if formRoutes[want.route] {
		if _, err := url.ParseQuery(string(req.body)); err != nil || len(req.body) == 0 {
			t.Errorf("body is not a form: %v", err)
		}
		if ct := req.header("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q, want application/x-www-form-urlencoded", ct)
		}
	} else {
		if !json.Valid(req.body) {
			t.Errorf("body is not JSON")
		}
		if ct := req.header("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
	}

	switch want.auth {
	case "github", "bad-github":
		if req.header("X-GitHub-Event") == "" || req.header("X-GitHub-Delivery") == "" {
			t.Error("a GitHub delivery carries X-GitHub-Event and X-GitHub-Delivery")
		}
		sig := req.header("X-Hub-Signature-256")
		good := sig == "sha256="+hmacHex(demoGitHubSecret, req.body)
		if want.auth == "github" && !good {
			t.Errorf("X-Hub-Signature-256 is not the HMAC-SHA256 of the body with the demo GitHub secret")
		}
		if want.auth == "bad-github" && (good || !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64) {
			t.Errorf("X-Hub-Signature-256 = %q, want a well-formed signature that does not match the body", sig)
		}
	case "stripe":
		ts, v1, err := parseStripeSignature(req.header("Stripe-Signature"))
		if err != nil {
			t.Fatal(err)
		}
		if v1 != hmacHex(demoStripeSecret, append([]byte(ts+"."), req.body...)) {
			t.Errorf("Stripe-Signature v1 is not the HMAC-SHA256 of t.body with the demo Stripe secret")
		}
		var evt struct{ ID, Type string }
		if err := json.Unmarshal(req.body, &evt); err != nil || !strings.HasPrefix(evt.ID, "evt_") || evt.Type == "" {
			t.Errorf("body is not a Stripe event (id evt_..., type): %v", err)
		}
	case "bearer":
		if req.header("Authorization") != "Bearer "+demoAlertmanagerToken {
			t.Errorf("Authorization is not the demo Alertmanager bearer token")
		}
	case "preset":
		checkPresetSignature(t, req)
	case "none":
		for _, h := range []string{"Authorization", "X-Hub-Signature-256", "Stripe-Signature"} {
			if req.header(h) != "" {
				t.Errorf("%s is set on an event meant to carry no credentials", h)
			}
		}
	default:
		t.Fatalf("unknown auth %q", want.auth)
	}
}

// checkPresetSignature verifies req with the verify block its route has in
// the default routes file and the route's demo secret, ignoring the age of
// a signed timestamp (localrun.LoadEvent signs those again at delivery).
// Twilio's covers the public URL the webhook function derives from the
// event: https://<Host><requestContext.path>.
func checkPresetSignature(t *testing.T, req request) {
	t.Helper()
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	vc, ok := routes.VerifyConfig(req.route)
	if !ok {
		t.Fatalf("no route %q in the default routes file", req.route)
	}
	var keys [][]byte
	for _, name := range vc.Secrets {
		if s := democreds.WebhookSecrets()[name]; s != "" {
			keys = append(keys, []byte(s))
		}
	}
	if len(keys) == 0 {
		t.Fatalf("route %q: no demo secret in democreds.WebhookSecrets for %v", req.route, vc.Secrets)
	}
	v, err := verify.New(vc, keys)
	if err != nil {
		t.Fatal(err)
	}
	v.Tolerance = 100 * 365 * 24 * time.Hour
	h := make(http.Header)
	for k, val := range req.headers {
		h.Add(k, val)
	}
	r := verify.Request{Header: h, Body: req.body}
	if vc.NeedsURL() {
		r.URL = "https://" + req.header("Host") + req.stagePath
	}
	if err := v.VerifyRequest(r); err != nil {
		t.Errorf("route %q (preset %s): not signed with the demo secret: %v", req.route, vc.Preset, err)
	}
}

func hmacHex(key string, msg []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

func parseStripeSignature(h string) (ts, v1 string, err error) {
	for part := range strings.SplitSeq(h, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil || v1 == "" {
		return "", "", fmt.Errorf("Stripe-Signature %q: want t=<unix seconds>,v1=<hex>", h)
	}
	return ts, v1, nil
}

// command is a queue record body (DESIGN.md "queue").
func checkQueueEvent(t *testing.T, name string, data []byte) {
	t.Helper()
	want, ok := queueEvents[name]
	if !ok {
		t.Fatalf("%s is not in queueEvents in events_test.go", name)
	}
	var ev events.SQSEvent
	if err := strictDecode(data, &ev); err != nil {
		t.Fatalf("not an SQS event: %v", err)
	}
	if len(ev.Records) != want.records {
		t.Errorf("%d records, want %d", len(ev.Records), want.records)
	}
	seen := map[string]bool{}
	// SequenceNumber is a 128-bit decimal, too large for a uint64.
	lastSeq := map[string]*big.Int{}
	for i, r := range ev.Records {
		where := fmt.Sprintf("Records[%d] (%s)", i, r.MessageId)
		if r.MessageId == "" || seen[r.MessageId] {
			t.Errorf("%s: messageId empty or repeated", where)
		}
		seen[r.MessageId] = true
		if r.EventSource != "aws:sqs" || r.ReceiptHandle == "" {
			t.Errorf("%s: eventSource %q, receiptHandle %q", where, r.EventSource, r.ReceiptHandle)
		}
		arn := strings.Split(r.EventSourceARN, ":")
		if len(arn) != 6 || arn[0] != "arn" || arn[2] != "sqs" || arn[3] != r.AWSRegion {
			t.Errorf("%s: eventSourceARN %q is not an SQS queue ARN in %s", where, r.EventSourceARN, r.AWSRegion)
		}
		if sum := md5.Sum([]byte(r.Body)); r.Md5OfBody != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: md5OfBody does not match the body", where)
		}
		fifo := strings.HasSuffix(r.EventSourceARN, ".fifo")
		if fifo != (want.kind == "fifo") {
			t.Errorf("%s: queue %q, want a FIFO queue: %v", where, r.EventSourceARN, want.kind == "fifo")
		}
		group := r.Attributes["MessageGroupId"]
		if fifo {
			seq, ok := new(big.Int).SetString(r.Attributes["SequenceNumber"], 10)
			if group == "" || !ok || r.Attributes["MessageDeduplicationId"] == "" {
				t.Errorf("%s: a FIFO record carries MessageGroupId, SequenceNumber and MessageDeduplicationId", where)
				continue
			}
			if last := lastSeq[group]; last != nil && seq.Cmp(last) <= 0 {
				t.Errorf("%s: SequenceNumber %s does not increase within group %s", where, seq, group)
			}
			lastSeq[group] = seq
		} else if group != "" {
			t.Errorf("%s: MessageGroupId on a standard queue record", where)
		}

		// The queue handler's own parsers, so the files show what it takes.
		if want.kind == "sns" {
			rt, ok, err := queue.ParseSNS(r.Body)
			if !ok || err != nil || rt.Route == "" {
				t.Errorf("%s: want an SNS Notification envelope naming a route: ok=%v %v", where, ok, err)
			}
			continue
		}
		if want.kind == "route" {
			rt, err := queue.ParseRouted(r.Body)
			var payload map[string]any
			if err != nil || json.Unmarshal(rt.Payload, &payload) != nil {
				t.Errorf("%s: want a route-mapped record {route, headers, payload}: %v", where, err)
			}
			continue
		}
		c, err := queue.ParseCommand(r.Body)
		if err != nil {
			t.Errorf("%s: body is not a valid command: %v", where, err)
			continue
		}
		if c.Conversation != nil && len(c.Conversation.Participants) == 0 {
			t.Errorf("%s: conversation without participants", where)
		}
	}
}

func checkScheduleEvent(t *testing.T, data []byte) {
	t.Helper()
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		t.Fatalf("not a JSON object: %v", err)
	}
	if _, ok := probe["detail-type"]; !ok {
		// EventBridge Scheduler delivers the target's Input as is.
		// The handler's own input type, so a field it does not know fails here.
		var in schedule.Input
		if err := strictDecode(data, &in); err != nil {
			t.Fatalf("neither a scheduled event nor a schedule input: %v", err)
		}
		reminder := in.Reminder != ""
		inline := len(in.ConversationIDs) > 0 && in.Text != ""
		if reminder == inline {
			t.Errorf("want either {reminder} or the inline form {conversationIds, text, type}: %s", data)
		}
		return
	}
	var ev events.EventBridgeEvent
	if err := strictDecode(data, &ev); err != nil {
		t.Fatalf("not an EventBridge event: %v", err)
	}
	if ev.DetailType != "Scheduled Event" || ev.Time.IsZero() || ev.ID == "" {
		t.Errorf("detail-type %q, time %v, id %q: want a Scheduled Event with a time and id", ev.DetailType, ev.Time, ev.ID)
	}
	if len(ev.Resources) != 1 {
		t.Fatalf("resources = %v, want the one rule or schedule", ev.Resources)
	}
	res := ev.Resources[0]
	switch ev.Source {
	case "aws.events":
		// A rule sends detail as an object.
		if !strings.HasPrefix(res, "arn:aws:events:"+ev.Region+":"+ev.AccountID+":rule/") || string(ev.Detail) != "{}" {
			t.Errorf("rule event: resource %q, detail %s; want a rule ARN and {}", res, ev.Detail)
		}
	case "aws.scheduler":
		// EventBridge Scheduler sends detail as the string "{}" (see the
		// fixtures from aws-lambda-java-libs and powertools).
		if !strings.HasPrefix(res, "arn:aws:scheduler:"+ev.Region+":"+ev.AccountID+":schedule/") || string(ev.Detail) != `"{}"` {
			t.Errorf("scheduler event: resource %q, detail %s; want a schedule ARN and \"{}\"", res, ev.Detail)
		}
	default:
		t.Errorf("source %q, want aws.events or aws.scheduler", ev.Source)
	}
}

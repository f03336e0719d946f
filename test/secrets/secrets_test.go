package secrets_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-xray-sdk-go/v2/xray"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/config"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/internal/metrics"
	"github.com/talkjs-bridge/talkjs-bridge/internal/secretscan"
	"github.com/talkjs-bridge/talkjs-bridge/internal/secretsource"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
	"github.com/talkjs-bridge/talkjs-bridge/internal/tracing"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

const (
	appID    = "tSecurity"
	secretID = "talkjs-bridge/security"
	traceID  = "1-6925a0f0-5a1c6a7e3b2d4f6e8a9b0c1d"
	parentID = "53995c3f42cd8ad8"
)

func random(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// secrets are made up per run, so that nothing in the code or its fixtures
// can contain them by chance and every match is a leak.
type secrets struct {
	key, key2 string
	hooks     map[string]string
}

func newSecrets(t *testing.T) secrets {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	return secrets{
		key:  "sk_test_" + random(t, 16),
		key2: "sk_test_" + random(t, 16),
		hooks: map[string]string{
			"github":       random(t, 20),
			"stripe":       "whsec_" + random(t, 16),
			"alertmanager": random(t, 16),
			"generic":      "whsec_" + base64.StdEncoding.EncodeToString(raw),
			"shopify":      random(t, 16),
		},
	}
}

func (s secrets) value(key string) string {
	b, _ := json.Marshal(map[string]any{"appId": appID, "secretKey": key, "webhookSecrets": s.hooks})
	return string(b)
}

func (s secrets) labelled() map[string]string {
	out := map[string]string{"TalkJS key": s.key, "rotated TalkJS key": s.key2}
	for name, v := range s.hooks {
		out["webhook secret "+name] = v
	}
	return out
}

// daemon stands in for the X-Ray daemon and keeps every datagram.
func daemon(t *testing.T) (*tracing.Daemon, *secretscan.Buffer) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var got secretscan.Buffer
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 64<<10)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = got.Write(append(buf[:n:n], '\n'))
		}
	})
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	d, err := tracing.NewDaemon(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	return d, &got
}

// clock is the secret cache's clock, moved by the test to expire the TTL.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestSecretsNeverLeave runs every send path with debug logging and looks
// for the secrets in everything the process emits. The logger is built
// without the redacting secrets functions on purpose: redaction is the
// last line of defence, and this test checks that no code path hands a
// secret to the logger in the first place.
func TestSecretsNeverLeave(t *testing.T) {
	sec := newSecrets(t)
	var logs, metricLines secretscan.Buffer
	logger := logging.New(&logs, slog.LevelDebug)
	if err := tracing.Setup(logger); err != nil {
		t.Fatal(err)
	}
	d, traces := daemon(t)

	srv, emu := talkjstest.NewServer(appID, sec.key)
	t.Cleanup(srv.Close)
	sm := awstest.New()
	smSrv := httptest.NewServer(sm)
	t.Cleanup(smSrv.Close)
	sm.SetSecret(secretID, sec.value(sec.key))
	rq := awstest.New()
	rqSrv := httptest.NewServer(rq)
	t.Cleanup(rqSrv.Close)

	clk := &clock{}
	clk.ns.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano())
	awsCfg := awstest.Config(smSrv.URL)
	tracing.InstrumentAWS(&awsCfg)
	src := secretsource.NewFromConfig(awsCfg, secretID, secretsource.Options{TTL: time.Minute, Grace: -1, Now: clk.now, Logger: logger})
	c, err := talkjs.NewClient(appID, src, talkjs.WithBaseURL(srv.URL),
		talkjs.WithHTTPClient(tracing.HTTPClient(srv.Client())),
		talkjs.WithAttemptHook(metrics.AttemptHook),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := mapping.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	hook := &webhook.Server{Routes: routes, TalkJS: c, Secrets: src.WebhookSecret, Logger: logger, Now: now}
	rejects := queue.SQSRejects{Client: sqs.NewFromConfig(awstest.Config(rqSrv.URL)), QueueURL: awstest.QueueURL("security-rejects")}
	qh := &queue.Handler{Routes: routes, TalkJS: c, Rejects: rejects, Logger: logger, Concurrency: 2, Around: setup.TraceRecords, Now: now}
	sh := &schedule.Handler{Routes: routes, TalkJS: c, Logger: logger, Concurrency: 2, Now: now}
	emu.PutUser(talkjstest.User{ID: "support", Name: "Support"})
	emu.PutConversation(talkjstest.Conversation{ID: "gen-1"})
	emu.PutConversation(talkjstest.Conversation{ID: "gh-1", Subject: "Repo", Custom: map[string]string{"source": "github"}, Participants: talkjstest.Participants("support")})

	deps := func(fn string) *setup.Deps {
		return &setup.Deps{Config: config.Config{MetricsNamespace: "SecurityTest"}, Logger: logger, Function: fn, Metrics: &metricLines}
	}
	webhookFn := setup.Invoke(deps("webhook"), hook.Handle)
	queueFn := setup.Invoke(deps("queue"), qh.Handle)
	scheduleFn := setup.Invoke(deps("schedule"), sh.Handle)

	var n int
	invocation := func() context.Context {
		n++
		ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprintf("req-%d", n)})
		ctx = context.WithValue(ctx, xray.LambdaTraceHeaderKey, "Root="+traceID+";Parent="+parentID+";Sampled=1")
		return d.Context(ctx)
	}
	var answers, errs secretscan.Buffer
	noteErr := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(&errs, "%s: %v\n", what, err)
		}
	}
	statuses := map[string]int{}

	// Webhooks: accepted, refused and failing, through both event shapes.
	issue := []byte(`{"action":"opened","issue":{"number":1,"title":"Leak?","html_url":"https://github.com/o/r/issues/1"},"repository":{"full_name":"o/r"},"sender":{"login":"octo"}}`)
	payment := []byte(`{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":1250,"currency":"eur","customer":"cus_1"}}}`)
	alert := []byte(`{"status":"firing","receiver":"ops","groupKey":"g","alerts":[{"labels":{"alertname":"High"}}]}`)
	generic := []byte(`{"type":"note","conversationId":"gen-1","text":"hello"}`)
	sign := func(preset, name string, body []byte, at time.Time) http.Header {
		h, err := verify.Sign(verify.Config{Preset: preset}, []byte(sec.hooks[name]), "msg_sec_1", at, body)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	type hookCase struct {
		name, route string
		h           http.Header
		body        []byte
		fault       *talkjstest.Fault
	}
	gh := func(body []byte) http.Header {
		h := sign(verify.PresetGitHub, "github", body, now())
		h.Set("X-GitHub-Event", "issues")
		h.Set("X-GitHub-Delivery", "d-"+random(t, 4))
		return h
	}
	hooks := []hookCase{
		{"github ok", "github", gh(issue), issue, nil},
		{"github forged", "github", http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("ab", 32)}, "X-Github-Event": {"issues"}}, issue, nil},
		{"github other body", "github", gh(payment), issue, nil},
		{"stripe ok", "stripe", sign(verify.PresetStripe, "stripe", payment, now()), payment, nil},
		{"stripe stale", "stripe", sign(verify.PresetStripe, "stripe", payment, now().Add(-time.Hour)), payment, nil},
		{"alertmanager ok", "alertmanager", http.Header{"Authorization": {"Bearer " + sec.hooks["alertmanager"]}}, alert, nil},
		{"alertmanager wrong token", "alertmanager", http.Header{"Authorization": {"Bearer not-it"}}, alert, nil},
		{"generic ok", "generic", sign(verify.PresetStandardWebhooks, "generic", generic, now()), generic, nil},
		{"shopify forged", "shopify", http.Header{"X-Shopify-Hmac-Sha256": {"AAAA"}, "X-Shopify-Topic": {"orders/create"}}, []byte(`{}`), nil},
		{"talkjs 500", "github", gh(issue), issue, &talkjstest.Fault{Status: 500, Times: 2}},
		{"talkjs 400", "github", gh(issue), issue, &talkjstest.Fault{Status: 400, Times: 1}},
		{"talkjs unreachable", "github", gh(issue), issue, &talkjstest.Fault{Drop: true, Times: 2}},
	}
	for i, hc := range hooks {
		if hc.fault != nil {
			emu.AddFault(*hc.fault)
		}
		ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/webhooks/" + hc.route, Headers: map[string]string{}, Body: string(hc.body)}
		ev.RequestContext.HTTP.Method = "POST"
		for k := range hc.h {
			ev.Headers[strings.ToLower(k)] = hc.h.Get(k)
		}
		raw, _ := json.Marshal(ev)
		if i%2 == 1 {
			v1 := events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/webhooks/" + hc.route, Headers: map[string]string{}, Body: string(hc.body)}
			for k := range hc.h {
				v1.Headers[k] = hc.h.Get(k)
			}
			raw, _ = json.Marshal(v1)
		}
		out, err := webhookFn(invocation(), raw)
		noteErr("webhook "+hc.name, err)
		_, _ = answers.Write(append(out, '\n'))
		var a struct {
			StatusCode int `json:"statusCode"`
		}
		_ = json.Unmarshal(out, &a)
		statuses[hc.name] = a.StatusCode
		emu.ClearFaults()
	}

	// Queue: delivered, rejected (forwarded with its body), retried.
	sqsEvent := func(bodies ...string) events.SQSEvent {
		var ev events.SQSEvent
		for i, b := range bodies {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("sq-%d-%d", n, i), Body: b, Attributes: map[string]string{}})
		}
		return ev
	}
	resp, err := queueFn(invocation(), sqsEvent(
		`{"conversationId":"q-1","conversation":{"subject":"Q","participants":["support"]},"message":{"type":"UserMessage","sender":"support","text":"hi"}}`,
		`{"conversationId":"q-1","message":{"type":"SystemMessage","text":"second"}}`,
		`{"conversationId":"q-2","message":{"type":"UserMessage","text":"no sender"}}`,
		`{"route":"github","headers":{"X-GitHub-Event":"issues"},"payload":`+string(issue)+`}`,
	))
	noteErr("queue", err)
	b, _ := json.Marshal(resp)
	_, _ = answers.Write(append(b, '\n'))
	emu.AddFault(talkjstest.Fault{Status: 503})
	resp, err = queueFn(invocation(), sqsEvent(`{"conversationId":"q-3","conversation":{"subject":"Q3"},"message":{"type":"SystemMessage","text":"x"}}`))
	noteErr("queue 503", err)
	emu.ClearFaults()
	if len(resp.BatchItemFailures) != 1 {
		t.Errorf("queue under a TalkJS 503: failures %v, want the record", resp.BatchItemFailures)
	}

	// Schedule: a reminder over a listing, the inline form, a bad input.
	sum, err := scheduleFn(invocation(), json.RawMessage(`{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00Z"}`))
	noteErr("schedule", err)
	if sum.Sent == 0 {
		t.Errorf("schedule sent no reminder: %+v", sum)
	}
	_, err = scheduleFn(invocation(), json.RawMessage(`{"conversationIds":["gh-1"],"text":"inline","scheduledTime":"2026-11-25T09:00:00Z"}`))
	noteErr("schedule inline", err)
	_, err = scheduleFn(invocation(), json.RawMessage(`{"reminder":"nope","scheduledTime":"2026-11-25T09:00:00Z"}`))
	noteErr("schedule bad", err)

	// Rotation: Secrets Manager holds the new key, TalkJS refuses the old
	// one; the 401 makes the cache fetch the new key.
	sm.SetSecret(secretID, sec.value(sec.key2))
	emu.SetSecretKey(sec.key2)
	resp, err = queueFn(invocation(), sqsEvent(`{"conversationId":"q-1","message":{"type":"SystemMessage","text":"after rotation"}}`))
	noteErr("queue after rotation", err)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("after rotation: failures %v, want the record delivered with the new key", resp.BatchItemFailures)
	}

	// Outage: the cache expires while Secrets Manager fails; the errors
	// name the secret id, never its value.
	clk.advance(2 * time.Minute)
	sm.Fail(true)
	resp, err = queueFn(invocation(), sqsEvent(`{"conversationId":"q-1","message":{"type":"SystemMessage","text":"during outage"}}`))
	noteErr("queue outage", err)
	if len(resp.BatchItemFailures) != 1 {
		t.Errorf("during the outage: failures %v, want the record retried", resp.BatchItemFailures)
	}
	out, err := webhookFn(invocation(), mustJSON(t, events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/webhooks/github",
		Headers: map[string]string{"X-Hub-Signature-256": gh(issue).Get("X-Hub-Signature-256"), "X-GitHub-Event": "issues"}, Body: string(issue)}))
	noteErr("webhook outage", err)
	_, _ = answers.Write(append(out, '\n'))
	_, err = src.Key(t.Context())
	noteErr("Key during outage", err)
	sm.Fail(false)
	_, err = src.WebhookSecret(t.Context(), "no-such-route")
	noteErr("WebhookSecret unknown", err)

	// The path ran as intended.
	for name, want := range map[string]int{"github ok": 200, "github forged": 401, "github other body": 401, "stripe ok": 200, "stripe stale": 401,
		"alertmanager ok": 200, "alertmanager wrong token": 401, "generic ok": 200, "shopify forged": 401, "talkjs 500": 502, "talkjs 400": 422, "talkjs unreachable": 503} {
		if statuses[name] != want {
			t.Errorf("webhook %s: status %d, want %d", name, statuses[name], want)
		}
	}
	if len(rq.Sent()) != 1 {
		t.Errorf("%d records forwarded to the rejects queue, want 1", len(rq.Sent()))
	}
	if sm.Calls(awstest.GetSecretValue) < 3 {
		t.Errorf("GetSecretValue called %d times; the rotation and the outage did not go through Secrets Manager", sm.Calls(awstest.GetSecretValue))
	}
	time.Sleep(50 * time.Millisecond) // let the last UDP datagrams arrive

	var rejected []byte
	for _, m := range rq.Sent() {
		rejected = append(rejected, m.Body...)
	}
	hay := map[string][]byte{
		"logs": logs.Bytes(), "metrics": metricLines.Bytes(), "traces": traces.Bytes(),
		"answers": answers.Bytes(), "errors": errs.Bytes(), "rejects queue": rejected,
	}
	for name, h := range hay {
		if len(h) == 0 && name != "errors" {
			t.Errorf("nothing captured in %s: the scan would prove nothing", name)
		}
	}
	if !strings.Contains(string(hay["traces"]), `"name":"TalkJS"`) {
		t.Errorf("no TalkJS subsegment in the captured traces")
	}
	if !strings.Contains(string(hay["metrics"]), `"SecurityTest"`) {
		t.Errorf("no EMF line in the captured metrics")
	}
	if strings.Contains(string(hay["logs"]), logging.Redacted) {
		t.Errorf("a log line holds %s: something handed a secret to the logger", logging.Redacted)
	}
	for _, l := range secretscan.Scan(sec.labelled(), hay) {
		t.Errorf("secret leaked: %s", l)
	}
	t.Logf("scanned %d bytes of logs, %d of metrics, %d of traces, %d of answers, %d of errors, %d of rejects",
		len(hay["logs"]), len(hay["metrics"]), len(hay["traces"]), len(hay["answers"]), len(hay["errors"]), len(hay["rejects queue"]))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScanFinds is the scanner's own test: each way a secret can be written
// is found, and a clean haystack gives nothing.
func TestScanFinds(t *testing.T) {
	secret := "whsec_" + strings.Repeat("0123456789abcdef", 2)
	tests := []struct {
		name string
		hay  string
		form string
	}{
		{"plain", "token=" + secret, "plain"},
		{"base64", "Basic " + base64.StdEncoding.EncodeToString([]byte(secret)), "base64"},
		{"base64url", base64.RawURLEncoding.EncodeToString([]byte(secret)), "base64url"},
		{"JSON-escaped", strings.ReplaceAll(`"`+secret+`"`, "_", `\u005f`), ""},
		{"cut short", `"secretKey":"` + secret[:20] + `…"`, "fragment"},
		{"clean", "nothing to see; whsec_ and sk_test_ prefixes alone are public", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaks := secretscan.Scan(map[string]string{"s": secret, "empty": ""}, map[string][]byte{"h": []byte(tt.hay)})
			switch {
			case tt.form == "-" && len(leaks) != 0:
				t.Errorf("clean haystack: %v", leaks)
			case tt.form == "-":
			case len(leaks) != 1:
				t.Errorf("leaks %v, want one", leaks)
			case tt.form != "" && leaks[0].Form != tt.form:
				t.Errorf("form %q, want %q", leaks[0].Form, tt.form)
			case strings.Contains(leaks[0].String(), secret):
				t.Errorf("the leak report shows the secret: %s", leaks[0])
			}
		})
	}
}

// TestSecretsNeverLeaveThroughSetup builds the three functions exactly as
// their main packages do (setup.From from the environment: the redacting
// logger at debug level, the Secrets Manager cache, the instrumented
// clients) and drives each once. Everything the functions write goes to one
// stream, as in Lambda; it must hold no secret, and no [REDACTED] either,
// which would mean a code path handed a secret to the logger and only the
// redaction saved it.
func TestSecretsNeverLeaveThroughSetup(t *testing.T) {
	sec := newSecrets(t)
	srv, emu := talkjstest.NewServer(appID, sec.key)
	t.Cleanup(srv.Close)
	emu.PutConversation(talkjstest.Conversation{ID: "gh-1", Subject: "Repo", Custom: map[string]string{"source": "github"}})
	sm := awstest.New()
	smSrv := httptest.NewServer(sm)
	t.Cleanup(smSrv.Close)
	sm.SetSecret(secretID, sec.value(sec.key))

	// The AWS SDK reads its settings from the process environment.
	for k, v := range map[string]string{
		"AWS_REGION": awstest.Region, "AWS_ACCESS_KEY_ID": "AKIDSECURITYTEST", "AWS_SECRET_ACCESS_KEY": "fake",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SECRETS_MANAGER": smSrv.URL,
		"AWS_ENDPOINT_URL_SQS": smSrv.URL, "AWS_MAX_ATTEMPTS": "1", "AWS_LAMBDA_FUNCTION_NAME": "",
	} {
		t.Setenv(k, v)
	}
	env := map[string]string{
		config.EnvSecretID: secretID, config.EnvAPIURL: srv.URL, config.EnvLogLevel: "debug",
		config.EnvRejectsQueueURL: awstest.QueueURL("setup-rejects"), config.EnvMetricsNamespace: "SecurityTest",
	}
	getenv := func(k string) string { return env[k] }

	var out secretscan.Buffer
	var errs secretscan.Buffer
	build := func(fn string) *setup.Deps {
		d, err := setup.From(t.Context(), getenv, fn, &out)
		if err != nil {
			t.Fatalf("setup.From(%s): %v", fn, err)
		}
		return d
	}
	ctx := func(id string) context.Context {
		return lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: id})
	}

	wd := build("webhook")
	ws := &webhook.Server{Routes: wd.Routes, TalkJS: wd.TalkJS, Secrets: wd.WebhookSecrets(), Logger: wd.Logger}
	issue := []byte(`{"action":"opened","issue":{"number":1,"title":"t","html_url":"u"},"repository":{"full_name":"o/r"},"sender":{"login":"octo"}}`)
	h, err := verify.Sign(verify.Config{Preset: verify.PresetGitHub}, []byte(sec.hooks["github"]), "", time.Now(), issue)
	if err != nil {
		t.Fatal(err)
	}
	var answers []byte
	for _, sig := range []string{h.Get("X-Hub-Signature-256"), "sha256=" + strings.Repeat("0", 64)} {
		ev := mustJSON(t, events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/webhooks/github", Body: string(issue),
			Headers: map[string]string{"X-Hub-Signature-256": sig, "X-GitHub-Event": "issues", "X-GitHub-Delivery": random(t, 4)}})
		a, err := setup.Invoke(wd, ws.Handle)(ctx("req-w"), ev)
		if err != nil {
			fmt.Fprintf(&errs, "webhook: %v\n", err)
		}
		answers = append(answers, a...)
	}
	if !strings.Contains(string(answers), `"statusCode":200`) || !strings.Contains(string(answers), `"statusCode":401`) {
		t.Errorf("webhook answers %s: want one 200 and one 401", answers)
	}

	qd := build("queue")
	cfg, err := qd.AWSConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	qh := &queue.Handler{Routes: qd.Routes, TalkJS: qd.TalkJS, Logger: qd.Logger, Concurrency: 2, Around: setup.TraceRecords,
		Rejects: queue.SQSRejects{Client: sqs.NewFromConfig(cfg), QueueURL: qd.Config.RejectsQueueURL}}
	resp, err := setup.Invoke(qd, qh.Handle)(ctx("req-q"), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "s-1", Body: `{"conversationId":"gh-1","message":{"type":"SystemMessage","text":"hello"}}`},
		{MessageId: "s-2", Body: `{"conversationId":"gh-1","message":{"type":"Shout","text":"bad"}}`},
	}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("queue: err %v, failures %v", err, resp.BatchItemFailures)
	}
	answers = append(answers, mustJSON(t, resp)...)

	sd := build("schedule")
	sh := &schedule.Handler{Routes: sd.Routes, TalkJS: sd.TalkJS, Logger: sd.Logger, Concurrency: 2}
	sum, err := setup.Invoke(sd, sh.Handle)(ctx("req-s"), json.RawMessage(`{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00Z"}`))
	if err != nil {
		fmt.Fprintf(&errs, "schedule: %v\n", err)
	}
	answers = append(answers, mustJSON(t, sum)...)

	// A rotation through the real wiring: the 401 makes each function's
	// cache fetch the new key.
	sm.SetSecret(secretID, sec.value(sec.key2))
	emu.SetSecretKey(sec.key2)
	resp, err = setup.Invoke(qd, qh.Handle)(ctx("req-q2"), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "s-3", Body: `{"conversationId":"gh-1","message":{"type":"SystemMessage","text":"rotated"}}`},
	}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("queue after rotation: err %v, failures %v", err, resp.BatchItemFailures)
	}
	if n := len(emu.Messages("gh-1")); n < 3 {
		t.Errorf("gh-1 holds %d messages, want the command, the reminder and the one after rotation", n)
	}

	var rejected []byte
	for _, m := range sm.Sent() {
		rejected = append(rejected, m.Body...)
	}
	if len(rejected) == 0 {
		t.Error("the bad record did not reach the rejects queue")
	}
	stream := out.Bytes()
	if !strings.Contains(string(stream), `"requestId":"req-q"`) || !strings.Contains(string(stream), `"_aws"`) {
		t.Errorf("the function output lacks log lines or EMF metrics:\n%s", stream)
	}
	if strings.Contains(string(stream), logging.Redacted) {
		t.Errorf("the output holds %s: a code path handed a secret to the logger", logging.Redacted)
	}
	for _, l := range secretscan.Scan(sec.labelled(), map[string][]byte{
		"function output": stream, "answers": answers, "errors": errs.Bytes(), "rejects queue": rejected,
	}) {
		t.Errorf("secret leaked: %s", l)
	}
}

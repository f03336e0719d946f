package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// The app and keys every bootstrap is run with. They are local to the bench's
// emulators and never valid anywhere else.
const (
	benchAppID    = "tBench"
	benchKey      = "sk_test_bench_not_a_real_key"
	benchSecretID = "talkjs-bridge/bench"
)

// benchSecret is the Secrets Manager value: the JSON form, with the demo
// webhook secrets events/*.json are signed with.
var benchSecret = fmt.Sprintf(`{"appId":%q,"secretKey":%q,"webhookSecrets":{"github":"demo-github-secret","stripe":"whsec_demo_stripe","alertmanager":"demo-alertmanager-token"}}`, benchAppID, benchKey)

// backends are the local TalkJS and AWS endpoints a run of bootstraps uses.
type backends struct {
	talkjs    *httptest.Server
	emu       *talkjstest.Emulator
	aws       *httptest.Server
	awsServer *awstest.Server
	noConfig  string // a path that does not exist, for the shared AWS config files
}

func startBackends(dir string) *backends {
	b := &backends{}
	b.talkjs, b.emu = talkjstest.NewServer(benchAppID, benchKey)
	b.awsServer = awstest.New()
	b.awsServer.SetSecret(benchSecretID, benchSecret)
	b.aws = httptest.NewServer(b.awsServer)
	b.noConfig = filepath.Join(dir, "no-aws-config")
	return b
}

func (b *backends) Close() {
	b.talkjs.Close()
	b.aws.Close()
}

// resetTalkJS empties the TalkJS emulator and creates the conversations the
// sample events send to without creating them.
func (b *backends) resetTalkJS() {
	b.emu.Reset()
	for _, id := range []string{"order-1042", "support-ticket-311"} {
		b.emu.PutConversation(talkjstest.Conversation{ID: id, Subject: id})
	}
}

// env is a deployed function's environment (see template.yaml): the key
// comes from Secrets Manager, the app id is configured, the queue function
// has a rejects queue. Lambda provides the credentials and the X-Ray daemon
// address; the host's AWS config files are hidden, as Lambda has none.
func (b *backends) env() []string {
	return []string{
		"TALKJS_APP_ID=" + benchAppID,
		"TALKJS_SECRET_ID=" + benchSecretID,
		"TALKJS_API_URL=" + b.talkjs.URL,
		"REJECTS_QUEUE_URL=" + awstest.QueueURL("talkjs-bridge-rejects"),
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + b.aws.URL,
		"AWS_ENDPOINT_URL_SQS=" + b.aws.URL,
		"AWS_ACCESS_KEY_ID=AKIDTESTTESTTESTTEST",
		"AWS_SECRET_ACCESS_KEY=fake-secret-access-key",
		"AWS_SESSION_TOKEN=fake-session-token",
		"AWS_CONFIG_FILE=" + b.noConfig,
		"AWS_SHARED_CREDENTIALS_FILE=" + b.noConfig,
		"AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
	}
}

// firstEvents are what each bootstrap is invoked with first: a sample event
// of its kind. The floor and hello echo the queue's.
func firstEvents() (map[string][]byte, error) {
	root, err := moduleDir()
	if err != nil {
		return nil, err
	}
	files := map[string]string{
		fnWebhook:  "webhook-github-issue-rest.json",
		fnQueue:    "queue-commands.json",
		fnSchedule: "schedule-inline.json",
		fnFloor:    "queue-commands.json",
		fnHello:    "queue-commands.json",
	}
	evs := make(map[string][]byte)
	for name, file := range files {
		b, err := os.ReadFile(filepath.Join(root, "events", file))
		if err != nil {
			return nil, err
		}
		evs[name] = b
	}
	return evs, nil
}

func moduleDir() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run the bench inside the talkjs-bridge module")
	}
	return filepath.Dir(mod), nil
}

// coldStart is one fresh execution environment's first invoke.
type coldStart struct {
	init        time.Duration // the emulator's INIT REPORT
	firstAnswer time.Duration // the first Invoke's wall clock: init plus the first event
	secretCalls int           // GetSecretValue calls it made
}

// measureColdStarts starts every bootstrap s.coldRuns times in a fresh
// emulator, rotating the order each run so no bootstrap always goes first,
// and compares each function with the floor run next to it.
func measureColdStarts(ctx context.Context, s settings, bins map[string]string) ([]row, error) {
	b := startBackends(s.buildDir)
	defer b.Close()
	evs, err := firstEvents()
	if err != nil {
		return nil, err
	}
	// One untimed start of each warms the page cache and the emulator build.
	for _, name := range allBootstraps {
		if _, err := oneColdStart(ctx, s, b, name, bins[name], evs[name]); err != nil {
			return nil, err
		}
	}
	runs := make(map[string][]coldStart)
	for i := range s.coldRuns {
		for j := range allBootstraps {
			name := allBootstraps[(i+j)%len(allBootstraps)]
			c, err := oneColdStart(ctx, s, b, name, bins[name], evs[name])
			if err != nil {
				return nil, err
			}
			runs[name] = append(runs[name], c)
		}
	}

	initOf := func(c coldStart) float64 { return float64(c.init) }
	answerOf := func(c coldStart) float64 { return float64(c.firstAnswer) }
	var rows []row
	for _, fn := range functions {
		r := pairedRatio(runs[fn], runs[fnFloor], initOf)
		rows = append(rows, row{id: "P1", measure: "init, " + fn + " / floor (INIT REPORT under aws-lambda-rie)",
			value: fmt.Sprintf("%s (%s / %s)", ratio2(r), ms(medianOf(runs[fn], initOf)), ms(medianOf(runs[fnFloor], initOf))),
			goal:  "≤ 1.10x", met: verdict(r <= 1.10)})
	}
	r := pairedRatio(runs[fnFloor], runs[fnHello], initOf)
	rows = append(rows, row{id: "P1", measure: "init, floor / hello-world aws-lambda-go (context)",
		value: fmt.Sprintf("%s (%s / %s)", ratio2(r), ms(medianOf(runs[fnFloor], initOf)), ms(medianOf(runs[fnHello], initOf)))})
	for _, fn := range functions {
		r := pairedRatio(runs[fn], runs[fnFloor], answerOf)
		rows = append(rows, row{id: "P1b", measure: "first answer (init + first event, secret fetch included), " + fn + " / floor",
			value: fmt.Sprintf("%s (%s / %s)", ratio2(r), ms(medianOf(runs[fn], answerOf)), ms(medianOf(runs[fnFloor], answerOf))),
			goal:  "≤ 1.50x", met: verdict(r <= 1.50)})
	}
	var calls []string
	ok := true
	for _, fn := range functions {
		n := runs[fn][len(runs[fn])-1].secretCalls
		for _, c := range runs[fn] {
			if c.secretCalls != 1 {
				ok = false
				n = c.secretCalls
			}
		}
		calls = append(calls, fmt.Sprintf("%s %d", fn, n))
	}
	rows = append(rows, row{id: "P6", measure: "GetSecretValue calls per cold start under the emulator",
		value: strings.Join(calls, ", "), goal: "1", met: verdict(ok)})
	return rows, nil
}

func oneColdStart(ctx context.Context, s settings, b *backends, name, bin string, ev []byte) (coldStart, error) {
	b.resetTalkJS()
	before := b.awsServer.Calls(awstest.GetSecretValue)
	f, err := rietest.Start(ctx, bin, rietest.Options{Env: b.env(), Timeout: 30 * time.Second, Stdout: s.logOutput})
	if err != nil {
		return coldStart{}, err
	}
	defer f.Close()
	t0 := time.Now()
	out, err := f.Invoke(ctx, ev)
	firstAnswer := time.Since(t0)
	if err != nil {
		return coldStart{}, fmt.Errorf("%s: first invoke: %w\n%s", name, err, f.Logs())
	}
	if err := checkAnswer(name, out); err != nil {
		return coldStart{}, fmt.Errorf("%w\n%s", err, f.Logs())
	}
	inits := f.Inits()
	if len(inits) != 1 {
		return coldStart{}, fmt.Errorf("%s: %d INIT REPORT lines after the first invoke, want 1\n%s", name, len(inits), f.Logs())
	}
	if err := f.Close(); err != nil {
		return coldStart{}, err
	}
	return coldStart{init: inits[0], firstAnswer: firstAnswer, secretCalls: b.awsServer.Calls(awstest.GetSecretValue) - before}, nil
}

// checkAnswer makes sure the first event did what it should: a cold start
// that failed is not a measurement.
func checkAnswer(name string, out []byte) error {
	switch name {
	case fnWebhook:
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("webhook: first answer %.300s, want status 200", out)
		}
	case fnQueue:
		var resp struct {
			Failures []json.RawMessage `json:"batchItemFailures"`
		}
		if err := json.Unmarshal(out, &resp); err != nil || len(resp.Failures) != 0 {
			return fmt.Errorf("queue: first answer %.300s, want no batch item failures", out)
		}
	}
	return nil
}

func medianOf(cs []coldStart, f func(coldStart) float64) time.Duration {
	xs := make([]float64, len(cs))
	for i, c := range cs {
		xs[i] = f(c)
	}
	return time.Duration(median(xs))
}

// pairedRatio is the median of a[i]/b[i]: run i of both was taken in the
// same round, next to each other.
func pairedRatio(a, b []coldStart, f func(coldStart) float64) float64 {
	xs := make([]float64, 0, len(a))
	for i := range min(len(a), len(b)) {
		xs = append(xs, f(a[i])/f(b[i]))
	}
	return median(xs)
}

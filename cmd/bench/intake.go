package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// P9 is the webhook's answer in queue mode (COMMAND_QUEUE_URL) against its
// floor: one SendMessage round trip to the same local SQS endpoint. What
// the webhook adds to that one write (decoding the API Gateway event,
// verifying the signature, mapping, rendering the send command, the answer,
// the log and metrics lines) is what a sender waits for beyond SQS.

// p9Secret is the GitHub webhook secret the P9 deliveries are signed with,
// local to the bench.
const p9Secret = "p9-github-hmac-key"

// intakeBench is the webhook function in queue mode, built as
// functions/webhook builds it, and a bare SQS client to the same endpoint.
type intakeBench struct {
	webhook  func(context.Context, json.RawMessage) (json.RawMessage, error)
	queue    *webhook.CommandQueue // the handler's, for benchmarks that replace Send
	bare     *sqs.Client
	queueURL string
	aws      *awstest.Server
	emu      *talkjstest.Emulator
	close    func()
}

// newIntakeBench starts a TalkJS emulator (the webhook must never call it)
// and the local AWS endpoint, and builds the webhook handler through
// setup.From and Deps.Webhook with COMMAND_QUEUE_URL set. The SDK reads the
// endpoint and credentials from the process environment, as in Lambda.
func newIntakeBench(ctx context.Context) (*intakeBench, error) {
	tsrv, emu := talkjstest.NewServer(benchAppID, benchKey)
	aws := awstest.New()
	asrv := httptest.NewServer(aws)
	restore := setenv(map[string]string{
		"AWS_ENDPOINT_URL_SQS":        asrv.URL,
		"AWS_ACCESS_KEY_ID":           "AKIDTESTTESTTESTTEST",
		"AWS_SECRET_ACCESS_KEY":       "fake-secret-access-key",
		"AWS_REGION":                  awstest.Region,
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	})
	b := &intakeBench{queueURL: awstest.QueueURL("p9-commands"), aws: aws, emu: emu,
		close: func() { restore(); asrv.Close(); tsrv.Close() }}
	env := map[string]string{
		"TALKJS_APP_ID":                benchAppID,
		"TALKJS_SECRET_KEY":            benchKey,
		"TALKJS_API_URL":               tsrv.URL,
		"COMMAND_QUEUE_URL":            b.queueURL,
		"BRIDGE_WEBHOOK_SECRET_GITHUB": p9Secret,
	}
	d, err := setup.From(ctx, func(k string) string { return env[k] }, "webhook", io.Discard)
	if err != nil {
		b.close()
		return nil, err
	}
	s := d.Webhook()
	if s.Queue == nil {
		b.close()
		return nil, fmt.Errorf("the webhook handler is not in queue mode")
	}
	b.webhook, b.queue = setup.Invoke(d, s.Handle), s.Queue
	b.bare = sqs.NewFromConfig(awstest.Config(asrv.URL))
	return b, nil
}

// delivery is a signed GitHub issues delivery, n making it a new one, as
// API Gateway (REST) hands it to the function.
func (b *intakeBench) delivery(n int) ([]byte, error) {
	body := fmt.Sprintf(`{"action":"opened","issue":{"number":%d,"title":"Order %d has shipped","html_url":"https://github.com/o/r/issues/%d"},"sender":{"login":"octocat"},"repository":{"full_name":"o/r"}}`, n, n, n)
	h, err := verify.Sign(verify.Config{Preset: verify.PresetGitHub, Secrets: []string{"github"}}, []byte(p9Secret), "", time.Now(), []byte(body))
	if err != nil {
		return nil, err
	}
	return json.Marshal(events.APIGatewayProxyRequest{
		Resource: "/webhooks/{route}", Path: "/webhooks/github", HTTPMethod: "POST", Body: body,
		PathParameters: map[string]string{"route": "github"},
		Headers: map[string]string{"Content-Type": "application/json", "X-GitHub-Event": "issues",
			"X-GitHub-Delivery": "p9-" + strconv.Itoa(n), "X-Hub-Signature-256": h.Get("X-Hub-Signature-256")},
	})
}

// invoke runs one delivery as aws-lambda-go would and checks the answer.
func (b *intakeBench) invoke(ctx context.Context, event []byte) error {
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req"})
	out, err := b.webhook(ctx, event)
	if err != nil {
		return err
	}
	var resp struct{ StatusCode int }
	if err := json.Unmarshal(out, &resp); err != nil {
		return err
	}
	if resp.StatusCode != 202 {
		return fmt.Errorf("webhook answered %d: %s", resp.StatusCode, out)
	}
	return nil
}

// sendBare is the floor: one SendMessage of a body as large as the
// webhook's command, through a plain SDK client.
func (b *intakeBench) sendBare(ctx context.Context, body string) error {
	_, err := b.bare.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(b.queueURL), MessageBody: aws.String(body)})
	return err
}

// commandBody is a body the size of what the webhook enqueues for delivery n.
func (b *intakeBench) commandBody() string {
	sent := b.aws.Sent()
	if len(sent) == 0 {
		return `{"conversationId":"github-o-r","messages":[{"type":"UserMessage","sender":"github","text":"Order has shipped"}]}`
	}
	return sent[len(sent)-1].Body
}

// measureIntake is P9: the webhook's answer in queue mode against one bare
// SendMessage, interleaved, alternating which goes first.
func measureIntake(ctx context.Context, rounds, sends int) (pair, error) {
	b, err := newIntakeBench(ctx)
	if err != nil {
		return pair{}, err
	}
	defer b.close()
	var as, bs []time.Duration
	n := 0
	for round := -1; round < rounds; round++ { // round -1 opens the connections
		evs := make([][]byte, sends)
		for i := range sends {
			n++
			if evs[i], err = b.delivery(n); err != nil {
				return pair{}, err
			}
		}
		body := b.commandBody()
		var ta, tb time.Duration
		for i := range sends {
			da, db, err := timePair(func() error { return b.invoke(ctx, evs[i]) }, func() error { return b.sendBare(ctx, body) }, i%2 == 1)
			if err != nil {
				return pair{}, err
			}
			ta += da
			tb += db
		}
		if round >= 0 {
			as = append(as, ta/time.Duration(sends))
			bs = append(bs, tb/time.Duration(sends))
		}
	}
	if got, want := len(b.aws.Sent()), 2*(rounds+1)*sends; got != want {
		return pair{}, fmt.Errorf("SQS holds %d messages, want %d", got, want)
	}
	if c := b.emu.Counts(); c.Requests != 0 {
		return pair{}, fmt.Errorf("the webhook made %d TalkJS calls in queue mode", c.Requests)
	}
	return pairOf(as, bs), nil
}

// intakeRow renders P9.
func intakeRow(p pair) row {
	return row{id: "P9", measure: "webhook answer in queue mode (event → verify → map → SendMessage → 202) / one bare SendMessage to the same local SQS endpoint, in process",
		value: fmt.Sprintf("%s (%s / %s per delivery%s)", ratio2(p.ratio), us(p.a), us(p.b), p.spread),
		goal:  "≤ 1.30x", met: verdict(p.ratio <= 1.3)}
}

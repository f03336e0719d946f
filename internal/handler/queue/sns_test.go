package queue_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
)

func snsFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "senders", "aws-sns", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withAttribute adds an SNS message attribute to an envelope, as SNS writes
// them ({"Type": "String", "Value": ...}).
func withAttribute(t *testing.T, body, name, value string) string {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	env["MessageAttributes"] = map[string]any{name: map[string]string{"Type": "String", "Value": value}}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSNSEnvelopes: SNS delivers to SQS (without raw delivery) an envelope
// whose Message is the published text; the queue maps it through the route
// its topic (or a route attribute) names.
func TestSNSEnvelopes(t *testing.T) {
	alarm := snsFixture(t, "cloudwatch-alarm.sqs-body.json")
	ok := snsFixture(t, "cloudwatch-ok.sqs-body.json")
	hello := snsFixture(t, "Notification.json")
	confirm := snsFixture(t, "SubscriptionConfirmation.json")
	tests := []struct {
		name     string
		bodies   []string
		conv     string
		want     []string // words of each message, in order
		rejected string   // substring of the rejection reason
	}{
		{name: "alarm by topic name", bodies: []string{alarm}, conv: "cloudwatch-123456789012",
			want: []string{"ALARM", "api-5xx-high", "US East (N. Virginia)", "Threshold Crossed", "region=us-east-1#alarmsV2:alarm/api-5xx-high"}},
		{name: "alarm then ok", bodies: []string{alarm, ok}, conv: "cloudwatch-123456789012", want: []string{"ALARM", "OK"}},
		{name: "SNS redelivers the same message", bodies: []string{alarm, alarm}, conv: "cloudwatch-123456789012", want: []string{"ALARM"}},
		{name: "route from a message attribute", bodies: []string{withAttribute(t, strings.ReplaceAll(alarm, ":cloudwatch-alarm\"", ":ops-alerts\""), queue.SNSRouteAttribute, "cloudwatch-alarm")},
			conv: "cloudwatch-123456789012", want: []string{"ALARM"}},
		{name: "topic with no route", bodies: []string{hello}, rejected: "route not found"},
		{name: "subscription confirmation", bodies: []string{confirm}, rejected: "SubscribeURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, awstest.QueueURL("rejects"))
			for i, body := range tt.bodies {
				// Each delivery is a new SQS message, as a redelivery by SNS is.
				resp, err := e.h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record("sqs-"+string(rune('a'+i)), body)}})
				if err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("Handle: %v, failures %v", err, failures(resp))
				}
			}
			sent := e.aws.Sent()
			if tt.rejected != "" {
				if len(sent) != 1 || !strings.Contains(sent[0].Body, tt.rejected) {
					t.Fatalf("rejects %+v, want one saying %q", sent, tt.rejected)
				}
				return
			}
			if len(sent) != 0 {
				t.Fatalf("rejected: %s", sent[0].Body)
			}
			msgs := e.emu.Messages(tt.conv)
			if len(msgs) != len(tt.bodies) && !strings.Contains(tt.name, "redelivers") || strings.Contains(tt.name, "redelivers") && len(msgs) != 1 {
				t.Fatalf("%s holds %d messages", tt.conv, len(msgs))
			}
			for i, m := range msgs {
				words := tt.want
				if len(msgs) > 1 {
					words = tt.want[i : i+1]
				}
				for _, w := range words {
					if !strings.Contains(m.Text, w) {
						t.Errorf("message %d %q lacks %q", i, m.Text, w)
					}
				}
			}
		})
	}
}

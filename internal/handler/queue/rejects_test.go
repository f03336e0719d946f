package queue_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
)

// TestSQSRejectsQueueKinds: a standard rejects queue gets neither a group
// nor a deduplication id (SQS refuses them there); a FIFO one gets the
// source's group, or "rejects", and the record's id to deduplicate by.
func TestSQSRejectsQueueKinds(t *testing.T) {
	tests := []struct {
		name, queue, group   string
		wantGroup, wantDedup string
	}{
		{name: "standard", queue: awstest.QueueURL("rejects"), group: "g1"},
		{name: "FIFO, source group kept", queue: awstest.QueueURL("rejects.fifo"), group: "g1", wantGroup: "g1", wantDedup: "m-1"},
		{name: "FIFO, standard source", queue: awstest.QueueURL("rejects.fifo"), wantGroup: "rejects", wantDedup: "m-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aws := awstest.New()
			srv := httptest.NewServer(aws)
			defer srv.Close()
			r := queue.NewSQSRejects(sqs.NewFromConfig(awstest.Config(srv.URL)), tt.queue)
			if err := r.Reject(t.Context(), queue.Rejection{MessageID: "m-1", Reason: "bad", Group: tt.group, Body: "{}"}); err != nil {
				t.Fatal(err)
			}
			sent := aws.Sent()
			if len(sent) != 1 {
				t.Fatalf("%d messages sent, want 1", len(sent))
			}
			m := sent[0]
			if m.QueueURL != tt.queue || m.MessageGroupID != tt.wantGroup || m.MessageDeduplicationID != tt.wantDedup {
				t.Errorf("sent to %s with group %q, dedup %q; want %s, %q, %q", m.QueueURL, m.MessageGroupID, m.MessageDeduplicationID, tt.queue, tt.wantGroup, tt.wantDedup)
			}
			if m.Attributes["sourceMessageId"] != "m-1" {
				t.Errorf("sourceMessageId attribute %q, want m-1", m.Attributes["sourceMessageId"])
			}
			var got queue.Rejection
			if err := json.Unmarshal([]byte(m.Body), &got); err != nil || got.MessageID != "m-1" || got.Reason != "bad" {
				t.Errorf("body %s: %+v, %v", m.Body, got, err)
			}
		})
	}
}

package queue_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
)

// Each record's lines carry its SQS message id as delivery_id, and, once it
// was mapped, its route and conversation, at the top level.
func TestRecordLinesNameDeliveryRouteAndConversation(t *testing.T) {
	e := newEnv(t, "")
	var logs bytes.Buffer
	e.h.Logger = logging.New(&logs, slog.LevelInfo)
	payload, err := os.ReadFile("../../../testdata/github/issues/opened.payload.json")
	if err != nil {
		t.Fatal(err)
	}
	routed, _ := json.Marshal(map[string]any{
		"route":   "github",
		"headers": map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-queue-attrs"},
		"payload": json.RawMessage(payload),
	})
	ev := events.SQSEvent{Records: []events.SQSMessage{record("m-routed", string(routed)), record("m-bad", "{}")}}
	if _, err := e.h.Handle(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		if id, _ := m["messageId"].(string); id != "" {
			byID[id] = m
		}
	}
	if m := byID["m-routed"]; m == nil || m["delivery_id"] != "m-routed" || m["route"] != "github" || m["conversation_id"] == nil {
		t.Errorf("routed record's line = %v, want delivery_id m-routed, route github and a conversation_id", m)
	}
	if m := byID["m-bad"]; m == nil || m["delivery_id"] != "m-bad" || m["message"] != "record rejected" {
		t.Errorf("rejected record's line = %v, want delivery_id m-bad", m)
	}
}

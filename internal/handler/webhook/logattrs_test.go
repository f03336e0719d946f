package webhook_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/internal/metrics"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// An operator finds a delivery by the sender's id and a route's trouble by
// its name: both are top-level keys of the webhook's log lines, and the
// metrics of a known route carry its Route dimension.
func TestLogLinesAndMetricsNameRouteAndDelivery(t *testing.T) {
	s, emu, _ := newServer(t)
	var logs bytes.Buffer
	s.Logger = logging.New(&logs, slog.LevelInfo)
	issue := fixture(t, "github", "issues", "opened.payload.json")

	rec := metrics.New("NS", "webhook")
	ctx := metrics.NewContext(lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-attrs"}), rec)
	if resp := s.Serve(ctx, webhook.Request{Method: "POST", Route: "github", Headers: githubHeaders(t, "issues", "delivery-attrs-1", issue), Body: issue}); resp.Status != 200 {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	// TalkJS down: the failure's line names the conversation too.
	emu.AddFault(talkjstest.Fault{Status: 503})
	if resp := s.Serve(ctx, webhook.Request{Method: "POST", Route: "github", Headers: githubHeaders(t, "issues", "delivery-attrs-2", issue), Body: issue}); resp.Status < 500 {
		t.Fatalf("status %d with TalkJS failing, want 5xx", resp.Status)
	}
	// An unknown route is logged, but makes no metric of its own.
	s.Serve(ctx, webhook.Request{Method: "POST", Route: "made-up", Body: []byte("{}")})

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3: %s", len(lines), logs.String())
	}
	for i, want := range []map[string]any{
		{"route": "github", "delivery_id": "delivery-attrs-1", "function_request_id": "req-attrs"},
		{"route": "github", "delivery_id": "delivery-attrs-2", "level": "ERROR"},
		{"route": "made-up", "delivery_id": nil},
	} {
		for k, v := range want {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v: %v", i, k, lines[i][k], v, lines[i])
			}
		}
	}
	if c, _ := lines[1]["conversation_id"].(string); c == "" {
		t.Errorf("failure line has no conversation_id: %v", lines[1])
	}

	var out bytes.Buffer
	if err := rec.Flush(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Route":"github"`) || strings.Contains(out.String(), "made-up") {
		t.Errorf("metrics: want a github Route line and none for an unknown route:\n%s", out.String())
	}
}

package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
)

func invocation(ctx context.Context, id string) context.Context {
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id})
}

// Every line of an invocation carries what an operator filters on, at the
// top level, in Lambda Powertools' names.
func TestInvocationAttributes(t *testing.T) {
	t.Setenv("_X_AMZN_TRACE_ID", "Root=1-6752f0a1-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1")
	var b bytes.Buffer
	l := logging.New(&b, slog.LevelInfo)

	first := invocation(t.Context(), "req-1")
	first = logging.With(first, logging.RouteKey, "github", logging.DeliveryIDKey, "d-1", logging.ConversationIDKey, "")
	l.InfoContext(first, "one")
	l.WithGroup("g").InfoContext(logging.With(first, logging.ConversationIDKey, "conv-1"), "grouped", "n", 1)
	l.With("route", "bound").InfoContext(first, "logger sets route")
	l.InfoContext(first, "line sets route", "route", "own")

	// A later invocation in the same process is warm; its trace id comes
	// from the context aws-lambda-go fills.
	second := context.WithValue(invocation(t.Context(), "req-2"), "x-amzn-trace-id", "Root=1-6752f0a2-aaaaaaaaaaaaaaaaaaaaaaaa;Sampled=0")
	l.InfoContext(second, "two")
	l.InfoContext(t.Context(), "outside an invocation")

	got := lines(t, &b)
	if len(got) != 6 {
		t.Fatalf("%d lines, want 6: %s", len(got), b.String())
	}
	for _, tc := range []struct {
		name string
		line int
		want map[string]any
	}{
		{"first line", 0, map[string]any{
			"cold_start": true, "function_request_id": "req-1", "requestId": "req-1",
			"xray_trace_id": "1-6752f0a1-0123456789abcdef01234567",
			"route":         "github", "delivery_id": "d-1", "conversation_id": nil,
		}},
		{"grouped line keeps them top-level", 1, map[string]any{"route": "github", "conversation_id": "conv-1", "cold_start": true}},
		{"logger's own route wins", 2, map[string]any{"route": "bound", "delivery_id": "d-1"}},
		{"line's own route wins", 3, map[string]any{"route": "own"}},
		{"warm invocation", 4, map[string]any{
			"cold_start": false, "function_request_id": "req-2",
			"xray_trace_id": "1-6752f0a2-aaaaaaaaaaaaaaaaaaaaaaaa", "route": nil,
		}},
		{"no invocation", 5, map[string]any{"cold_start": nil, "function_request_id": nil, "xray_trace_id": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := got[tc.line]
			for k, want := range tc.want {
				if m[k] != want {
					t.Errorf("%s = %#v, want %#v (line %v)", k, m[k], want, m)
				}
			}
		})
	}
	// One key once: a duplicate JSON key is ambiguous to Logs Insights.
	for i, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if n := strings.Count(line, `"route":`); n > 1 {
			t.Errorf("line %d has route %d times: %s", i, n, line)
		}
	}
}

// Attributes put in the context are redacted like any other.
func TestContextAttributesAreRedacted(t *testing.T) {
	var b bytes.Buffer
	l := logging.New(&b, slog.LevelInfo, func() []string { return []string{"hush-hush-value"} })
	l.InfoContext(logging.With(t.Context(), "note", "was hush-hush-value"), "x")
	if strings.Contains(b.String(), "hush-hush-value") || !strings.Contains(b.String(), logging.Redacted) {
		t.Errorf("context attribute not redacted: %s", b.String())
	}
}

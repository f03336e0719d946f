package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
)

const key = "sk_live_supersecret123"

func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

type payload struct {
	Token string
	N     int
}

func TestRedaction(t *testing.T) {
	secrets := func() []string { return []string{key, "whsec_hook", ""} }
	tests := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"message", func(l *slog.Logger) { l.Info("using key " + key) }},
		{"string attr", func(l *slog.Logger) { l.Info("x", "auth", "Bearer "+key) }},
		{"error attr", func(l *slog.Logger) { l.Error("x", "error", fmt.Errorf("talkjs: 401 for %s", key)) }},
		{"struct attr", func(l *slog.Logger) { l.Info("x", "payload", payload{Token: "whsec_hook", N: 1}) }},
		{"map attr", func(l *slog.Logger) { l.Info("x", "headers", map[string]string{"Authorization": "Bearer " + key}) }},
		{"group attr", func(l *slog.Logger) { l.Info("x", slog.Group("req", slog.String("auth", key))) }},
		{"bound attr", func(l *slog.Logger) { l.With("auth", key).Info("x") }},
		{"bound in group", func(l *slog.Logger) { l.WithGroup("g").With("auth", key).Info("x", "more", key) }},
		{"attr key", func(l *slog.Logger) { l.Info("x", key, 1) }},
		{"log valuer", func(l *slog.Logger) { l.Info("x", "v", valuer{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.log(logging.New(&b, slog.LevelDebug, secrets))
			out := b.String()
			if strings.Contains(out, key) || strings.Contains(out, "whsec_hook") {
				t.Errorf("secret in log: %s", out)
			}
			if !strings.Contains(out, logging.Redacted) {
				t.Errorf("nothing redacted: %s", out)
			}
			lines(t, &b)
		})
	}
}

type valuer struct{}

func (valuer) LogValue() slog.Value { return slog.StringValue("key=" + key) }

func TestOverlappingSecretsAreRedactedWhole(t *testing.T) {
	var b bytes.Buffer
	logging.New(&b, slog.LevelInfo, func() []string { return []string{"abc", "abcdef-long"} }).Info("x", "v", "abcdef-long")
	if strings.Contains(b.String(), "def-long") {
		t.Errorf("part of the longer secret left: %s", b.String())
	}
}

func TestSecretsAreReadPerRecord(t *testing.T) {
	var mu sync.Mutex
	var known []string
	secrets := func() []string { mu.Lock(); defer mu.Unlock(); return known }
	var b bytes.Buffer
	l := logging.New(&b, slog.LevelInfo, secrets).With("bound", "rotated-key-2")
	l.Info("before")
	mu.Lock()
	known = []string{"rotated-key-2"}
	mu.Unlock()
	l.Info("after")
	got := lines(t, &b)
	if got[0]["bound"] != "rotated-key-2" || got[1]["bound"] != logging.Redacted {
		t.Errorf("bound attr before/after the secret became known: %v / %v", got[0]["bound"], got[1]["bound"])
	}
}

func TestRequestIDAndFormat(t *testing.T) {
	var b bytes.Buffer
	l := logging.New(&b, slog.LevelInfo)
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
	l.InfoContext(ctx, "sent", "conversationId", "c1")
	l.WithGroup("dispatch").InfoContext(ctx, "grouped", "n", 2)
	l.InfoContext(t.Context(), "outside an invocation")
	l.DebugContext(ctx, "below the level")

	got := lines(t, &b)
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3 (debug filtered): %s", len(got), b.String())
	}
	for i, m := range got[:2] {
		if m[logging.RequestIDKey] != "req-123" {
			t.Errorf("line %d: requestId = %v, want req-123 at the top level", i, m[logging.RequestIDKey])
		}
		if m["level"] != "INFO" || m["timestamp"] == nil || m["message"] == nil {
			t.Errorf("line %d lacks Lambda's JSON fields: %v", i, m)
		}
	}
	if g, ok := got[1]["dispatch"].(map[string]any); !ok || g["n"] != 2.0 {
		t.Errorf("group lost: %v", got[1])
	}
	if _, ok := got[2][logging.RequestIDKey]; ok {
		t.Errorf("requestId without a Lambda context: %v", got[2])
	}
}

func TestNoSecretsLeavesValuesAlone(t *testing.T) {
	var b bytes.Buffer
	err := errors.New("boom")
	logging.New(&b, slog.LevelInfo).Info("m", "error", err, "n", 3, "p", payload{Token: "t"})
	m := lines(t, &b)[0]
	if m["error"] != "boom" || m["n"] != 3.0 {
		t.Errorf("values changed: %v", m)
	}
	if p, ok := m["p"].(map[string]any); !ok || p["Token"] != "t" {
		t.Errorf("struct no longer JSON: %v", m["p"])
	}
}

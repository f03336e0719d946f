package logging_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
)

// BenchmarkOutcomeLine is the cost of one outcome log line with redaction of
// a key and two webhook secrets.
func BenchmarkOutcomeLine(b *testing.B) {
	secrets := func() []string { return []string{"sk_live_0123456789abcdef", "gh-secret", "whsec_abc"} }
	l := logging.New(io.Discard, slog.LevelInfo, secrets).With("function", "queue")
	ctx := lambdacontext.NewContext(b.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	b.ReportAllocs()
	for b.Loop() {
		l.InfoContext(ctx, "sent", "conversationId", "order-1042", "messageIds", []string{"msg_1", "msg_2"}, "status", 200)
	}
}

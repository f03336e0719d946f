package schedule_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// newBS is newHandler with the conversation the bad inputs name.
func newBS(t *testing.T) (*schedule.Handler, *talkjstest.Emulator) {
	t.Helper()
	h, emu := newHandler(t)
	seed(emu, "bs-1", "github")
	return h, emu
}

// TestBadScheduleInput: inputs that name nothing sensible to do fail with
// ErrInvalidInput and a reason, before TalkJS is called.
func TestBadScheduleInput(t *testing.T) {
	const at = `"scheduledTime":"2026-11-25T09:00:00Z"`
	tests := []struct {
		name   string
		input  string
		reason string
	}{
		{"not JSON", `{"reminder":`, "unexpected EOF"},
		{"empty input", ``, "EOF"},
		{"JSON array", `[{"reminder":"standup"}]`, "cannot unmarshal array"},
		{"JSON string", `"standup"`, "cannot unmarshal string"},
		{"JSON number", `7`, "cannot unmarshal number"},
		{"empty object", `{}`, "give {\"reminder\""},
		{"null", `null`, "give {\"reminder\""},
		{"unknown reminder", `{"reminder":"no-such-reminder",` + at + `}`, "no reminder named \"no-such-reminder\""},
		{"reminder name wrong case", `{"reminder":"Standup",` + at + `}`, "no reminder named"},
		{"reminder not a string", `{"reminder":["standup"],` + at + `}`, "cannot unmarshal array"},
		{"unknown field", `{"reminder":"standup","remind_at":"9am",` + at + `}`, "unknown field \"remind_at\""},
		{"field name typo", `{"remnder":"standup",` + at + `}`, "unknown field \"remnder\""},
		{"bad time", `{"reminder":"standup","scheduledTime":"tomorrow at nine"}`, "not RFC 3339"},
		{"time without zone", `{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00"}`, "not RFC 3339"},
		{"unfilled Scheduler placeholder", `{"reminder":"standup","scheduledTime":"<aws.scheduler.scheduled-time>"}`, "not RFC 3339"},
		{"bad event time", `{"detail-type":"Scheduled Event","time":"2026-13-45T99:00:00Z","resources":["arn:aws:events:us-east-1:123456789012:rule/standup"]}`, "not RFC 3339"},
		{"no time and no request id", `{"reminder":"standup"}`, "no scheduled time"},
		{"rule with no reminder", `{"detail-type":"Scheduled Event","time":"2026-11-25T09:00:00Z","resources":["arn:aws:events:us-east-1:123456789012:rule/nightly"]}`, "no reminder has schedule \"nightly\""},
		{"scheduled event without resources", `{"detail-type":"Scheduled Event","time":"2026-11-25T09:00:00Z"}`, "no reminder has schedule"},
		{"inline without text", `{"conversationIds":["bs-1"],` + at + `}`, "needs conversationIds and text"},
		{"inline without conversations", `{"text":"Standup!",` + at + `}`, "needs conversationIds and text"},
		{"inline with an empty list", `{"conversationIds":[],"text":"Standup!",` + at + `}`, "needs conversationIds and text"},
		{"inline UserMessage without sender", `{"conversationIds":["bs-1"],"text":"x","type":"UserMessage",` + at + `}`, "needs a sender"},
		{"inline SystemMessage with sender", `{"conversationIds":["bs-1"],"text":"x","sender":"bot",` + at + `}`, "has no sender"},
		{"inline custom not strings", `{"conversationIds":["bs-1"],"text":"x","custom":{"n":1},` + at + `}`, "cannot unmarshal number"},
		// Issue 14.7: the ids rule of the webhook, before any request.
		{"inline id .", `{"conversationIds":["bs-1","."],"text":"x",` + at + `}`, "conversationIds[1]"},
		{"inline id ..", `{"conversationIds":[".."],"text":"x",` + at + `}`, "path segment"},
		{"inline id with a slash", `{"conversationIds":["a/b"],"text":"x",` + at + `}`, "'/'"},
		{"inline id with NUL", `{"conversationIds":["a\u0000b"],"text":"x",` + at + `}`, "conversationIds[0]"},
		{"inline id too long", `{"conversationIds":["` + strings.Repeat("a", 256) + `"],"text":"x",` + at + `}`, "at most 255"},
		{"inline empty id", `{"conversationIds":[""],"text":"x",` + at + `}`, "empty"},
		{"inline sender ..", `{"conversationIds":["bs-1"],"text":"x","type":"UserMessage","sender":"..",` + at + `}`, "sender"},
		// Issue 14.8: the inline part was silently dropped.
		{"reminder and inline text", `{"reminder":"standup","text":"x",` + at + `}`, "not both"},
		{"reminder and inline ids", `{"reminder":"standup","conversationIds":["bs-1"],` + at + `}`, "not both"},
		{"deeply nested", strings.Repeat(`{"detail":`, 20_000) + "1" + strings.Repeat("}", 20_000), "exceeded max depth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, emu := newBS(t)
			// With a request id, a missing time is not the first thing wrong.
			ctx := t.Context()
			if tt.name != "no time and no request id" {
				ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-bs"})
			}
			sum, err := h.Handle(ctx, json.RawMessage(tt.input))
			if !errors.Is(err, schedule.ErrInvalidInput) {
				t.Fatalf("error %v (summary %+v), want ErrInvalidInput", err, sum)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if n := emu.Counts().Requests; n != 0 {
				t.Errorf("TalkJS got %d requests for an invalid input", n)
			}
		})
	}
}

// TestQuestionableScheduleInput holds inputs the handler once accepted
// (found by this suite): each must now be refused as input.
func TestQuestionableScheduleInput(t *testing.T) {
	const at = `"scheduledTime":"2026-11-25T09:00:00Z"`
	tests := []struct {
		name, input, finding string
	}{
		{"data after the input", `{"reminder":"standup",` + at + `} {"reminder":"github-weekly"}`,
			"Handle decodes the first JSON value and ignores what follows"},
		{"inline type unknown", `{"conversationIds":["bs-1"],"text":"x","type":"Broadcast",` + at + `}`,
			"an inline type other than UserMessage/SystemMessage reaches TalkJS instead of being refused as input"},
		{"inline empty conversation id", `{"conversationIds":[""],"text":"x",` + at + `}`,
			"an empty conversation id is not refused as input; the client's ErrInvalidRequest is classified as Retry, so Lambda retries a hopeless invocation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, emu := newBS(t)
			ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-bs"})
			sum, err := h.Handle(ctx, json.RawMessage(tt.input))
			if errors.Is(err, schedule.ErrInvalidInput) {
				if n := emu.Counts().Requests; n != 0 {
					t.Errorf("refused, but only after %d TalkJS requests", n)
				}
				return
			}
			t.Errorf("not refused: %s (summary %+v, error %v, %d TalkJS requests)", tt.finding, sum, err, emu.Counts().Requests)
		})
	}
}

// TestScheduleInputNeverPanics runs hostile inputs through Handle: each
// returns (an error or a summary) rather than crashing the runtime.
func TestScheduleInputNeverPanics(t *testing.T) {
	h, _ := newBS(t)
	for _, in := range []string{
		`{"reminder":"standup","scheduledTime":"9999-12-31T23:59:59Z"}`,
		`{"reminder":"standup","scheduledTime":"0001-01-01T00:00:00Z"}`,
		`{"reminder":"standup","scheduledTime":"2026-11-25T09:00:00+23:59"}`,
		`{"detail-type":"Scheduled Event","time":"2026-11-25T09:00:00Z","resources":["/"]}`,
		`{"detail-type":"Scheduled Event","time":"2026-11-25T09:00:00Z","resources":[""]}`,
		`{"conversationIds":["` + strings.Repeat("x", 10_000) + `"],"text":"x","scheduledTime":"2026-11-25T09:00:00Z"}`,
		`{"conversationIds":["a/../b"],"text":"x","scheduledTime":"2026-11-25T09:00:00Z"}`,
		`{"detail":{"a":[1,2,{"b":null}]},"reminder":"standup","scheduledTime":"2026-11-25T09:00:00Z"}`,
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("input %.60q panicked: %v", in, r)
				}
			}()
			_, _ = h.Handle(t.Context(), json.RawMessage(in))
		}()
	}
}

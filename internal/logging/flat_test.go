package logging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// TestFlatHandlerWritesLikeWithAttrs: a JSON handler's lines are the same
// bytes whether the bound and invocation attributes go through WithAttrs
// (the general path) or into the record (flat), with and without secrets,
// groups, context attributes and keys bound twice.
func TestFlatHandlerWritesLikeWithAttrs(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	rec := func(msg string, args ...any) slog.Record {
		r := slog.NewRecord(at, slog.LevelInfo, msg, 0)
		r.Add(args...)
		return r
	}
	lctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	lctx = context.WithValue(lctx, traceHeaderKey, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
	tests := []struct {
		name string
		ctx  context.Context
		log  func(ctx context.Context, h slog.Handler) error
	}{
		{"plain", t.Context(), func(ctx context.Context, h slog.Handler) error {
			return h.Handle(ctx, rec("x", "a", 1, "b", "two"))
		}},
		{"invocation", lctx, func(ctx context.Context, h slog.Handler) error {
			return h.Handle(ctx, rec("x", "a", 1))
		}},
		{"context attrs and bound ones", With(With(lctx, RouteKey, "github"), DeliveryIDKey, "d-1", ConversationIDKey, ""), func(ctx context.Context, h slog.Handler) error {
			h = h.WithAttrs([]slog.Attr{slog.String("event", "issues.opened"), slog.String("route", "bound")})
			return h.Handle(ctx, rec("webhook queued", "conversationId", "c", "queueMessageId", "m", "delivery_id", "own"))
		}},
		{"secrets everywhere", With(lctx, "auth", "Bearer sk_test_secret"), func(ctx context.Context, h slog.Handler) error {
			h = h.WithAttrs([]slog.Attr{slog.String("k", "sk_test_secret"), slog.Group("g", slog.String("x", "whsec_1"))})
			return h.Handle(ctx, rec("using sk_test_secret", "err", errors.New("401 for whsec_1"), "list", []string{"sk_test_secret"}, "n", 3))
		}},
		{"group bound", lctx, func(ctx context.Context, h slog.Handler) error {
			h = h.WithAttrs([]slog.Attr{slog.String("a", "1")}).WithGroup("g").WithAttrs([]slog.Attr{slog.String("b", "2")})
			return h.Handle(ctx, rec("x", "c", 3))
		}},
		{"empty group and time key", lctx, func(ctx context.Context, h slog.Handler) error {
			h = h.WithAttrs([]slog.Attr{slog.Group("empty"), slog.Time("time", at)})
			return h.Handle(ctx, rec("x", slog.Group("e"), "level", "own"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out [2]bytes.Buffer
			for i, flat := range []bool{false, true} {
				inner := slog.NewJSONHandler(&out[i], &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: replaceAttr}) // as New builds it
				h := &handler{inner: inner, secrets: []func() []string{func() []string { return []string{"sk_test_secret", "whsec_1"} }},
					cold: &coldStart{}, getenv: func(string) string { return "" }, flat: flat}
				if err := tt.log(tt.ctx, h); err != nil {
					t.Fatal(err)
				}
			}
			if out[0].String() != out[1].String() {
				t.Errorf("flat handler wrote\n%s\nthe general path\n%s", out[1].String(), out[0].String())
			}
			if out[0].Len() == 0 {
				t.Error("nothing written")
			}
		})
	}
}

// checkWithStrings: withStrings gives the attributes withRecord gives.
func checkWithStrings(t testing.TB, prev []slog.Attr, args []any) {
	t.Helper()
	want := withRecord(prev, args)
	got, changed, ok := withStrings(prev, args)
	if !ok {
		return
	}
	if !changed {
		got = prev
	}
	if len(got) != len(want) {
		t.Fatalf("With(%v, %v): withStrings %v, withRecord %v", prev, args, got, want)
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			t.Fatalf("With(%v, %v): withStrings %v, withRecord %v", prev, args, got, want)
		}
	}
}

func TestWithStringsMatchesRecord(t *testing.T) {
	ab := []slog.Attr{slog.String("a", "1"), slog.String("b", "2")}
	tests := []struct {
		name string
		prev []slog.Attr
		args []any
		ok   bool
	}{
		{"new key", ab, []any{"c", "3"}, true},
		{"same value last", ab, []any{"b", "2"}, true},
		{"same value not last", ab, []any{"a", "1"}, true},
		{"new value", ab, []any{"b", "9"}, true},
		{"empty value", ab, []any{"a", ""}, true},
		{"two pairs", nil, []any{"route", "github", "conversation_id", ""}, true},
		{"repeated key", ab, []any{"c", "1", "c", "2"}, true},
		{"same value twice", []slog.Attr{slog.String("a", "1"), slog.String("a", "1")}, []any{"a", "1"}, true},
		{"int value", ab, []any{"a", 1}, false},
		{"attr", ab, []any{slog.String("a", "x")}, false},
		{"odd", ab, []any{"a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, ok := withStrings(tt.prev, tt.args); ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			checkWithStrings(t, tt.prev, tt.args)
		})
	}
}

func FuzzWithStrings(f *testing.F) {
	f.Add("a", "1", "b", "2", "a", "1")
	f.Add("a", "1", "a", "", "a", "2")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		prev := withRecord(nil, []any{k1, v1, k2, v2})
		checkWithStrings(t, prev, []any{k3, v3})
		checkWithStrings(t, prev, []any{k3, v3, k1, v2})
		checkWithStrings(t, nil, []any{k1, v1, k2, v2, k3, v3})
	})
}

// TestReplaceAttrWritesLevelsAsBefore: every level, the custom ones too,
// is written as lambdacontext.ReplaceAttr alone writes it.
func TestReplaceAttrWritesLevelsAsBefore(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, l := range []slog.Level{slog.LevelDebug - 4, slog.LevelDebug, slog.LevelInfo, slog.LevelInfo + 2, slog.LevelWarn, slog.LevelError, slog.LevelError + 8} {
		var got, want bytes.Buffer
		for _, c := range []struct {
			w  *bytes.Buffer
			fn func([]string, slog.Attr) slog.Attr
		}{{&got, replaceAttr}, {&want, lambdacontext.ReplaceAttr}} {
			h := slog.NewJSONHandler(c.w, &slog.HandlerOptions{Level: slog.LevelDebug - 8, ReplaceAttr: c.fn})
			r := slog.NewRecord(at, l, "m", 0)
			r.AddAttrs(slog.Any("level", l), slog.Group("g", slog.Any("level", l)))
			if err := h.Handle(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		if got.String() != want.String() {
			t.Errorf("level %v: wrote\n%s\nlambdacontext.ReplaceAttr alone\n%s", l, got.String(), want.String())
		}
	}
}

package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Redacted replaces a secret wherever it appears.
const Redacted = "[REDACTED]"

// RequestIDKey is the attribute holding the Lambda request id, as
// lambdacontext's own handler names it.
const RequestIDKey = "requestId"

// New returns a JSON logger writing to w at level and above. Each secrets
// function is called for every record and returns the secret values known at
// that moment (secretsource.Source.Secrets, for instance), so a key fetched or
// rotated after New is still redacted. Empty strings are ignored.
//
// lambdacontext.NewLogHandler is not used directly because it always writes
// to os.Stdout and takes its format and level from the environment; this
// handler follows it (requestId, lambdacontext.ReplaceAttr) with a writer and
// level of the caller's choosing.
func New(w io.Writer, level slog.Leveler, secrets ...func() []string) *slog.Logger {
	inner := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(NewHandler(inner, secrets...))
}

// NewHandler wraps inner with request-id injection and redaction.
func NewHandler(inner slog.Handler, secrets ...func() []string) slog.Handler {
	return &handler{inner: inner, secrets: secrets}
}

// step is one WithAttrs or WithGroup call, replayed at Handle time so that
// attributes bound early are redacted with the secrets known late.
type step struct {
	group string
	attrs []slog.Attr
}

type handler struct {
	inner   slog.Handler
	secrets []func() []string
	steps   []step
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(step{attrs: attrs})
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(step{group: name})
}

func (h *handler) with(s step) *handler {
	steps := make([]step, len(h.steps), len(h.steps)+1)
	copy(steps, h.steps)
	return &handler{inner: h.inner, secrets: h.secrets, steps: append(steps, s)}
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	red := h.redactor()
	out := h.inner
	// The request id goes in before any group, so it stays top-level.
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		out = out.WithAttrs([]slog.Attr{slog.String(RequestIDKey, lc.AwsRequestID)})
	}
	for _, s := range h.steps {
		if s.group != "" {
			out = out.WithGroup(s.group)
			continue
		}
		out = out.WithAttrs(red.attrs(s.attrs))
	}
	nr := slog.NewRecord(r.Time, r.Level, red.string(r.Message), r.PC)
	var attrs []slog.Attr
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	nr.AddAttrs(red.attrs(attrs)...)
	return out.Handle(ctx, nr)
}

// redactor replaces the secrets known when a record is handled. Most
// strings contain none, so it only searches, and replaces on a hit.
type redactor struct{ secrets []string }

func (h *handler) redactor() redactor {
	var r redactor
	for _, f := range h.secrets {
		for _, s := range f() {
			if s != "" {
				r.secrets = append(r.secrets, s)
			}
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

func (r redactor) string(s string) string {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

func (r redactor) attrs(as []slog.Attr) []slog.Attr {
	if len(r.secrets) == 0 {
		return as
	}
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = r.attr(a)
	}
	return out
}

func (r redactor) attr(a slog.Attr) slog.Attr {
	a.Key = r.string(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(r.string(v.String()))
	case slog.KindGroup:
		a.Value = slog.GroupValue(r.attrs(v.Group())...)
	case slog.KindAny:
		// Errors, structs, maps: judge them by their printed form, which
		// is what the JSON handler would show (errors by Error()).
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		default:
			s = fmt.Sprintf("%+v", x)
		}
		if red := r.string(s); red != s {
			a.Value = slog.StringValue(red)
		} else {
			a.Value = v
		}
	default:
		a.Value = v
	}
	return a
}

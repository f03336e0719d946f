package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Redacted replaces a secret wherever it appears.
const Redacted = "[REDACTED]"

// RequestIDKey is the attribute holding the Lambda request id, as
// lambdacontext's own handler names it.
const RequestIDKey = "requestId"

// Top-level keys an operator filters on, in the names Lambda Powertools
// uses, so queries written for Powertools work here too.
const (
	// ColdStartKey is true on the lines of a process's first invocation.
	ColdStartKey = "cold_start"
	// FunctionRequestIDKey is the Lambda request id (also in RequestIDKey,
	// which older queries and Lambda's own JSON lines use).
	FunctionRequestIDKey = "function_request_id"
	// XRayTraceIDKey is the invocation's X-Ray trace id (the Root of
	// _X_AMZN_TRACE_ID), to open its trace from a log line.
	XRayTraceIDKey = "xray_trace_id"
	// RouteKey is the routes file's route (webhook route, or the route a
	// queue record or reminder was mapped through).
	RouteKey = "route"
	// ConversationIDKey is the TalkJS conversation a line is about.
	ConversationIDKey = "conversation_id"
	// DeliveryIDKey is the sender's id of a webhook delivery (X-GitHub-Delivery,
	// the route's deliveryId, ...), the one a sender's delivery log shows.
	DeliveryIDKey = "delivery_id"
)

// traceHeaderKey is where aws-lambda-go puts the invocation's trace header
// in the context (a plain string key, as lambda.Start sets it).
const traceHeaderKey = "x-amzn-trace-id"

type ctxAttrsKey struct{}

// With returns ctx carrying args (key-value pairs or slog.Attrs, as
// slog.Logger.With takes them) that every line logged with ctx then
// carries at the top level. Later values replace earlier ones of the same
// key; an attribute the line sets itself wins over both. Empty strings are
// left out, so callers need not check for "not known". Pure: safe anywhere.
func With(ctx context.Context, args ...any) context.Context {
	prev, _ := ctx.Value(ctxAttrsKey{}).([]slog.Attr)
	if attrs, changed, ok := withStrings(prev, args); ok {
		if !changed {
			return ctx
		}
		return context.WithValue(ctx, ctxAttrsKey{}, attrs)
	}
	return context.WithValue(ctx, ctxAttrsKey{}, withRecord(prev, args))
}

// withRecord is With for any args, read as slog reads them.
func withRecord(prev []slog.Attr, args []any) []slog.Attr {
	r := slog.NewRecord(time.Time{}, 0, "", 0)
	r.Add(args...)
	attrs := slices.Clone(prev)
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
			return true
		}
		attrs = slices.DeleteFunc(attrs, func(b slog.Attr) bool { return b.Key == a.Key })
		attrs = append(attrs, a)
		return true
	})
	return attrs
}

// withStrings is With for args that are all string keys with string
// values (every caller's), without a slog.Record: the same attributes, and
// changed false when they are prev's (a key set again to the value it has
// last), so that ctx is kept. ok is false for other args.
func withStrings(prev []slog.Attr, args []any) (attrs []slog.Attr, changed, ok bool) {
	if len(args)%2 != 0 {
		return nil, false, false
	}
	for i := 0; i < len(args); i += 2 {
		_, kok := args[i].(string)
		_, vok := args[i+1].(string)
		if !kok || !vok {
			return nil, false, false
		}
	}
	attrs = prev
	for i := 0; i < len(args); i += 2 {
		k, v := args[i].(string), args[i+1].(string)
		if v == "" {
			continue
		}
		if n := len(attrs); n > 0 && attrs[n-1].Key == k && attrs[n-1].Value.Kind() == slog.KindString && attrs[n-1].Value.String() == v {
			if !slices.ContainsFunc(attrs[:n-1], func(a slog.Attr) bool { return a.Key == k }) {
				continue
			}
		}
		if !changed {
			attrs = slices.Clone(prev)
			changed = true
		}
		j := 0
		for _, a := range attrs {
			if a.Key != k {
				attrs[j] = a
				j++
			}
		}
		attrs = append(attrs[:j], slog.String(k, v))
	}
	return attrs, changed, true
}

// Attrs returns the attributes With put in ctx.
func Attrs(ctx context.Context) []slog.Attr {
	a, _ := ctx.Value(ctxAttrsKey{}).([]slog.Attr)
	return a
}

// coldStart remembers the first invocation a process served: its lines
// say cold_start true, every later one's false.
type coldStart struct {
	mu    sync.Mutex
	first string
}

func (c *coldStart) is(requestID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first == "" {
		c.first = requestID
	}
	return c.first == requestID
}

// traceID returns the Root of an X-Ray trace header
// ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;Sampled=1").
func traceID(header string) string {
	for part := range strings.SplitSeq(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return ""
}

// New returns a JSON logger writing to w at level and above. Each secrets
// function is called for every record and returns the secret values known at
// that moment (secretsource.Source.Secrets, for instance), so a key fetched or
// rotated after New is still redacted. Empty strings are ignored.
//
// lambdacontext.NewLogHandler is not used directly because it always writes
// to os.Stdout and takes its format and level from the environment; this
// handler follows it (requestId, lambdacontext.ReplaceAttr) with a writer and
// level of the caller's choosing.
//
// Lines logged with a Lambda context carry cold_start, function_request_id
// and xray_trace_id at the top level, and every line the attributes With put
// in its context.
func New(w io.Writer, level slog.Leveler, secrets ...func() []string) *slog.Logger {
	inner := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replaceAttr})
	h := &handler{inner: inner, secrets: secrets, cold: &coldStart{}, getenv: os.Getenv, flat: true}
	return slog.New(h)
}

// replaceAttr is lambdacontext.ReplaceAttr with the level as a string
// value: with a ReplaceAttr set, the JSON handler hands it the level as an
// any, which it writes through encoding/json (Level.MarshalJSON, the
// quoted String); as a string it writes the same bytes directly.
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	a = lambdacontext.ReplaceAttr(groups, a)
	if len(groups) == 0 && a.Key == slog.LevelKey && a.Value.Kind() == slog.KindAny {
		if l, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(l.String())
		}
	}
	return a
}

// NewHandler wraps inner with request-id injection and redaction.
func NewHandler(inner slog.Handler, secrets ...func() []string) slog.Handler {
	return &handler{inner: inner, secrets: secrets, cold: &coldStart{}, getenv: os.Getenv}
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
	cold    *coldStart
	getenv  func(string) string
	// flat is set when inner is a JSON handler: a line with no group
	// bound is then one record holding the invocation's, the bound and the
	// line's attributes, in that order, which that handler writes as it
	// writes them bound with WithAttrs, without a copy of the handler per
	// WithAttrs (about a sixth of a webhook answer's logging).
	flat bool
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
	return &handler{inner: h.inner, secrets: h.secrets, steps: append(steps, s), cold: h.cold, getenv: h.getenv, flat: h.flat}
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	red := h.redactor()
	if h.flat && !slices.ContainsFunc(h.steps, func(s step) bool { return s.group != "" }) {
		top := h.invocationAttrs(ctx, r)
		n := len(top) + r.NumAttrs()
		for _, s := range h.steps {
			n += len(s.attrs)
		}
		attrs := make([]slog.Attr, 0, n)
		attrs = append(attrs, red.attrs(top)...)
		for _, s := range h.steps {
			attrs = append(attrs, red.attrs(s.attrs)...)
		}
		start := len(attrs)
		r.Attrs(func(a slog.Attr) bool {
			attrs = append(attrs, a)
			return true
		})
		if len(red.secrets) > 0 {
			for i := start; i < len(attrs); i++ {
				attrs[i] = red.attr(attrs[i])
			}
		}
		nr := slog.NewRecord(r.Time, r.Level, red.string(r.Message), r.PC)
		nr.AddAttrs(attrs...)
		return h.inner.Handle(ctx, nr)
	}
	out := h.inner
	// The invocation's attributes go in before any group, so they stay
	// top-level; one the logger or the line sets itself wins.
	if top := h.invocationAttrs(ctx, r); len(top) > 0 {
		out = out.WithAttrs(red.attrs(top))
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

// invocationAttrs are the request id, cold start and trace id of the
// invocation in ctx, then the attributes With put in ctx, less those whose
// key the logger's top-level attributes or the record have.
func (h *handler) invocationAttrs(ctx context.Context, r slog.Record) []slog.Attr {
	var top []slog.Attr
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		top = append(top,
			slog.String(RequestIDKey, lc.AwsRequestID),
			slog.String(FunctionRequestIDKey, lc.AwsRequestID),
			slog.Bool(ColdStartKey, h.cold.is(lc.AwsRequestID)))
		header, _ := ctx.Value(traceHeaderKey).(string)
		if header == "" && h.getenv != nil {
			header = h.getenv("_X_AMZN_TRACE_ID")
		}
		if id := traceID(header); id != "" {
			top = append(top, slog.String(XRayTraceIDKey, id))
		}
	}
	extra := Attrs(ctx)
	if len(extra) == 0 {
		return top
	}
	own := map[string]bool{}
	for _, s := range h.steps {
		if s.group != "" {
			break
		}
		for _, a := range s.attrs {
			own[a.Key] = true
		}
	}
	if !slices.ContainsFunc(h.steps, func(s step) bool { return s.group != "" }) {
		r.Attrs(func(a slog.Attr) bool {
			own[a.Key] = true
			return true
		})
	}
	for _, a := range extra {
		if !own[a.Key] {
			top = append(top, a)
		}
	}
	return top
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

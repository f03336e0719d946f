package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"
	"github.com/aws/smithy-go/middleware"
)

// TalkJSSubsegment is the name of the subsegment of each TalkJS call, which
// is also the node's name in the X-Ray service map.
const TalkJSSubsegment = "TalkJS"

// Annotation keys on TalkJS subsegments (searchable in X-Ray).
const (
	AnnotationConversationID = "conversation_id"
	AnnotationStatus         = "status"
)

// Active reports whether ctx carries a trace: a segment, or the non-empty
// Lambda trace header that aws-lambda-go puts in every invocation context.
func Active(ctx context.Context) bool {
	if xray.SdkDisabled() {
		return false
	}
	if xray.GetSegment(ctx) != nil {
		return true
	}
	h, _ := ctx.Value(xray.LambdaTraceHeaderKey).(string)
	return strings.Contains(h, "Root=")
}

// Setup configures the X-Ray SDK for the process: a missing context is
// ignored rather than logged, and the SDK's own log lines at warn level and
// above go to logger (nil discards them). The daemon address is the SDK's:
// AWS_XRAY_DAEMON_ADDRESS, read when the SDK loads. Call it once from main
// before any goroutine uses tracing: the SDK's logger is a plain global.
func Setup(logger *slog.Logger) error {
	xray.SetLogger(sdkLogger{logger})
	// AWS_XRAY_CONTEXT_MISSING, when set (Lambda sets LOG_ERROR), still wins
	// inside the SDK; the Active guards keep that from mattering.
	if err := xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()}); err != nil {
		return fmt.Errorf("tracing: configuring X-Ray: %w", err)
	}
	return nil
}

// sdkLogger forwards the SDK's warnings and errors to slog. Its debug lines
// (whole segment documents) and info lines (emitter address) are dropped.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	if s.l == nil || level < xraylog.LogLevelWarn {
		return
	}
	lvl := slog.LevelWarn
	if level >= xraylog.LogLevelError {
		lvl = slog.LevelError
	}
	s.l.Log(context.Background(), lvl, "x-ray: "+msg.String())
}

// Daemon sends the segments of the contexts it marks to one daemon address,
// instead of the process-wide one. Tests use it to listen on their own port
// without touching the SDK's globals.
type Daemon struct {
	cfg *xray.Config
}

// NewDaemon returns a Daemon for addr ("host:port", UDP). Unlike the SDK's
// own parsing, AWS_XRAY_DAEMON_ADDRESS does not override addr.
func NewDaemon(addr string) (*Daemon, error) {
	udp, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("tracing: X-Ray daemon address %q is not host:port: %w", addr, err)
	}
	em, err := xray.NewDefaultEmitter(udp)
	if err != nil {
		return nil, fmt.Errorf("tracing: X-Ray emitter for %q: %w", addr, err)
	}
	return &Daemon{cfg: &xray.Config{
		DaemonAddr:             addr,
		Emitter:                em,
		ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy(),
	}}, nil
}

// Context returns ctx whose segments go to the daemon.
func (d *Daemon) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, xray.RecorderContextKey{}, d.cfg)
}

// Record runs fn in a subsegment named name (one SQS record, one reminder)
// and records fn's error on it. Without a trace it just calls fn. It adds
// nothing to fn's retry safety.
func Record(ctx context.Context, name string, fn func(ctx context.Context) error) (err error) {
	if !Active(ctx) {
		return fn(ctx)
	}
	sctx, seg := xray.BeginSubsegment(ctx, name)
	if seg == nil {
		return fn(ctx)
	}
	defer func() {
		if p := recover(); p != nil {
			seg.Close(fmt.Errorf("panic: %v", p))
			panic(p)
		}
		seg.Close(err)
	}()
	return fn(sctx)
}

// Annotate adds a searchable annotation (string, number or bool) to the
// current subsegment, if there is one.
func Annotate(ctx context.Context, key string, value any) {
	if !Active(ctx) {
		return
	}
	if seg := xray.GetSegment(ctx); seg != nil {
		_ = seg.AddAnnotation(key, value)
	}
}

// InstrumentAWS makes every client built from cfg record a subsegment per
// call (named after the service, e.g. "Secrets Manager"). Calls made without
// a trace skip the SDK's context-missing handling, so they log nothing.
func InstrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, addGuard)
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
}

var ignoreMissing = &xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()}

// addGuard runs before X-Ray's middleware. Without a trace it hides an empty
// Lambda trace header (from which the SDK would build a facade segment with
// no trace id) and, unless the context has a recorder, tells the SDK to
// ignore the missing segment.
func addGuard(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("TalkJSBridgeXRayGuard", func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
	) (middleware.InitializeOutput, middleware.Metadata, error) {
		if !Active(ctx) {
			if ctx.Value(xray.LambdaTraceHeaderKey) != nil {
				ctx = context.WithValue(ctx, xray.LambdaTraceHeaderKey, nil) //nolint:staticcheck // the SDK's own key
			}
			if xray.GetRecorder(ctx) == nil {
				ctx = context.WithValue(ctx, xray.RecorderContextKey{}, ignoreMissing)
			}
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.Before)
}

// HTTPClient returns a copy of base (nil means http.DefaultClient) whose
// transport records each request as a TalkJS subsegment. Pass it to
// talkjs.WithHTTPClient.
func HTTPClient(base *http.Client) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	c.Transport = Transport(base.Transport)
	return &c
}

// Transport wraps base (nil means http.DefaultTransport) so each request
// made with a traced context is a subsegment named TalkJSSubsegment,
// annotated with the conversation id from the path and the response status.
// It does not send a trace header to TalkJS.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct{ base http.RoundTripper }

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	if !Active(ctx) {
		return t.base.RoundTrip(r)
	}
	_, seg := xray.BeginSubsegment(ctx, TalkJSSubsegment)
	if seg == nil {
		return t.base.RoundTrip(r)
	}
	seg.Lock()
	seg.Namespace = "remote"
	req := seg.GetHTTP().GetRequest()
	req.Method = r.Method
	// Path only: the query (listing cursors) adds nothing and could grow.
	req.URL = (&urlNoQuery{r}).String()
	seg.Unlock()
	if id := ConversationID(r.URL.EscapedPath()); id != "" {
		_ = seg.AddAnnotation(AnnotationConversationID, id)
	}

	resp, err := t.base.RoundTrip(r)
	if err != nil {
		// A timeout or a dropped connection is a fault, like a 5xx.
		seg.Lock()
		seg.Fault = true
		seg.Unlock()
		cause := err
		if inner := errors.Unwrap(err); inner != nil {
			cause = inner // the *url.Error wrapper repeats the URL already recorded
		}
		seg.Close(cause)
		return nil, err
	}
	_ = seg.AddAnnotation(AnnotationStatus, resp.StatusCode)
	xray.HttpCaptureResponse(seg, resp.StatusCode)
	seg.Close(nil)
	return resp, nil
}

type urlNoQuery struct{ r *http.Request }

func (u *urlNoQuery) String() string {
	c := *u.r.URL
	c.RawQuery, c.Fragment, c.User = "", "", nil
	return c.String()
}

// ConversationID returns the conversation id in a TalkJS API path
// (/v1/{appId}/conversations/{id}/...), unescaped, or "".
func ConversationID(escapedPath string) string {
	parts := strings.Split(strings.Trim(escapedPath, "/"), "/")
	if len(parts) < 4 || parts[0] != "v1" || parts[2] != "conversations" || parts[3] == "" {
		return ""
	}
	id, err := url.PathUnescape(parts[3])
	if err != nil {
		return ""
	}
	return id
}

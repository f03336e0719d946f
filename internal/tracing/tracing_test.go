package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/secretsource"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"

	"github.com/talkjs-bridge/talkjs-bridge/internal/secretscan"
)

// sdkLogs receives everything the X-Ray SDK logs at warn and above, for the
// whole test binary: the SDK's logger is a global that may only be set
// before goroutines start.
var sdkLogs secretscan.Buffer

func TestMain(m *testing.M) {
	xray.SetLogger(sdkLogger{slog.New(slog.NewJSONHandler(&sdkLogs, nil))})
	// The worst case for silence: the SDK's default (and Lambda's) strategy,
	// which logs every call made without a segment.
	if err := xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultLogErrorStrategy()}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

const (
	appID    = "tTraceApp"
	key      = "sk_test_tracekey000000000000"
	secretID = "talkjs/trace"
	traceID  = "1-5759e988-bd862e3fe1be46a994272793"
	parentID = "53995c3f42cd8ad8"
)

func TestConversationID(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/v1/tApp/conversations/order-1042/messages", "order-1042"},
		{"/v1/tApp/conversations/order-1042", "order-1042"},
		{"/v1/tApp/conversations/a%20b/participants/u1", "a b"},
		{"/v1/tApp/conversations", ""},
		{"/v1/tApp/users/u1/conversations", ""},
		{"/v1/tApp/conversations//messages", ""},
		{"/v2/tApp/conversations/x", ""},
		{"/v1/tApp/conversations/%zz", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := ConversationID(tt.path); got != tt.want {
				t.Errorf("ConversationID(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

type env struct {
	aws    *awstest.Server
	talk   *talkjstest.Emulator
	src    *secretsource.Source
	client *talkjs.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{aws: awstest.New()}
	e.aws.SetSecret(secretID, fmt.Sprintf(`{"appId":%q,"secretKey":%q,"webhookSecrets":{"github":"gh-trace-secret"}}`, appID, key))
	awsSrv := httptest.NewServer(e.aws)
	t.Cleanup(awsSrv.Close)
	cfg := awstest.Config(awsSrv.URL)
	InstrumentAWS(&cfg)
	e.src = secretsource.NewFromConfig(cfg, secretID, secretsource.Options{})

	talkSrv, talk := talkjstest.NewServer(appID, key)
	t.Cleanup(talkSrv.Close)
	e.talk = talk
	c, err := talkjs.NewClient(appID, e.src, talkjs.WithBaseURL(talkSrv.URL), talkjs.WithHTTPClient(HTTPClient(talkSrv.Client())),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	admin, err := talkjs.NewClient(appID, talkjs.StaticKey(key), talkjs.WithBaseURL(talkSrv.URL))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"conv-a", "conv-b"} {
		if err := admin.UpsertConversation(t.Context(), id, talkjs.ConversationUpdate{}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) send(ctx context.Context, conv string, n int) error {
	_, err := e.client.SendMessages(ctx, conv, talkjs.NewMessage{Type: talkjs.SystemMessage, Text: fmt.Sprint("m", n), IdempotencyKey: fmt.Sprint(conv, n)})
	return err
}

func TestNoTraceContextIsSilent(t *testing.T) {
	sdkLogs.Reset()
	// The capture works: the SDK itself logs a subsegment begun without context.
	xray.BeginSubsegment(context.Background(), "probe")
	if !strings.Contains(sdkLogs.String(), "segment cannot be found") {
		t.Fatalf("SDK log capture does not work: %q", sdkLogs.String())
	}
	sdkLogs.Reset()

	e := newEnv(t)
	ctxs := map[string]context.Context{
		"plain":               t.Context(),
		"empty Lambda header": context.WithValue(t.Context(), xray.LambdaTraceHeaderKey, ""),
	}
	for name, ctx := range ctxs {
		t.Run(name, func(t *testing.T) {
			if Active(ctx) {
				t.Fatal("Active = true without a trace")
			}
			for i := range 3 {
				if err := e.send(ctx, "conv-a", i); err != nil {
					t.Fatal(err)
				}
			}
			e.src.Refused(ctx, key) // forces another GetSecretValue through the instrumented client
			if _, err := e.src.Key(ctx); err != nil {
				t.Fatal(err)
			}
			var ran bool
			if err := Record(ctx, "record", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
				t.Errorf("Record without trace: ran=%v err=%v", ran, err)
			}
			Annotate(ctx, "k", "v")
		})
	}
	if logs := sdkLogs.String(); logs != "" {
		t.Errorf("X-Ray SDK logged without a trace context:\n%s", logs)
	}
	if got := e.aws.Calls(awstest.GetSecretValue); got != 3 {
		t.Errorf("GetSecretValue calls = %d, want 3", got)
	}
}

// listen returns a UDP listener standing in for the X-Ray daemon.
func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

type doc struct {
	Name        string                                   `json:"name"`
	ID          string                                   `json:"id"`
	TraceID     string                                   `json:"trace_id"`
	ParentID    string                                   `json:"parent_id"`
	Type        string                                   `json:"type"`
	Namespace   string                                   `json:"namespace"`
	Fault       bool                                     `json:"fault"`
	Error       bool                                     `json:"error"`
	Annotations map[string]any                           `json:"annotations"`
	AWS         map[string]any                           `json:"aws"`
	HTTP        *struct{ Response struct{ Status int } } `json:"http"`
	Subsegments []json.RawMessage                        `json:"subsegments"`
	children    []doc
	raw         string
}

// receive reads datagrams until none arrives for a while, checks each is an
// X-Ray daemon packet, and returns the documents with nested subsegments parsed.
func receive(t *testing.T, conn *net.UDPConn) []doc {
	t.Helper()
	var docs []doc
	buf := make([]byte, 64<<10)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return docs
			}
			t.Fatal(err)
		}
		header, body, ok := strings.Cut(string(buf[:n]), "\n")
		if !ok || header != `{"format": "json", "version": 1}` {
			t.Fatalf("datagram lacks the daemon header: %q", buf[:n])
		}
		docs = append(docs, parseDoc(t, body))
	}
}

func parseDoc(t *testing.T, s string) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("segment is not JSON: %v: %s", err, s)
	}
	d.raw = s
	for _, c := range d.Subsegments {
		d.children = append(d.children, parseDoc(t, string(c)))
	}
	return d
}

// flatten lists d and all its nested subsegments.
func flatten(docs []doc) []doc {
	var out []doc
	for _, d := range docs {
		out = append(out, d)
		out = append(out, flatten(d.children)...)
	}
	return out
}

func TestSubsegmentsReachTheDaemon(t *testing.T) {
	e := newEnv(t)
	conn := listen(t)
	d, err := NewDaemon(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(t.Context(), xray.LambdaTraceHeaderKey, "Root="+traceID+";Parent="+parentID+";Sampled=1")
	ctx = d.Context(ctx)
	if !Active(ctx) {
		t.Fatal("Active = false with a Lambda trace header")
	}
	before := len(e.talk.Requests())
	e.talk.AddFault(talkjstest.Fault{ConversationID: "conv-b", Status: 503, Times: 1})

	for i := range 2 {
		if err := e.send(ctx, "conv-a", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.send(ctx, "conv-b", 0); err != nil { // a 503, then a retry that succeeds
		t.Fatal(err)
	}
	err = Record(ctx, "sqs-record m-1", func(ctx context.Context) error {
		Annotate(ctx, "message_id", "m-1")
		return e.send(ctx, "conv-a", 9)
	})
	if err != nil {
		t.Fatal(err)
	}
	sent := e.talk.Requests()[before:]
	docs := receive(t, conn)

	var talk, secrets, records []doc
	for _, x := range flatten(docs) {
		switch x.Name {
		case TalkJSSubsegment:
			talk = append(talk, x)
		case "Secrets Manager":
			secrets = append(secrets, x)
		case "sqs-record m-1":
			records = append(records, x)
		}
		if x.TraceID != "" && x.TraceID != traceID {
			t.Errorf("%s: trace_id %q, want %q", x.Name, x.TraceID, traceID)
		}
		for _, s := range []string{key, "gh-trace-secret"} {
			if strings.Contains(x.raw, s) {
				t.Errorf("secret in a trace: %s", x.raw)
			}
		}
	}
	for _, x := range docs {
		if x.Type != "subsegment" || x.ParentID != parentID {
			t.Errorf("top-level document %s: type %q parent %q, want a subsegment of the Lambda segment %s", x.Name, x.Type, x.ParentID, parentID)
		}
	}

	if len(secrets) != 1 {
		t.Errorf("%d Secrets Manager subsegments, want 1", len(secrets))
	} else if op := secrets[0].AWS["operation"]; op != "GetSecretValue" {
		t.Errorf("Secrets Manager subsegment operation = %v", op)
	}
	if len(talk) != len(sent) || len(sent) != 5 {
		t.Fatalf("%d TalkJS subsegments for %d TalkJS calls, want 5 and 5", len(talk), len(sent))
	}
	// Subsegments are emitted as they close, in call order (calls are sequential).
	for i, r := range sent {
		x := talk[i]
		if x.Annotations[AnnotationConversationID] != r.ConversationID || x.Annotations[AnnotationStatus] != float64(r.Status) {
			t.Errorf("subsegment %d annotations %v, want conversation %q status %d", i, x.Annotations, r.ConversationID, r.Status)
		}
		if x.HTTP == nil || x.HTTP.Response.Status != r.Status || x.Namespace != "remote" {
			t.Errorf("subsegment %d: http %+v namespace %q", i, x.HTTP, x.Namespace)
		}
		if x.Fault != (r.Status >= 500) {
			t.Errorf("subsegment %d: fault=%v for status %d", i, x.Fault, r.Status)
		}
	}
	if len(records) != 1 {
		t.Fatalf("%d record subsegments, want 1", len(records))
	}
	rec := records[0]
	if rec.Annotations["message_id"] != "m-1" || len(rec.children) != 1 || rec.children[0].Name != TalkJSSubsegment {
		t.Errorf("record subsegment: annotations %v children %d (want the TalkJS call nested)", rec.Annotations, len(rec.children))
	}
}

func TestRecordKeepsErrorAndPanics(t *testing.T) {
	conn := listen(t)
	d, err := NewDaemon(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx := d.Context(context.WithValue(t.Context(), xray.LambdaTraceHeaderKey, "Root="+traceID+";Parent="+parentID+";Sampled=1"))
	boom := errors.New("record failed")
	if err := Record(ctx, "failing", func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Record returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		_ = Record(ctx, "panicking", func(context.Context) error { panic("bad record") })
	}()
	docs := receive(t, conn)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	for _, x := range docs {
		if !x.Fault && !x.Error {
			t.Errorf("%s: the failure is not recorded: %s", x.Name, x.raw)
		}
	}
}

func TestUnsampledTraceSendsNothing(t *testing.T) {
	e := newEnv(t)
	conn := listen(t)
	d, err := NewDaemon(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx := d.Context(context.WithValue(t.Context(), xray.LambdaTraceHeaderKey, "Root="+traceID+";Parent="+parentID+";Sampled=0"))
	if err := e.send(ctx, "conv-a", 1); err != nil {
		t.Fatal(err)
	}
	if docs := receive(t, conn); len(docs) != 0 {
		t.Errorf("%d documents for an unsampled trace, want 0", len(docs))
	}
}

func TestNewDaemonRejectsBadAddress(t *testing.T) {
	if _, err := NewDaemon("not an address"); err == nil || !strings.Contains(err.Error(), "not host:port") {
		t.Errorf("err = %v", err)
	}
}

func TestSDKLoggerKeepsWarningsOnly(t *testing.T) {
	var b bytes.Buffer
	l := sdkLogger{slog.New(slog.NewJSONHandler(&b, nil))}
	for _, lvl := range []xraylog.LogLevel{xraylog.LogLevelDebug, xraylog.LogLevelInfo, xraylog.LogLevelWarn, xraylog.LogLevelError} {
		l.Log(lvl, stringer(lvl.String()))
	}
	out := b.String()
	if strings.Contains(out, "DEBUG") || strings.Contains(out, `"x-ray: INFO"`) || !strings.Contains(out, `"x-ray: WARN"`) || !strings.Contains(out, `"level":"ERROR"`) {
		t.Errorf("forwarded:\n%s", out)
	}
	sdkLogger{}.Log(xraylog.LogLevelError, stringer("no logger: dropped, no panic"))
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestTransportFailureIsAFault(t *testing.T) {
	conn := listen(t)
	d, err := NewDaemon(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	addr := srv.URL
	srv.Close() // nothing listens there now
	ctx := d.Context(context.WithValue(t.Context(), xray.LambdaTraceHeaderKey, "Root="+traceID+";Parent="+parentID+";Sampled=1"))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, addr+"/v1/tApp/conversations/c9/messages", nil)
	if _, err := HTTPClient(nil).Do(req); err == nil {
		t.Fatal("request to a closed server succeeded")
	}
	docs := receive(t, conn)
	if len(docs) != 1 || !docs[0].Fault || docs[0].Annotations[AnnotationConversationID] != "c9" {
		t.Fatalf("documents = %+v", docs)
	}
	if _, ok := docs[0].Annotations[AnnotationStatus]; ok {
		t.Error("a status annotation without a response")
	}
}

package talkjs

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/talkjs-bridge/talkjs-bridge/internal/tlsroots"
)

const testKey = "sk_test_SECRETvalue123"

// seen is one request as the test server received it.
type seen struct {
	Method string
	Path   string // escaped
	Query  string
	Header http.Header
	Body   []byte
}

type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (r *recorder) all() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

func (r *recorder) count() int { return len(r.all()) }

// newServer starts a server whose handler gets the 0-based request number.
func newServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		n := len(rec.reqs)
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
		rec.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

// answer writes status and body.
func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// okServer answers every request with 200 and body.
func okServer(t *testing.T, body string) (*httptest.Server, *recorder) {
	t.Helper()
	return newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { answer(w, 200, body) })
}

// statusServer answers request n with statuses[n] (the last one repeating).
func statusServer(t *testing.T, statuses ...int) (*httptest.Server, *recorder) {
	t.Helper()
	return newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		s := statuses[min(n, len(statuses)-1)]
		body := "{}"
		if s == 200 {
			body = `[{"id":"msg_1"}]`
		}
		answer(w, s, body)
	})
}

var fastRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

func newTestClient(t *testing.T, srv *httptest.Server, opts ...Option) *Client {
	t.Helper()
	return newKeyedClient(t, srv, StaticKey(testKey), opts...)
}

func newKeyedClient(t *testing.T, srv *httptest.Server, keys KeySource, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{WithBaseURL(srv.URL), WithHTTPClient(srv.Client()), WithRetryPolicy(fastRetry)}, opts...)
	c, err := NewClient("app1", keys, all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestNewClientRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name  string
		appID string
		keys  KeySource
		opts  []Option
		want  string
	}{
		{name: "empty app id", keys: StaticKey("k"), want: "app id is empty"},
		{name: "nil keys", appID: "a", want: "key source is nil"},
		{name: "ftp base", appID: "a", keys: StaticKey("k"), opts: []Option{WithBaseURL("ftp://x")}, want: "base URL"},
		{name: "no host", appID: "a", keys: StaticKey("k"), opts: []Option{WithBaseURL("http://")}, want: "base URL"},
		{name: "query in base", appID: "a", keys: StaticKey("k"), opts: []Option{WithBaseURL("http://x?y=1")}, want: "base URL"},
		{name: "unparsable base", appID: "a", keys: StaticKey("k"), opts: []Option{WithBaseURL("http://[::1")}, want: "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.appID, tt.keys, tt.opts...)
			if err == nil || c != nil {
				t.Fatalf("NewClient = %v, %v; want an error", c, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestRequestHeaders(t *testing.T) {
	tests := []struct {
		name        string
		opts        []Option
		call        func(*Client) error
		wantMethod  string
		wantBody    bool
		wantUA      string
		wantVersion string
	}{
		{
			name:       "GET has no content type",
			call:       func(c *Client) error { _, err := c.GetUser(context.Background(), "u1"); return err },
			wantMethod: "GET", wantUA: "talkjs-bridge/" + Version + " (+Go)", wantVersion: DefaultRESTVersion,
		},
		{
			name:       "PUT has a JSON body",
			call:       func(c *Client) error { return c.UpsertUser(context.Background(), "u1", UserUpdate{Name: ptr("A")}) },
			wantMethod: "PUT", wantBody: true, wantUA: "talkjs-bridge/" + Version + " (+Go)", wantVersion: DefaultRESTVersion,
		},
		{
			name:       "empty REST version sends none",
			opts:       []Option{WithRESTVersion("")},
			call:       func(c *Client) error { _, err := c.GetUser(context.Background(), "u1"); return err },
			wantMethod: "GET", wantUA: "talkjs-bridge/" + Version + " (+Go)",
		},
		{
			name:        "suffix and REST version",
			opts:        []Option{WithUserAgentSuffix("queue/1"), WithRESTVersion("2021-02-09")},
			call:        func(c *Client) error { return c.DeleteConversation(context.Background(), "c1") },
			wantMethod:  "DELETE",
			wantUA:      "talkjs-bridge/" + Version + " (+Go) queue/1",
			wantVersion: "2021-02-09",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, `{"id":"u1"}`)
			if err := tt.call(newTestClient(t, srv, tt.opts...)); err != nil {
				t.Fatal(err)
			}
			r := rec.all()[0]
			if r.Method != tt.wantMethod {
				t.Errorf("method %s, want %s", r.Method, tt.wantMethod)
			}
			if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
				t.Errorf("Authorization %q", got)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept %q", got)
			}
			if got := r.Header.Get("User-Agent"); got != tt.wantUA {
				t.Errorf("User-Agent %q, want %q", got, tt.wantUA)
			}
			if got := r.Header.Get("TalkJS-REST-Version"); got != tt.wantVersion {
				t.Errorf("TalkJS-REST-Version %q, want %q", got, tt.wantVersion)
			}
			ct := r.Header.Get("Content-Type")
			if tt.wantBody && (ct != "application/json" || len(r.Body) == 0) {
				t.Errorf("Content-Type %q with %d body bytes; want application/json and a body", ct, len(r.Body))
			}
			if !tt.wantBody && (ct != "" || len(r.Body) != 0) {
				t.Errorf("Content-Type %q with %d body bytes; want neither", ct, len(r.Body))
			}
		})
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	srv, rec := okServer(t, "{}")
	c, err := NewClient("app/1", StaticKey(testKey), WithBaseURL(srv.URL+"/"), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.JoinConversation(t.Context(), "order 1%2", "u?x#y", Participation{}); err != nil {
		t.Fatal(err)
	}
	want := "/v1/app%2F1/conversations/order%201%252/participants/u%3Fx%23y"
	if got := rec.all()[0].Path; got != want {
		t.Errorf("path %s, want %s", got, want)
	}
}

func TestStatusAloneDecidesSuccess(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr bool
	}{
		{name: "200 with an error-looking body", status: 200, body: `{"errorCode":"INVALID","reasons":["x"]}`},
		{name: "200 with an empty body", status: 200, body: ""},
		{name: "204", status: 204},
		{name: "400 with an empty object", status: 400, body: "{}", wantErr: true},
		{name: "302 is not success", status: 302, body: "{}", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { answer(w, tt.status, tt.body) })
			err := newTestClient(t, srv).UpsertUser(t.Context(), "u1", UserUpdate{})
			var apiErr *APIError
			if tt.wantErr != (err != nil) || (tt.wantErr && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.status)) {
				t.Errorf("err = %v, want error: %v with status %d", err, tt.wantErr, tt.status)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	keyed := []NewMessage{
		{Type: SystemMessage, Text: "a", IdempotencyKey: "k1"},
		{Type: SystemMessage, Text: "b", IdempotencyKey: "k2"},
	}
	mixed := []NewMessage{keyed[0], {Type: SystemMessage, Text: "b"}}
	upsert := func(c *Client) error { return c.UpsertUser(context.Background(), "u1", UserUpdate{}) }
	send := func(msgs []NewMessage) func(*Client) error {
		return func(c *Client) error { _, err := c.SendMessages(context.Background(), "c1", msgs...); return err }
	}
	tests := []struct {
		name       string
		statuses   []int
		call       func(*Client) error
		wantReqs   int
		wantStatus int // 0: want success
	}{
		{name: "503 then ok", statuses: []int{503, 200}, call: upsert, wantReqs: 2},
		{name: "429 then ok", statuses: []int{429, 200}, call: upsert, wantReqs: 2},
		{name: "500 until attempts run out", statuses: []int{500}, call: upsert, wantReqs: 4, wantStatus: 500},
		{name: "400 is permanent", statuses: []int{400, 200}, call: upsert, wantReqs: 1, wantStatus: 400},
		{name: "404 is permanent", statuses: []int{404, 200}, call: upsert, wantReqs: 1, wantStatus: 404},
		{name: "send with every key is resent", statuses: []int{502, 503, 200}, call: send(keyed), wantReqs: 3},
		{name: "send without keys is sent once", statuses: []int{503, 200}, call: send(mixed), wantReqs: 1, wantStatus: 503},
		{name: "send without keys on 429 is sent once", statuses: []int{429, 200}, call: send(mixed[1:]), wantReqs: 1, wantStatus: 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := statusServer(t, tt.statuses...)
			err := tt.call(newTestClient(t, srv))
			if got := rec.count(); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			var apiErr *APIError
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Errorf("err = %v, want success", err)
			case tt.wantStatus != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus):
				t.Errorf("err = %v, want an APIError with status %d", err, tt.wantStatus)
			}
			// A resend must carry the very same bytes, idempotency keys included.
			reqs := rec.all()
			for _, r := range reqs[1:] {
				if string(r.Body) != string(reqs[0].Body) {
					t.Errorf("resent body %s differs from first %s", r.Body, reqs[0].Body)
				}
			}
		})
	}
}

// dropFirst closes the connection without answering the first n requests.
func dropFirst(t *testing.T, n int) (*httptest.Server, *recorder) {
	t.Helper()
	return newServer(t, func(w http.ResponseWriter, _ *http.Request, i int) {
		if i < n {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		answer(w, 200, `[{"id":"msg_1"}]`)
	})
}

func TestConnectionErrors(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		wantReqs int
		wantErr  bool
	}{
		{name: "idempotent send is resent", key: "k", wantReqs: 2},
		{name: "send without key is not resent", wantReqs: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := dropFirst(t, 1)
			ids, err := newTestClient(t, srv).SendMessages(t.Context(), "c1",
				NewMessage{Type: SystemMessage, Text: "hi", IdempotencyKey: tt.key})
			if got := rec.count(); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			if tt.wantErr {
				if err == nil || !Retryable(err) {
					t.Errorf("err = %v, want a retryable connection error", err)
				}
				return
			}
			if err != nil || len(ids) != 1 {
				t.Errorf("SendMessages = %v, %v", ids, err)
			}
		})
	}
}

// rotatingKeys hands out keys[0] until refused, then keys[1], and counts calls.
type rotatingKeys struct {
	mu      sync.Mutex
	keys    []string
	current int
	gets    int
	refused []string
}

func (k *rotatingKeys) Key(context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gets++
	return k.keys[k.current], nil
}

func (k *rotatingKeys) Refused(_ context.Context, key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refused = append(k.refused, key)
	if key == k.keys[k.current] && k.current+1 < len(k.keys) {
		k.current++
	}
}

func TestUnauthorizedRefreshesKeyOnce(t *testing.T) {
	tests := []struct {
		name        string
		accept      string
		idempotent  bool
		wantReqs    int
		wantStatus  int
		wantRefused int
	}{
		{name: "rotated key works", accept: "sk_new", idempotent: true, wantReqs: 2, wantRefused: 1},
		{name: "rotated key works for a send without keys", accept: "sk_new", wantReqs: 2, wantRefused: 1},
		{name: "both keys refused", accept: "nothing", wantReqs: 2, wantStatus: 401, wantRefused: 1},
		{name: "old key works", accept: "sk_old", wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if r.Header.Get("Authorization") != "Bearer "+tt.accept {
					answer(w, 401, `{"error":"bad key"}`)
					return
				}
				answer(w, 200, `[{"id":"msg_1"}]`)
			})
			keys := &rotatingKeys{keys: []string{"sk_old", "sk_new"}}
			msg := NewMessage{Type: SystemMessage, Text: "x"}
			if tt.idempotent {
				msg.IdempotencyKey = "k"
			}
			_, err := newKeyedClient(t, srv, keys).SendMessages(t.Context(), "c1", msg)
			if got := rec.count(); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			if len(keys.refused) != tt.wantRefused || (tt.wantRefused > 0 && keys.refused[0] != "sk_old") {
				t.Errorf("refused %v, want %d refusal of sk_old", keys.refused, tt.wantRefused)
			}
			var apiErr *APIError
			if tt.wantStatus == 0 && err != nil {
				t.Errorf("err = %v, want success", err)
			}
			if tt.wantStatus != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus) {
				t.Errorf("err = %v, want status %d", err, tt.wantStatus)
			}
			for _, r := range rec.all()[1:] {
				if r.Header.Get("Authorization") != "Bearer sk_new" {
					t.Errorf("repeat used %q, want the new key", r.Header.Get("Authorization"))
				}
			}
		})
	}
}

// flakyKeys fails with ErrKeyUnavailable the first fails times.
type flakyKeys struct {
	mu    sync.Mutex
	fails int
}

func (k *flakyKeys) Key(context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fails > 0 {
		k.fails--
		return "", errors.Join(ErrKeyUnavailable, errors.New("secrets store timed out"))
	}
	return testKey, nil
}

func (k *flakyKeys) Refused(context.Context, string) {}

func TestKeySourceFailures(t *testing.T) {
	tests := []struct {
		name     string
		keys     KeySource
		wantReqs int
		wantErr  error
	}{
		{name: "unavailable then available, even for a send without keys", keys: &flakyKeys{fails: 2}, wantReqs: 1},
		{name: "unavailable throughout", keys: &flakyKeys{fails: 100}, wantErr: ErrKeyUnavailable},
		{name: "empty static key is permanent", keys: StaticKey(""), wantErr: errEmptyStaticKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, `[{"id":"m"}]`)
			_, err := newKeyedClient(t, srv, tt.keys).SendMessages(t.Context(), "c1", NewMessage{Type: SystemMessage, Text: "x"})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := rec.count(); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
		})
	}
}

func TestSecretNeverInErrors(t *testing.T) {
	echo := func(status int) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, r *http.Request, _ int) {
			answer(w, status, `{"youSent":"`+r.Header.Get("Authorization")+`"}`)
		}
	}
	tests := []struct {
		name    string
		handler func(http.ResponseWriter, *http.Request, int)
		closed  bool
	}{
		{name: "400 echoing the key", handler: echo(400)},
		{name: "500 echoing the key", handler: echo(500)},
		{name: "401 echoing the key", handler: echo(401)},
		{name: "server gone", handler: echo(200), closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, tt.handler)
			var hooked []string
			c := newTestClient(t, srv, WithAttemptHook(func(_ context.Context, a Attempt) {
				if a.Err != nil {
					hooked = append(hooked, a.Err.Error())
				}
			}))
			if tt.closed {
				srv.Close()
			}
			err := c.UpsertUser(t.Context(), "u1", UserUpdate{})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, msg := range append(hooked, err.Error()) {
				if strings.Contains(msg, testKey) {
					t.Errorf("error carries the secret: %s", msg)
				}
			}
			var apiErr *APIError
			if errors.As(err, &apiErr) && strings.Contains(apiErr.Body, testKey) {
				t.Errorf("APIError.Body carries the secret: %s", apiErr.Body)
			}
		})
	}
}

func TestErrorBodyIsBounded(t *testing.T) {
	long := strings.Repeat("line of text\n", 1000)
	tests := []struct {
		name    string
		max     int
		body    string
		wantLen int // bytes of body kept, before the ellipsis
		cut     bool
	}{
		{name: "cut to 16", max: 16, body: long, wantLen: 16, cut: true},
		{name: "default bound", body: long, wantLen: DefaultMaxErrorBody, cut: true},
		{name: "short body kept whole", max: 100, body: `{"e":"x"}`, wantLen: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { answer(w, 400, tt.body) })
			var opts []Option
			if tt.max > 0 {
				opts = append(opts, WithMaxErrorBody(tt.max))
			}
			err := newTestClient(t, srv, opts...).UpsertUser(t.Context(), "u1", UserUpdate{})
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an APIError", err)
			}
			kept := strings.TrimSuffix(apiErr.Body, "…")
			if len(kept) != tt.wantLen || (kept != apiErr.Body) != tt.cut {
				t.Errorf("body kept %d bytes (cut marked: %v), want %d (cut: %v)", len(kept), kept != apiErr.Body, tt.wantLen, tt.cut)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("Error() spans lines: %q", err.Error())
			}
		})
	}
}

func TestAttemptHook(t *testing.T) {
	srv, _ := statusServer(t, 503, 200)
	var got []Attempt
	c := newTestClient(t, srv, WithAttemptHook(func(_ context.Context, a Attempt) { got = append(got, a) }))
	if _, err := c.SendMessages(t.Context(), "conv 9", NewMessage{Type: SystemMessage, Text: "x", IdempotencyKey: "k"}); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status    int
		willRetry bool
		err       bool
	}{{503, true, true}, {200, false, false}}
	if len(got) != len(want) {
		t.Fatalf("%d attempts reported, want %d", len(got), len(want))
	}
	for i, w := range want {
		a := got[i]
		if a.Attempt != i+1 || a.StatusCode != w.status || a.WillRetry != w.willRetry || (a.Err != nil) != w.err ||
			a.ConversationID != "conv 9" || a.Method != "POST" || a.Path != "/v1/app1/conversations/conv%209/messages" {
			t.Errorf("attempt %d = %+v", i, a)
		}
	}
}

func TestRateLimitWaitsOnContext(t *testing.T) {
	srv, rec := okServer(t, "{}")
	c := newTestClient(t, srv, WithRateLimit(rate.Every(time.Hour), 1))
	if err := c.UpsertUser(t.Context(), "u1", UserUpdate{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := c.UpsertUser(ctx, "u2", UserUpdate{}); err == nil {
		t.Fatal("second call within the limit's hour succeeded")
	}
	if got := rec.count(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

func ptr[T any](v T) *T { return &v }

func TestConnectionsAreReused(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{name: "success answers", status: 200, body: `[{"id":"m"}]`},
		{name: "error answers with long bodies", status: 400, body: strings.Repeat("x", 20000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			conns := 0
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				answer(w, tt.status, tt.body)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					mu.Lock()
					conns++
					mu.Unlock()
				}
			}
			srv.Start()
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv)
			for range 20 {
				_, _ = c.SendMessages(t.Context(), "c1", NewMessage{Type: SystemMessage, Text: "x"})
			}
			mu.Lock()
			defer mu.Unlock()
			if conns != 1 {
				t.Errorf("%d connections for 20 sequential calls, want 1", conns)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	srv, rec := okServer(t, `[{"id":"m"}]`)
	keys := &rotatingKeys{keys: []string{"sk_a", "sk_b"}}
	c := newKeyedClient(t, srv, keys)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			if i == 20 {
				keys.Refused(t.Context(), "sk_a") // a rotation in the middle
			}
			_, err := c.SendMessages(t.Context(), "c1", NewMessage{Type: SystemMessage, Text: "x"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if rec.count() != 40 {
		t.Errorf("%d requests, want 40", rec.count())
	}
	last := rec.all()
	for _, r := range last {
		if a := r.Header.Get("Authorization"); a != "Bearer sk_a" && a != "Bearer sk_b" {
			t.Errorf("Authorization %q", a)
		}
	}
}

func TestDefaultHTTPClient(t *testing.T) {
	hc := NewHTTPClient()
	tr, ok := hc.Transport.(*http.Transport)
	if !ok || tr.MaxIdleConnsPerHost < 10 || hc.Timeout == 0 {
		t.Errorf("NewHTTPClient = %+v; want a transport keeping many idle connections and a timeout", hc)
	}
	// The embedded verifier refuses a server reached by IP address (no name
	// to check): a standard verifier would answer UnknownAuthority instead.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	resp, err := hc.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, tlsroots.ErrNoServerName) || Retryable(err) {
		t.Errorf("GET %s = %v; want the embedded verifier's refusal, not retryable", srv.URL, err)
	}
}

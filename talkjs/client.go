package talkjs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/talkjs-bridge/talkjs-bridge/internal/tlsroots"
)

// Version is the client version sent in the User-Agent.
const Version = "0.1.0"

// DefaultBaseURL is the TalkJS API origin.
const DefaultBaseURL = "https://api.talkjs.com"

// DefaultRESTVersion is the TalkJS REST API version the client is written
// against and sends in the TalkJS-REST-Version header of every request, so a
// change of the app's default version on TalkJS's side cannot change the
// client's behaviour silently. It is the newest version in TalkJS's changelog
// (https://talkjs.com/docs/Reference/REST_API/API_changelog/), and the client
// relies on what it and the versions before it changed: conversation listings
// ordered by last activity by default, with orderBy/orderDirection/offsetTs
// (2021-02-09); leaving a conversation removes it from the user's list
// (2021-07-30); the conversations of an unknown user answer 404, which
// ListUserConversations returns as ErrNotFound (2024-01-01).
const DefaultRESTVersion = "2024-01-01"

// DefaultMaxErrorBody is how many bytes of an error answer an APIError keeps.
const DefaultMaxErrorBody = 2048

// redactReadAhead is how far past the cut an error answer is read, so a
// secret echoed across the cut is scrubbed whole: longer than any secret key
// or app token.
const redactReadAhead = 4096

// Client calls the TalkJS REST API of one app. It is safe for concurrent use
// and should be created once and reused, so keep-alive connections are reused.
type Client struct {
	appID        string
	keys         KeySource
	baseURL      string
	prefix       string // baseURL + "/v1/" + escaped app id
	pathPrefix   string // "/v1/" + escaped app id, for errors and hooks
	httpClient   *http.Client
	uaSuffix     string
	userAgent    []string
	restVersion  []string
	retry        RetryPolicy
	limiter      *rate.Limiter
	pace         *pacer // nil when pacing is off
	maxErrorBody int
	hook         func(context.Context, Attempt)
	auth         atomic.Pointer[authHeader] // last key's header value, reused while the key stays the same
	// tokenLifetime > 0 selects app-token authentication (WithAppTokens).
	tokenLifetime time.Duration
	now           func() time.Time // the clock app tokens are issued by
}

type authHeader struct {
	key   string
	value []string
}

// authorization returns the Authorization header value for key and the bearer
// token in it: a fresh app token in app-token mode, else the key itself,
// reusing the previous header when the key has not changed (the common case).
func (c *Client) authorization(key string) ([]string, string) {
	if c.tokenLifetime > 0 {
		tok := appToken(c.appID, key, c.now(), c.tokenLifetime)
		return []string{"Bearer " + tok}, tok
	}
	if a := c.auth.Load(); a != nil && a.key == key {
		return a.value, key
	}
	a := &authHeader{key: key, value: []string{"Bearer " + key}}
	c.auth.Store(a)
	return a.value, key
}

// bufPool holds buffers for reading answers, so a send does not grow a new one.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the API origin (default https://api.talkjs.com); requests
// go to {base}/v1/{appId}/.... Used for the emulator and local runs.
func WithBaseURL(u string) Option { return func(c *Client) { c.baseURL = u } }

// WithHTTPClient sets the HTTP client, for example one wrapped for tracing.
// It should keep connections alive across calls. The client uses a copy whose
// CheckRedirect refuses every redirect, whatever h's says (see noRedirects).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.httpClient = h } }

// WithUserAgentSuffix appends s to the User-Agent "talkjs-bridge/<Version> (+Go)".
func WithUserAgentSuffix(s string) Option { return func(c *Client) { c.uaSuffix = s } }

// WithRESTVersion pins the API version sent in the TalkJS-REST-Version header
// (default DefaultRESTVersion). "" sends no header, so the app's default
// version on TalkJS's dashboard applies.
func WithRESTVersion(v string) Option {
	return func(c *Client) {
		c.restVersion = nil
		if v != "" {
			c.restVersion = []string{v}
		}
	}
}

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithRateLimit makes every HTTP attempt wait for a token of a limiter with
// the given rate and burst, so the client stays under TalkJS's rate limits.
func WithRateLimit(limit rate.Limit, burst int) Option {
	return func(c *Client) { c.limiter = rate.NewLimiter(limit, burst) }
}

// WithPacing turns the client's pacing after 429 answers on (the default) or
// off. When on: after a 429 with Retry-After, attempts of this client that
// can wait it out before their deadline do (the others are sent anyway); and
// once in a second more than a tenth of the attempts drew a 429, attempts
// are spaced at 0.9 of the rate TalkJS accepted in that second,
// raised by 5% (+0.05/s) each second without a 429 and dropped after 30 s
// without one. A paced attempt whose slot is past its deadline fails unsent
// with ErrRateLimited (retryable), so a queue retries it later. See
// Client.Pace. It works within one process; processes sharing an app's limit
// each pace themselves. WithRateLimit sets a fixed ceiling in addition.
func WithPacing(on bool) Option {
	return func(c *Client) {
		c.pace = nil
		if on {
			c.pace = &pacer{}
		}
	}
}

// WithMaxErrorBody bounds how many bytes of an error answer are kept in an
// APIError (default DefaultMaxErrorBody).
func WithMaxErrorBody(n int) Option { return func(c *Client) { c.maxErrorBody = n } }

// WithAttemptHook registers h to be called after every HTTP attempt, for
// metrics and tracing. h runs on the calling goroutine and must be quick.
func WithAttemptHook(h func(ctx context.Context, a Attempt)) Option {
	return func(c *Client) { c.hook = h }
}

// Attempt describes one HTTP attempt, as reported to the attempt hook.
type Attempt struct {
	Method         string
	Path           string // "/v1/{appId}/...", without the query
	ConversationID string // set for calls on one conversation
	Attempt        int    // 1-based, counting the repeat after a 401
	StatusCode     int    // 0 when no answer arrived
	Err            error  // nil on success
	Duration       time.Duration
	WillRetry      bool
}

// NewClient returns a client for app appID whose secret keys come from keys.
func NewClient(appID string, keys KeySource, opts ...Option) (*Client, error) {
	if appID == "" {
		return nil, errors.New("talkjs: NewClient: app id is empty")
	}
	if keys == nil {
		return nil, errors.New("talkjs: NewClient: key source is nil")
	}
	c := &Client{
		appID:        appID,
		keys:         keys,
		baseURL:      DefaultBaseURL,
		retry:        DefaultRetryPolicy,
		maxErrorBody: DefaultMaxErrorBody,
		restVersion:  []string{DefaultRESTVersion},
		pace:         &pacer{},
		now:          time.Now,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(c)
		}
	}
	base, err := url.Parse(c.baseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" {
		return nil, fmt.Errorf("talkjs: NewClient: base URL %q is not an http(s) URL without query", c.baseURL)
	}
	c.baseURL = strings.TrimRight(c.baseURL, "/")
	c.pathPrefix = strings.TrimRight(base.EscapedPath(), "/") + "/v1/" + url.PathEscape(appID)
	c.prefix = c.baseURL + "/v1/" + url.PathEscape(appID)
	if c.httpClient == nil {
		c.httpClient = NewHTTPClient()
	}
	c.httpClient = noRedirects(c.httpClient)
	if c.maxErrorBody <= 0 {
		c.maxErrorBody = DefaultMaxErrorBody
	}
	c.retry = c.retry.normalized()
	ua := "talkjs-bridge/" + Version + " (+Go)"
	if c.uaSuffix != "" {
		ua += " " + c.uaSuffix
	}
	c.userAgent = []string{ua}
	return c, nil
}

// NewHTTPClient returns the HTTP client NewClient uses by default: a 30s
// overall timeout per attempt, a transport that keeps enough idle
// connections to TalkJS for concurrent sends (the standard transport keeps 2),
// and TLS verified against the roots compiled into the binary (package
// tlsroots), so an old or missing CA bundle on the host cannot break it.
// Wrap it (for tracing, say) and pass it with WithHTTPClient.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tlsroots.Config()
	t.MaxIdleConnsPerHost = 32
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// noRedirects returns a copy of h (sharing its transport) that does not
// follow redirects: a 3xx answer comes back to the client, which makes it an
// *APIError with that status. Following would send the Authorization header
// (the secret key, or a token made from it) and the message to wherever the
// Location points, another port or host included; and a 301/302/303 turns
// the send into a GET whose 200 would count as delivered, so the record would
// be acknowledged and lost. TalkJS documents no redirects, so a 3xx means a
// misconfigured base URL or something in the way; it is not retried either,
// since asking again gets the same redirect (see decideRetry).
func noRedirects(h *http.Client) *http.Client {
	cp := *h
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// AppID returns the TalkJS app id the client works on.
func (c *Client) AppID() string { return c.appID }

// call is one API operation, as the resource methods describe it to do.
type call struct {
	method     string
	path       string // below /v1/{appId}, segments already escaped
	query      url.Values
	body       any // JSON-encoded when non-nil
	out        any // decoded from a 2xx answer when non-nil
	convID     string
	idempotent bool // safe to send again after an unknown outcome
}

var (
	jsonHeader = []string{"application/json"}
)

// do is the single request path: auth, headers, rate limit, retries, errors.
func (c *Client) do(ctx context.Context, cl call) error {
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("talkjs: %s %s: encoding request: %w", cl.method, c.pathPrefix+cl.path, err)
		}
	}
	target := c.prefix + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	// The full path is only built when an error or the hook needs it.
	path := func() string { return c.pathPrefix + cl.path }

	var (
		lastErr   error
		refreshed bool
		attempt   int
		tries     int // attempts that count against the retry policy
	)
	for {
		if err := ctx.Err(); err != nil {
			if lastErr != nil {
				return lastErr
			}
			return fmt.Errorf("talkjs: %s %s: %w", cl.method, path(), err)
		}
		attempt++
		tries++
		key, err := c.keys.Key(ctx)
		if err != nil {
			// Nothing was sent, so waiting and asking again is always safe.
			lastErr = fmt.Errorf("talkjs: %s %s: %w", cl.method, path(), err)
			if !Retryable(err) || tries >= c.retry.MaxAttempts || !sleep(ctx, c.retry.backoff(tries)) {
				return lastErr
			}
			continue
		}
		if c.pace != nil {
			if err := c.pace.wait(ctx); err != nil {
				if lastErr != nil {
					return lastErr
				}
				return fmt.Errorf("talkjs: %s %s: %w", cl.method, path(), err)
			}
		}
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				if lastErr != nil {
					return lastErr
				}
				return fmt.Errorf("talkjs: %s %s: rate limit: %w", cl.method, path(), err)
			}
		}

		start := time.Now()
		status, retryAfter, err := c.attempt(ctx, cl, target, body, key)
		if c.pace != nil {
			c.pace.observe(status, retryAfter)
		}
		if err == nil && c.hook == nil {
			return nil
		}
		a := Attempt{Method: cl.method, Path: path(), ConversationID: cl.convID, Attempt: attempt,
			StatusCode: status, Err: err, Duration: time.Since(start)}
		if err == nil {
			c.report(ctx, a)
			return nil
		}
		lastErr = err

		if status == http.StatusUnauthorized && !refreshed {
			// The key was rotated or revoked: fetch a fresh one and repeat once.
			// TalkJS did not act on a 401, so repeating is safe for any call.
			refreshed = true
			c.keys.Refused(ctx, key)
			tries--
			a.WillRetry = true
			c.report(ctx, a)
			continue
		}
		timeLeft := time.Duration(-1)
		if deadline, ok := ctx.Deadline(); ok {
			timeLeft = max(time.Until(deadline), 0)
		}
		retry, wait := decideRetry(retryInput{
			err: err, idempotent: cl.idempotent, tries: tries, maxAttempts: c.retry.MaxAttempts,
			backoff: c.retry.backoff(tries), retryAfter: retryAfter, timeLeft: timeLeft, done: ctx.Err() != nil,
		})
		a.WillRetry = retry
		c.report(ctx, a)
		if !retry || !sleep(ctx, wait) {
			return lastErr
		}
	}
}

func (c *Client) report(ctx context.Context, a Attempt) {
	if c.hook != nil {
		c.hook(ctx, a)
	}
}

// attempt sends one HTTP request. It returns the status (0 if none arrived),
// the Retry-After wait TalkJS asked for, and the error for a failed attempt.
func (c *Client) attempt(ctx context.Context, cl call, target string, body []byte, key string) (int, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, rd)
	if err != nil {
		return 0, 0, fmt.Errorf("talkjs: %s %s: %w", cl.method, c.pathPrefix+cl.path, invalidf("building request: %v", err))
	}
	// Direct map writes: the keys are already canonical, and this avoids
	// per-call allocations in Header.Set.
	auth, token := c.authorization(key)
	req.Header["Authorization"] = auth
	req.Header["Accept"] = jsonHeader
	req.Header["User-Agent"] = c.userAgent
	if body != nil {
		req.Header["Content-Type"] = jsonHeader
	}
	if c.restVersion != nil {
		req.Header["Talkjs-Rest-Version"] = c.restVersion
	}

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("talkjs: %s %s: %w", cl.method, c.pathPrefix+cl.path, redact(err, key, token))
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if cl.out == nil {
			// Drain so the connection goes back to the pool.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			return resp.StatusCode, 0, nil
		}
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		defer func() {
			if buf.Cap() <= 1<<20 { // let rare huge listings go to the GC
				bufPool.Put(buf)
			}
		}()
		if _, err := buf.ReadFrom(resp.Body); err != nil {
			return resp.StatusCode, 0, fmt.Errorf("talkjs: %s %s: reading answer: %w", cl.method, c.pathPrefix+cl.path, err)
		}
		data := buf.Bytes()
		if len(bytes.TrimSpace(data)) == 0 {
			return resp.StatusCode, 0, nil // success without data: the status decides
		}
		// A type that decodes itself is lenient by design (see sentIDs); calling
		// it directly skips a validating pass over the body.
		if u, ok := cl.out.(json.Unmarshaler); ok {
			err = u.UnmarshalJSON(data)
		} else {
			err = json.Unmarshal(data, cl.out)
		}
		if err != nil {
			return resp.StatusCode, 0, fmt.Errorf("talkjs: %s %s: decoding answer: %v", cl.method, c.pathPrefix+cl.path, err)
		}
		return resp.StatusCode, 0, nil
	}

	// Redact before cutting: the body is read past the cut by more than any
	// key or token is long, so a secret echoed across the cut is seen, and
	// scrubbed, whole. Cutting first would leave the part before the cut.
	limited := io.LimitReader(resp.Body, int64(c.maxErrorBody)+redactReadAhead+1)
	data, _ := io.ReadAll(limited)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	text := scrub(string(data), key, token)
	truncated := len(text) > c.maxErrorBody
	if truncated {
		text = text[:c.maxErrorBody]
	}
	text = strings.ToValidUTF8(text, "")
	if truncated {
		text += "…"
	}
	apiErr := &APIError{StatusCode: resp.StatusCode, Method: cl.method, Path: c.pathPrefix + cl.path, Body: text}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		apiErr.RetryAfter = d
	}
	return resp.StatusCode, apiErr.RetryAfter, apiErr
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

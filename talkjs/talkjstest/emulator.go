package talkjstest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// MaxBodyBytes is the largest request body the emulator reads; a larger one is
// answered with 413.
const MaxBodyBytes = 10 << 20

// Emulator is an in-memory TalkJS REST API for one app. It is an http.Handler
// serving the paths under /v1/{appId}/. Create it with [New] or [NewServer].
// All methods are safe for concurrent use.
type Emulator struct {
	appID string

	mu        sync.Mutex
	secretKey string
	now       func() time.Time
	lastMs    int64  // last createdAt handed out, so timestamps never go back
	seq       uint64 // orders every stored object; never reset, so ids never repeat

	users map[string]*userRec
	convs map[string]*convRec
	msgs  map[string]*msgRec // message id -> message, across conversations

	faults []*faultRec
	rng    *rand.Rand

	legacySends bool // answer sends with {} as older API versions do

	defaultVersion string // the app's default REST API version, used without a TalkJS-REST-Version header

	limit limiterState // the app's rate limit, shared by every client

	strictFields  atomic.Bool  // refuse unknown body fields instead of ignoring them
	ignoredFields atomic.Int64 // unknown body fields ignored since the last Reset

	participantLimit int        // most participants per conversation; <= 0: no limit
	batchRng         *rand.Rand // decides the order batch operations run in

	log      []*Request
	logLimit int
	counters Counters
}

// New returns an emulator for the app appID that accepts secretKey as its
// Bearer key, or an app-scoped JWT signed with it. An empty secretKey makes
// every request fail with 401 (fail closed). The emulator is a plain
// http.Handler: any http.Server can serve it, e.g. as a local TalkJS.
func New(appID, secretKey string) *Emulator {
	e := &Emulator{appID: appID, secretKey: secretKey, now: time.Now, defaultVersion: VersionLatest,
		participantLimit: DefaultParticipantLimit}
	e.resetLocked()
	e.rng = rand.New(rand.NewPCG(1, 1))
	e.batchRng = rand.New(rand.NewPCG(2, 2))
	return e
}

// NewServer starts an httptest server (on loopback) serving a new emulator and
// returns both. The caller closes the server.
func NewServer(appID, secretKey string) (*httptest.Server, *Emulator) {
	e := New(appID, secretKey)
	return httptest.NewServer(e), e
}

// AppID returns the app id the emulator serves.
func (e *Emulator) AppID() string { return e.appID }

// SetSecretKey replaces the accepted Bearer key, as a key rotation would: from
// now on the old key gets 401.
func (e *Emulator) SetSecretKey(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secretKey = key
}

// SetClock makes the emulator take timestamps from now instead of time.Now.
// createdAt values stay non-decreasing even if now goes back.
func (e *Emulator) SetClock(now func() time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = now
}

// SetLegacySendAnswer makes message sends answer {} instead of the new ids,
// as older TalkJS API versions do; a client must treat that as success with
// the ids unknown. Reset does not change it.
func (e *Emulator) SetLegacySendAnswer(on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.legacySends = on
}

// Reset drops all users, conversations, messages, faults, the request log and
// the counters. Ids handed out before are never handed out again.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.resetLocked()
}

func (e *Emulator) resetLocked() {
	e.users = map[string]*userRec{}
	e.convs = map[string]*convRec{}
	e.msgs = map[string]*msgRec{}
	e.faults = nil
	e.log = nil
	e.counters = Counters{}
	e.ignoredFields.Store(0)
	if l := e.limit.lim; l != nil {
		e.limit.lim = rate.NewLimiter(l.Limit(), l.Burst())
	}
}

// Request is one request as the emulator received it, with the status it
// answered (0 when the connection was dropped or the client went away first).
// Header is a copy of the request headers, except that the Authorization token
// is replaced by its [Fingerprint], so the log never holds a secret.
type Request struct {
	Method         string
	Path           string
	RawQuery       string
	Status         int
	ConversationID string // the conversation in the path, if any
	Header         http.Header
	Body           []byte
	Fault          bool // a Fault applied (its status, latency or drop)
}

// Counters are running totals since New or the last Reset.
type Counters struct {
	Requests          int // requests received, faulted ones included
	Faults            int // requests a Fault applied to
	Refused           int // 4xx answers by the API rules (not by a Fault), batch operations included
	MessagesStored    int // messages stored by sends (replays not included)
	IdempotentReplays int // messages not stored because their idempotencyKey was seen before
	BatchOperations   int // operations run through POST /batch
	RateLimited       int // requests answered 429 by the rate limit (SetRateLimit), not by a Fault
	IgnoredFields     int // unknown body fields ignored (see SetStrictFields)
}

// SetLogLimit keeps only the last n requests in the log (n <= 0: all, the
// default), so a long-running local emulator does not grow without bound.
// Counters are not affected.
func (e *Emulator) SetLogLimit(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logLimit = n
	if n > 0 && len(e.log) > n {
		e.log = slices.Clone(e.log[len(e.log)-n:])
	}
}

// Requests returns a copy of the request log, in arrival order.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Request, len(e.log))
	for i, r := range e.log {
		out[i] = *r
		out[i].Header = r.Header.Clone()
		out[i].Body = append([]byte(nil), r.Body...)
	}
	return out
}

// Counts returns the counters.
func (e *Emulator) Counts() Counters {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.counters
	c.IgnoredFields = int(e.ignoredFields.Load())
	return c
}

// SetStrictFields makes the emulator refuse (400) body fields it does not
// know, instead of ignoring them as TalkJS is assumed to (the default). Tests
// of a client turn it on to catch a misspelt field. Reset does not change it.
func (e *Emulator) SetStrictFields(on bool) { e.strictFields.Store(on) }

// DefaultParticipantLimit is the participant limit per conversation on
// TalkJS's Growth plan (100 on Basic; Enterprise is configurable), per
// https://talkjs.com/docs/Reference/REST_API/Participation/.
const DefaultParticipantLimit = 300

// SetParticipantLimit sets the most participants a conversation may have
// (default DefaultParticipantLimit); n <= 0 removes the limit. A PUT of a
// conversation or a join that would pass it is refused with 400 and nothing
// changes. Reset does not change it.
func (e *Emulator) SetParticipantLimit(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.participantLimit = n
}

// ServeHTTP answers one TalkJS REST API request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	rec := &Request{
		Method:         r.Method,
		Path:           r.URL.Path,
		RawQuery:       r.URL.RawQuery,
		ConversationID: conversationInPath(r.URL),
		Header:         redacted(r.Header),
		Body:           body,
	}
	e.mu.Lock()
	e.log = append(e.log, rec)
	if e.logLimit > 0 && len(e.log) > e.logLimit {
		e.log = e.log[len(e.log)-e.logLimit:]
	}
	e.counters.Requests++
	f := e.pickFaultLocked(rec.ConversationID)
	if f != nil {
		rec.Fault = true
		e.counters.Faults++
	}
	e.mu.Unlock()

	status, byRules := 0, true
	if f != nil {
		status = e.serveFault(w, r, f)
		// After a latency-only fault the request is handled as usual, unless
		// the client gave up while waiting.
		byRules = !f.Drop && f.Status == 0 && r.Context().Err() == nil
	}
	limited := false
	if byRules {
		if limited = !e.admit(w, r); limited {
			status = http.StatusTooManyRequests
		} else {
			status = e.serveAPI(w, r, body, readErr)
		}
	}

	e.mu.Lock()
	rec.Status = status
	if limited {
		e.counters.RateLimited++
	} else if byRules && status >= 400 && status < 500 {
		e.counters.Refused++
	}
	e.mu.Unlock()
}

// serveAPI applies TalkJS's request rules, then routes. It returns the status.
func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request, body []byte, readErr error) int {
	if readErr != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](readErr); ok {
			return writeJSON(w, http.StatusRequestEntityTooLarge, errBody("REQUEST_TOO_LARGE", fmt.Sprintf("request body is over %d bytes", MaxBodyBytes)))
		}
		return writeJSON(w, http.StatusBadRequest, errBody("INVALID_REQUEST", "could not read the request body"))
	}
	// TalkJS answers a request without a User-Agent with a "Cookies required"
	// error (https://talkjs.com/docs/Reference/REST_API/Getting_Started/Troubleshooting/).
	// The page gives no status; 400 is our assumption.
	if r.Header.Get("User-Agent") == "" {
		return writeJSON(w, http.StatusBadRequest, errBody("COOKIES_REQUIRED", "Cookies required: this request has no User-Agent header"))
	}
	segs, ok := splitPath(r.URL)
	if !ok || len(segs) < 2 || segs[0] != "v1" {
		return writeJSON(w, http.StatusNotFound, errBody("NOT_FOUND", "no such route: "+r.URL.Path))
	}
	if !e.authorized(r.Header.Get("Authorization")) {
		return writeJSON(w, http.StatusUnauthorized, errBody("UNAUTHORIZED", "the Authorization header is missing or its Bearer key is not valid"))
	}
	// A key is valid for one app only; TalkJS's troubleshooting page lists "the
	// wrong secret key for that app id" under 401 Unauthorized.
	if segs[1] != e.appID {
		return writeJSON(w, http.StatusUnauthorized, errBody("UNAUTHORIZED", "the Bearer key is not valid for app "+segs[1]))
	}
	if r.Method != http.MethodGet && len(body) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return writeJSON(w, http.StatusBadRequest, errBody("INVALID_CONTENT_TYPE", "only Content-Type: application/json is accepted"))
		}
		if !json.Valid(body) {
			return writeJSON(w, http.StatusBadRequest, errBody("INVALID_JSON", "the request body is not valid JSON"))
		}
	}
	if r.Method == http.MethodGet {
		body = nil
	}
	version, err := e.restVersion(r.Header.Get("TalkJS-REST-Version"))
	if err != nil {
		return writeJSON(w, http.StatusBadRequest, errBody("INVALID_API_VERSION", err.Error()))
	}
	status, v := e.dispatch(r.Method, segs[2:], r.URL.Query(), body, true, version)
	return writeJSON(w, status, v)
}

// dispatch routes an authenticated request. segs is the path after /v1/{appId}.
// topLevel is false inside a batch, where a nested batch is refused. version
// is the REST API version the request asked for.
func (e *Emulator) dispatch(method string, segs []string, q url.Values, body []byte, topLevel bool, version string) (int, any) {
	notFound := func() (int, any) {
		return http.StatusNotFound, errBody("NOT_FOUND", fmt.Sprintf("no such route: %s /%s", method, strings.Join(segs, "/")))
	}
	if len(segs) == 0 {
		return notFound()
	}
	switch {
	case segs[0] == "batch" && len(segs) == 1 && method == http.MethodPost && topLevel:
		return e.batch(body, version)
	case segs[0] == "users":
		switch {
		case len(segs) == 1 && method == http.MethodGet:
			return e.listUsers(q)
		case len(segs) == 1 && method == http.MethodPut:
			return e.putUsers(body)
		case len(segs) == 2 && method == http.MethodGet:
			return e.getUser(segs[1])
		case len(segs) == 2 && method == http.MethodPut:
			return e.putUser(segs[1], body)
		case len(segs) == 3 && segs[2] == "conversations" && method == http.MethodGet:
			return e.listUserConversations(segs[1], q, version)
		}
	case segs[0] == "conversations":
		switch {
		case len(segs) == 1 && method == http.MethodGet:
			return e.listConversations(q, version)
		case len(segs) == 2 && method == http.MethodGet:
			return e.getConversation(segs[1])
		case len(segs) == 2 && method == http.MethodPut:
			return e.putConversation(segs[1], body)
		case len(segs) == 2 && method == http.MethodDelete:
			return e.deleteConversation(segs[1])
		case len(segs) == 3 && segs[2] == "messages" && method == http.MethodGet:
			return e.listMessages(segs[1], q)
		case len(segs) == 3 && segs[2] == "messages" && method == http.MethodPost:
			return e.sendMessages(segs[1], body)
		case len(segs) == 4 && segs[2] == "messages" && method == http.MethodGet:
			return e.getMessage(segs[1], segs[3])
		case len(segs) == 4 && segs[2] == "messages" && (method == http.MethodPut || method == http.MethodPatch):
			// TalkJS's examples edit with PUT; PATCH is kept for clients built
			// against the emulator before (assumed to behave the same).
			return e.editMessage(segs[1], segs[3], body)
		case len(segs) == 4 && segs[2] == "messages" && method == http.MethodDelete:
			return e.deleteMessage(segs[1], segs[3])
		case len(segs) == 4 && segs[2] == "participants" && method == http.MethodPut:
			return e.joinConversation(segs[1], segs[3], body)
		case len(segs) == 4 && segs[2] == "participants" && method == http.MethodPatch:
			return e.modifyParticipant(segs[1], segs[3], body)
		case len(segs) == 4 && segs[2] == "participants" && method == http.MethodDelete:
			return e.leaveConversation(segs[1], segs[3])
		}
	}
	return notFound()
}

// apiError is the body of every refusal. TalkJS documents only the status codes;
// this shape is the emulator's own.
type apiError struct {
	ErrorCode string `json:"errorCode"`
	Error     string `json:"error"`
	Reasons   any    `json:"reasons,omitempty"`
}

func errBody(code, msg string) apiError { return apiError{ErrorCode: code, Error: msg} }

func badRequest(format string, args ...any) (int, any) {
	return http.StatusBadRequest, errBody("INVALID_ARGUMENTS", fmt.Sprintf(format, args...))
}

func notFound(format string, args ...any) (int, any) {
	return http.StatusNotFound, errBody("NOT_FOUND", fmt.Sprintf(format, args...))
}

// empty is TalkJS's answer to calls that return no data.
var empty = struct{}{}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	if v == nil {
		v = empty
	}
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errorCode":"INTERNAL","error":"could not encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

// splitPath splits the escaped path into unescaped segments, so an id holding
// an escaped "/" stays one segment.
func splitPath(u *url.URL) ([]string, bool) {
	p := strings.Trim(u.EscapedPath(), "/")
	if p == "" {
		return nil, false
	}
	raw := strings.Split(p, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		v, err := url.PathUnescape(s)
		if err != nil || v == "" {
			return nil, false
		}
		segs[i] = v
	}
	return segs, true
}

func conversationInPath(u *url.URL) string {
	segs, ok := splitPath(u)
	if !ok || len(segs) < 4 || segs[2] != "conversations" {
		return ""
	}
	return segs[3]
}

// nextLocked returns a fresh sequence number and a createdAt that never goes back.
func (e *Emulator) nextLocked() (uint64, int64) {
	e.seq++
	ms := e.now().UnixMilli()
	if ms < e.lastMs {
		ms = e.lastMs
	}
	e.lastMs = ms
	return e.seq, ms
}

// Fingerprint is how the request log shows a Bearer token: a short hash that
// tells keys apart without revealing them.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "[redacted sha256:" + hex.EncodeToString(sum[:4]) + "]"
}

func redacted(h http.Header) http.Header {
	h = h.Clone()
	if v := h.Get("Authorization"); v != "" {
		scheme, token, ok := strings.Cut(v, " ")
		if !ok {
			scheme, token = "", v
		}
		h.Set("Authorization", strings.TrimSpace(scheme+" "+Fingerprint(token)))
	}
	return h
}

package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Source is what the inbox reads from TalkJS. *talkjs.Client satisfies it, for
// the embedded emulator and for real TalkJS alike. The inbox only reads.
type Source interface {
	ListConversations(ctx context.Context, opts talkjs.ListOptions) iter.Seq2[talkjs.Conversation, error]
	ListMessages(ctx context.Context, conversationID string, opts talkjs.ListOptions) iter.Seq2[talkjs.Message, error]
	GetUser(ctx context.Context, id string) (talkjs.User, error)
}

// Defaults used by New.
const (
	DefaultPrefix           = "/inbox"
	DefaultMaxConversations = 50
	DefaultMaxMessages      = 100
	DefaultPollInterval     = time.Second
)

// Bounds the options clamp to, so a typo cannot make every poll list
// thousands of objects or hammer the server.
const (
	maxConversationsCap = 500
	maxMessagesCap      = 1000
	minPollInterval     = 200 * time.Millisecond
)

const (
	// buildTimeout bounds one snapshot, so a hanging TalkJS cannot pile up
	// polls behind the lock.
	buildTimeout = 10 * time.Second
	// refetchAfter is how long a conversation's cached messages are trusted
	// while its last message stays the same. Edits and deletions of older
	// messages show up within this time.
	refetchAfter = 30 * time.Second
	// userTTL is how long a user's display name is cached.
	userTTL = time.Minute
	// reuseFor lets polls from several tabs within this window share one
	// snapshot instead of each listing TalkJS.
	reuseFor = 250 * time.Millisecond
)

// Option configures the handler returned by New.
type Option func(*handler)

// WithPrefix sets the path the inbox is mounted at (default "/inbox"): the page
// is served at prefix and prefix+"/", the JSON at prefix+"/api/conversations".
// Use "" when the handler sits behind http.StripPrefix. A trailing slash is
// ignored. The page itself finds the API relative to its own URL, so a reverse
// proxy adding a further prefix needs nothing.
func WithPrefix(p string) Option {
	return func(h *handler) { h.prefix = strings.TrimRight(p, "/") }
}

// WithMaxConversations sets how many conversations are shown, the most
// recently active first (default 50, clamped to 1..500).
func WithMaxConversations(n int) Option {
	return func(h *handler) { h.maxConvs = clamp(n, DefaultMaxConversations, maxConversationsCap) }
}

// WithMaxMessages sets how many of the latest messages are shown per
// conversation (default 100, clamped to 1..1000).
func WithMaxMessages(n int) Option {
	return func(h *handler) { h.maxMsgs = clamp(n, DefaultMaxMessages, maxMessagesCap) }
}

// WithPollInterval sets how often the page asks for changes (default 1s, at
// least 200ms).
func WithPollInterval(d time.Duration) Option {
	return func(h *handler) {
		if d <= 0 {
			d = DefaultPollInterval
		}
		h.poll = max(d, minPollInterval)
	}
}

// WithFailures makes the page list the refused and rejected deliveries f
// holds, newest first, above the conversations.
func WithFailures(f *Failures) Option {
	return func(h *handler) { h.failures = f }
}

func clamp(n, def, hi int) int {
	if n < 1 {
		return def
	}
	return min(n, hi)
}

// handler serves the page and its JSON. It keeps caches, so one handler should
// be created per server and reused.
type handler struct {
	src      Source
	prefix   string
	maxConvs int
	maxMsgs  int
	poll     time.Duration
	page     []byte
	csp      string
	now      func() time.Time
	reuseFor time.Duration
	failures *Failures

	mu    sync.Mutex // serialises snapshots and guards the fields below
	last  snapshotResult
	msgs  map[string]msgCache
	users map[string]userCache
}

type snapshotResult struct {
	at   time.Time
	body []byte
	etag string
}

// New returns a handler serving, for GET and HEAD:
//
//   - {prefix} and {prefix}/: the inbox page (HTML, inline CSS and JS only);
//   - {prefix}/api/conversations: a [Snapshot] as JSON, with an ETag; a request
//     whose If-None-Match matches gets 304 Not Modified.
//
// Everything else under the handler is 404. A nil src makes the JSON answer
// 500. Reads through src are safe to repeat; the handler never writes to
// TalkJS. It is safe for concurrent use.
func New(src Source, opts ...Option) http.Handler {
	h := &handler{
		src:      src,
		prefix:   DefaultPrefix,
		maxConvs: DefaultMaxConversations,
		maxMsgs:  DefaultMaxMessages,
		poll:     DefaultPollInterval,
		now:      time.Now,
		reuseFor: reuseFor,
		msgs:     map[string]msgCache{},
		users:    map[string]userCache{},
	}
	for _, o := range opts {
		o(h)
	}
	appID := ""
	if a, ok := src.(interface{ AppID() string }); ok {
		appID = a.AppID()
	}
	h.page = renderPage(appID, h.poll)
	h.csp = "default-src 'none'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
		"script-src '" + cspHash(pageScript) + "'; style-src '" + cspHash(pageStyle) + "'"
	return h
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	var serve func(http.ResponseWriter, *http.Request)
	switch path {
	case h.prefix, h.prefix + "/":
		serve = h.servePage
	case h.prefix + "/api/conversations":
		serve = h.serveConversations
	default:
		if path == "" && h.prefix == "" {
			serve = h.servePage
			break
		}
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "inbox: method "+r.Method+" not allowed, use GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	serve(w, r)
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Content-Length", strconv.Itoa(len(h.page)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(h.page)
}

func (h *handler) serveConversations(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-cache")
	res, err := h.snapshot(r.Context())
	if err != nil {
		status := http.StatusBadGateway
		if h.src == nil {
			status = http.StatusInternalServerError
		}
		writeError(w, status, err)
		return
	}
	hd.Set("ETag", res.etag)
	if etagMatch(r.Header.Get("If-None-Match"), res.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(res.body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(res.body)
}

func writeError(w http.ResponseWriter, status int, err error) {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{err.Error()})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// etagMatch implements the weak comparison If-None-Match asks for.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// snapshot returns the current inbox as JSON. Snapshots are serialised, and
// one younger than reuseFor is handed out again.
func (h *handler) snapshot(ctx context.Context) (snapshotResult, error) {
	if h.src == nil {
		return snapshotResult{}, errors.New("inbox: no TalkJS source configured")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if h.last.body != nil && now.Sub(h.last.at) < h.reuseFor {
		return h.last, nil
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	s, err := h.build(ctx, now)
	if err != nil {
		return snapshotResult{}, err
	}
	body, err := json.Marshal(s)
	if err != nil {
		return snapshotResult{}, err
	}
	sum := sha256.Sum256(body)
	h.last = snapshotResult{at: now, body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	return h.last, nil
}

// renderPage builds the page once; the only values in it are the app id
// (escaped) and the poll interval.
func renderPage(appID string, poll time.Duration) []byte {
	var b strings.Builder
	b.WriteString(pageHead)
	b.WriteString("<style>")
	b.WriteString(pageStyle)
	b.WriteString("</style>\n</head>\n<body data-poll-ms=\"")
	b.WriteString(strconv.FormatInt(poll.Milliseconds(), 10))
	b.WriteString("\">\n")
	b.WriteString(`<header class="top"><h1>talkjs-bridge <span>inbox</span></h1>`)
	if appID != "" {
		b.WriteString(`<span class="app">app <code>` + html.EscapeString(appID) + `</code></span>`)
	}
	b.WriteString(pageBody)
	b.WriteString("<script>")
	b.WriteString(pageScript)
	b.WriteString("</script>\n</body>\n</html>\n")
	return []byte(b.String())
}

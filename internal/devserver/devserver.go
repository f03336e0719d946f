package devserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/internal/inbox"
	"github.com/talkjs-bridge/talkjs-bridge/internal/secretsource"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// Options configure a Server.
type Options struct {
	// AppID and SecretKey select real TalkJS (at APIURL) when both are set;
	// otherwise the embedded emulator is used.
	AppID, SecretKey, APIURL string
	// Routes is the routes file; nil means the embedded default.
	Routes *mapping.Routes
	// WebhookSecrets by name; nil means the demo secrets events/ is signed with.
	WebhookSecrets map[string]string
	Logger         *slog.Logger
}

// Server is the development server. Close it to stop the embedded emulator.
type Server struct {
	// Emulator is the embedded TalkJS, nil when real TalkJS is used.
	Emulator *talkjstest.Emulator
	// TalkJSURL is where the TalkJS client sends.
	TalkJSURL string

	mux     *http.ServeMux
	guarded http.Handler
	ts      *httptest.Server
	client  *talkjs.Client
	queue   *queue.Handler
	sched   *schedule.Handler
	log     *slog.Logger
	seq     atomic.Int64
}

// New builds a Server.
func New(opts Options) (*Server, error) {
	s := &Server{log: opts.Logger, mux: http.NewServeMux()}
	s.guarded = guard(s.mux)
	if s.log == nil {
		s.log = slog.Default()
	}
	// Refused webhooks are listed on /inbox with the detail they logged.
	s.log = slog.New(detailHandler{s.log.Handler()})
	fails := inbox.NewFailures(0)
	routes := opts.Routes
	if routes == nil {
		var err error
		if routes, err = mapping.Default(); err != nil {
			return nil, err
		}
	}
	secrets := opts.WebhookSecrets
	if secrets == nil {
		secrets = democreds.WebhookSecrets()
	}
	appID, key := opts.AppID, opts.SecretKey
	var clientOpts []talkjs.Option
	if appID == "" || key == "" {
		appID, key = democreds.AppID, democreds.SecretKey
		s.Emulator = talkjstest.New(appID, key)
		// The server runs for hours and nothing here reads the request
		// log; keep enough of it to look at in a debugger.
		s.Emulator.SetLogLimit(1000)
		s.ts = httptest.NewServer(s.Emulator)
		s.TalkJSURL = s.ts.URL
		clientOpts = append(clientOpts, talkjs.WithBaseURL(s.ts.URL))
		s.mux.Handle("/talkjs/", http.StripPrefix("/talkjs", s.Emulator))
	} else if opts.APIURL != "" {
		s.TalkJSURL = opts.APIURL
		clientOpts = append(clientOpts, talkjs.WithBaseURL(opts.APIURL))
	} else {
		s.TalkJSURL = talkjs.DefaultBaseURL
	}
	hooks := make(map[string]string, len(secrets))
	for name, v := range secrets {
		if v != "" {
			hooks[name] = v
		}
	}
	src, err := secretsource.NewStatic(key, appID, hooks)
	if err != nil {
		s.Close()
		return nil, err
	}
	c, err := talkjs.NewClient(appID, src, clientOpts...)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.client = c
	// The handlers are built as the functions build theirs; only the
	// rejects queue is a log line and an entry on /inbox here, as there is
	// no queue locally.
	d := &setup.Deps{Routes: routes, TalkJS: c, Secrets: src, Logger: s.log, Memo: &dispatch.Memo{}, Function: "devserver"}
	wh := d.Webhook()
	s.sched = d.Schedule()
	if s.queue, err = d.Queue(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	s.queue.Rejects = inboxRejects{log: s.log, fs: fails}

	s.mux.Handle("POST /webhooks/{route}", recordRefusals(wh, fails))
	s.mux.HandleFunc("POST /queue", s.serveQueue)
	s.mux.HandleFunc("POST /reminders/{name}", s.serveReminder)
	in := inbox.New(c, inbox.WithFailures(fails))
	s.mux.Handle("/inbox", in)
	s.mux.Handle("/inbox/", in)
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/inbox", http.StatusFound)
	})
	return s, nil
}

// ServeHTTP serves the dev server's routes to the machine's own tools and
// pages only (see guard).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.guarded.ServeHTTP(w, r) }

// Close stops the embedded emulator.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// serveQueue runs the queue handler on one record body, or on an SQS event
// ({"Records": [...]}) as Lambda would, and answers with its response plus
// what was rejected.
func (s *Server) serveQueue(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil || len(body) > 1<<20 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body unreadable or over 1 MiB"})
		return
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(body, &ev); err != nil || len(ev.Records) == 0 {
		id := "local-" + strconv.FormatInt(s.seq.Add(1), 10)
		ev = events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: string(body), EventSourceARN: "arn:aws:sqs:local:000000000000:dev"}}}
	}
	resp, err := s.queue.Handle(r.Context(), ev)
	// A batch whose every record failed is an error only so that Lambda's
	// event source backs off; here the response says it all.
	if err != nil && !errors.Is(err, queue.ErrBatchFailed) {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// serveReminder runs a reminder now, as a schedule invocation would.
func (s *Server) serveReminder(w http.ResponseWriter, r *http.Request) {
	in, _ := json.Marshal(map[string]string{"reminder": r.PathValue("name"), "scheduledTime": time.Now().UTC().Format(time.RFC3339)})
	sum, err := s.sched.Handle(r.Context(), in)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, sum)
	case errors.Is(err, schedule.ErrInvalidInput):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
	default:
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": err.Error(), "summary": sum})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

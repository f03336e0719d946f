package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// The three functions, by the name of their directory under functions/.
const (
	Webhook  = "webhook"
	Queue    = "queue"
	Schedule = "schedule"
)

// Functions lists every function in the order Start starts them.
var Functions = []string{Webhook, Queue, Schedule}

// SecretName is the name of the Secrets Manager secret Start creates.
const SecretName = "talkjs-bridge/local"

// RejectsQueueName is the name of the rejects queue the queue function is
// given (REJECTS_QUEUE_URL).
const RejectsQueueName = "talkjs-bridge-rejects"

// CommandQueueName is the name of the command queue the webhook function is
// given (COMMAND_QUEUE_URL) with Options.Queued; ".fifo" is added with
// Options.FIFO.
const CommandQueueName = "talkjs-bridge-commands"

// Options configures Start. The zero value runs all three functions against
// the emulator with the demo app and secrets, building into a temporary
// directory.
type Options struct {
	// AppID and SecretKey are the TalkJS app and key; empty means democreds.AppID
	// and democreds.SecretKey. With RealTalkJS both are required.
	AppID, SecretKey string
	// WebhookSecrets become the secret's webhookSecrets object; nil means
	// democreds.WebhookSecrets().
	WebhookSecrets map[string]string
	// RealTalkJS sends to talkjs.DefaultBaseURL with AppID and SecretKey instead of
	// starting the emulator. Stack.TalkJS is then nil.
	RealTalkJS bool
	// Functions to start; nil means Functions (all three).
	Functions []string
	// BuildDir holds <function>/bootstrap, the layout `make build` writes;
	// empty means a temporary directory removed by Close.
	BuildDir string
	// Prebuilt uses the bootstraps already in BuildDir instead of building
	// them. Only bootstraps for this machine's GOOS and GOARCH can run
	// (`make build ARCH=amd64` on x86-64): the emulator runs them as plain
	// processes.
	Prebuilt bool
	// Env holds extra KEY=VALUE pairs for every function; they win over
	// what Start sets (e.g. LOG_LEVEL=debug, SECRET_CACHE_TTL=1s).
	Env []string
	// Timeout is each function's timeout; zero means rietest.DefaultTimeout.
	Timeout time.Duration
	// Logs, when set, receives everything the emulator and the functions
	// print, each line prefixed with the function's name.
	Logs io.Writer
	// Queued runs the webhook function in queue mode, as template.yaml
	// deploys it by default: COMMAND_QUEUE_URL is set to the command queue
	// of the local SQS endpoint, and Stack.DeliverQueued hands what it
	// queued to the queue function.
	Queued bool
	// FIFO makes that command queue a FIFO queue (its URL ends in .fifo).
	FIFO bool
}

// Stack is a running bridge. Its methods are safe for concurrent use;
// invokes of one function run one at a time, as in one Lambda execution
// environment.
type Stack struct {
	// TalkJS is the emulator, nil with Options.RealTalkJS.
	TalkJS *talkjstest.Emulator
	// TalkJSURL is the TALKJS_API_URL the functions use.
	TalkJSURL string
	// AppID is the TalkJS app the functions send to.
	AppID string
	// AWS is the local Secrets Manager and SQS endpoint.
	AWS *awstest.Server
	// AWSURL is the endpoint's base URL.
	AWSURL string
	// SecretARN is the secret the functions read (TALKJS_SECRET_ID).
	SecretARN string
	// RejectsQueueURL is the queue function's REJECTS_QUEUE_URL.
	RejectsQueueURL string
	// CommandQueueURL is the webhook function's COMMAND_QUEUE_URL with
	// Options.Queued, else "".
	CommandQueueURL string
	// BuildDir holds <function>/bootstrap.
	BuildDir string

	key       string // the TalkJS key the functions use
	talkjsSrv *httptest.Server
	awsSrv    *httptest.Server
	functions map[string]*rietest.Function
	tempDir   string

	closeOnce sync.Once
	closeErr  error

	// What DeliverQueued did with the command queue's messages.
	queueMu  sync.Mutex
	deleted  map[string]bool
	receives map[string]int
}

// Start builds the bootstraps (unless Options.Prebuilt), starts the TalkJS
// emulator and the AWS endpoint on 127.0.0.1, stores the TalkJS secret as
// JSON {"appId", "secretKey", "webhookSecrets"} in the local Secrets
// Manager and starts each function under the
// Lambda Runtime Interface Emulator. ctx bounds the build and the start
// only. On error everything started is stopped again. Not safe to retry
// without closing the Stack it returned.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	fns, err := functionList(opts.Functions)
	if err != nil {
		return nil, err
	}
	appID, key := opts.AppID, opts.SecretKey
	if opts.RealTalkJS {
		if appID == "" || key == "" {
			return nil, errors.New("localrun: RealTalkJS needs AppID and SecretKey")
		}
	} else {
		if appID == "" {
			appID = democreds.AppID
		}
		if key == "" {
			key = democreds.SecretKey
		}
	}
	if !talkjs.IsSecretKey(key) {
		return nil, errors.New("localrun: SecretKey is not a TalkJS secret key (expected sk_test_... or sk_live_...)")
	}
	hooks := opts.WebhookSecrets
	if hooks == nil {
		hooks = democreds.WebhookSecrets()
	}

	s := &Stack{AppID: appID, key: key, BuildDir: opts.BuildDir, functions: make(map[string]*rietest.Function),
		deleted: make(map[string]bool), receives: make(map[string]int)}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if s.BuildDir == "" {
		if opts.Prebuilt {
			return nil, errors.New("localrun: Prebuilt needs BuildDir")
		}
		if s.tempDir, err = os.MkdirTemp("", "localrun-"); err != nil {
			return nil, fmt.Errorf("localrun: %w", err)
		}
		s.BuildDir = s.tempDir
	}
	bootstraps, err := bootstrapPaths(ctx, s.BuildDir, fns, opts.Prebuilt)
	if err != nil {
		return nil, err
	}

	if opts.RealTalkJS {
		s.TalkJSURL = talkjs.DefaultBaseURL
	} else {
		s.talkjsSrv, s.TalkJS = talkjstest.NewServer(appID, key)
		s.TalkJSURL = s.talkjsSrv.URL
	}
	s.AWS = awstest.New()
	s.awsSrv = httptest.NewServer(s.AWS)
	s.AWSURL = s.awsSrv.URL
	secret, err := json.Marshal(map[string]any{"appId": appID, "secretKey": key, "webhookSecrets": hooks})
	if err != nil {
		return nil, fmt.Errorf("localrun: secret: %w", err)
	}
	s.AWS.SetSecret(SecretName, string(secret))
	s.SecretARN = awstest.SecretARN(SecretName)
	s.RejectsQueueURL = awstest.QueueURL(RejectsQueueName)
	if opts.Queued {
		name := CommandQueueName
		if opts.FIFO {
			name += ".fifo"
		}
		s.CommandQueueURL = awstest.QueueURL(name)
	}

	for _, fn := range fns {
		ro := rietest.Options{Env: s.env(fn, opts.Env), Timeout: opts.Timeout}
		if opts.Logs != nil {
			ro.Stdout = &prefixWriter{w: opts.Logs, prefix: []byte(fn + " | ")}
		}
		f, err := rietest.Start(ctx, bootstraps[fn], ro)
		if err != nil {
			return nil, fmt.Errorf("localrun: start %s: %w", fn, err)
		}
		s.functions[fn] = f
	}
	return s, nil
}

// env is a function's environment: what the SAM template sets, with the
// endpoints and credentials pointed at this machine.
func (s *Stack) env(fn string, extra []string) []string {
	env := []string{
		"AWS_LAMBDA_FUNCTION_NAME=" + fn,
		"AWS_REGION=" + awstest.Region,
		"AWS_DEFAULT_REGION=" + awstest.Region,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + s.AWSURL,
		"AWS_ENDPOINT_URL_SQS=" + s.AWSURL,
		// Fake static credentials: the SDK signs with them and the local
		// endpoint checks the signature's form, never its key.
		"AWS_ACCESS_KEY_ID=AKIDLOCALRUNLOCALRUN",
		"AWS_SECRET_ACCESS_KEY=localrun-fake-secret-access-key",
		// What Lambda sets; no X-Ray daemon listens locally, so this
		// checks that a missing trace context costs no log line per call.
		"AWS_XRAY_CONTEXT_MISSING=LOG_ERROR",
		"TALKJS_SECRET_ID=" + s.SecretARN,
		"TALKJS_API_URL=" + s.TalkJSURL,
	}
	if fn == Queue {
		env = append(env, "REJECTS_QUEUE_URL="+s.RejectsQueueURL)
	}
	if fn == Webhook && s.CommandQueueURL != "" {
		env = append(env, "COMMAND_QUEUE_URL="+s.CommandQueueURL)
	}
	return append(env, extra...)
}

// Client returns a TalkJS client for the app and key the functions use, to
// look at what they sent.
func (s *Stack) Client() (*talkjs.Client, error) {
	return talkjs.NewClient(s.AppID, talkjs.StaticKey(s.key), talkjs.WithBaseURL(s.TalkJSURL))
}

// Reset empties the emulator (users, conversations, messages, faults,
// request log). Nothing happens with real TalkJS.
func (s *Stack) Reset() {
	if s.TalkJS != nil {
		s.TalkJS.Reset()
	}
}

// Function returns the running function name, or nil if it was not started.
func (s *Stack) Function(name string) *rietest.Function { return s.functions[name] }

// Invoke sends event to function, as Lambda's synchronous Invoke does, and
// returns the handler's raw answer; a handler error is a *rietest.FunctionError
// returned with the raw body. Retrying re-runs the handler, which the
// bridge's idempotency keys make safe for sends.
func (s *Stack) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	f := s.functions[function]
	if f == nil {
		return nil, fmt.Errorf("localrun: function %q is not running (started: %s)", function, strings.Join(slices.Sorted(maps.Keys(s.functions)), ", "))
	}
	return f.Invoke(ctx, event)
}

// Logs returns everything function printed so far, or "" if it is not running.
func (s *Stack) Logs(function string) string {
	if f := s.functions[function]; f != nil {
		return f.Logs()
	}
	return ""
}

// Close stops the functions and the servers and removes a temporary build
// directory. Safe to call more than once.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		for _, f := range s.functions {
			errs = append(errs, f.Close())
		}
		if s.talkjsSrv != nil {
			s.talkjsSrv.Close()
		}
		if s.awsSrv != nil {
			s.awsSrv.Close()
		}
		if s.tempDir != "" {
			errs = append(errs, os.RemoveAll(s.tempDir))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func functionList(fns []string) ([]string, error) {
	if fns == nil {
		return slices.Clone(Functions), nil
	}
	if len(fns) == 0 {
		return nil, errors.New("localrun: Functions is empty; nil means all three")
	}
	seen := make(map[string]bool)
	for _, fn := range fns {
		if !slices.Contains(Functions, fn) {
			return nil, fmt.Errorf("localrun: unknown function %q (one of %s)", fn, strings.Join(Functions, ", "))
		}
		if seen[fn] {
			return nil, fmt.Errorf("localrun: function %q given twice", fn)
		}
		seen[fn] = true
	}
	return slices.Clone(fns), nil
}

// modulePath is the import path prefix of the functions' main packages.
const modulePath = "github.com/talkjs-bridge/talkjs-bridge/functions/"

// bootstrapPaths builds (or finds) dir/<fn>/bootstrap for each function.
// The builds run one after another: they share most packages, and the
// second and third then come from the build cache.
func bootstrapPaths(ctx context.Context, dir string, fns []string, prebuilt bool) (map[string]string, error) {
	out := make(map[string]string, len(fns))
	for _, fn := range fns {
		if prebuilt {
			p, err := filepath.Abs(filepath.Join(dir, fn, "bootstrap"))
			if err != nil {
				return nil, fmt.Errorf("localrun: %w", err)
			}
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("localrun: Prebuilt: %w (run `make build ARCH=<this machine's arch>` first)", err)
			}
			out[fn] = p
			continue
		}
		p, err := rietest.Build(ctx, modulePath+fn, filepath.Join(dir, fn))
		if err != nil {
			return nil, fmt.Errorf("localrun: build %s: %w", fn, err)
		}
		out[fn] = p
	}
	return out, nil
}

// prefixWriter prefixes each line with the function's name. rietest may
// hand it partial lines, so it keeps the tail until the line ends.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := append(slices.Clone(p.prefix), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

package rietest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout is the function timeout when Options.Timeout is zero. It is
// longer than Lambda's 3 s default so a slow, race-instrumented test run does
// not time out; set Options.Timeout to match the SAM template when it matters.
const DefaultTimeout = 30 * time.Second

// Options configures a Function.
type Options struct {
	// Env holds KEY=VALUE pairs added to the minimal environment (PATH, HOME,
	// TMPDIR, AWS_LAMBDA_FUNCTION_NAME=rietest, AWS_REGION and
	// AWS_DEFAULT_REGION=us-east-1, AWS_LAMBDA_FUNCTION_TIMEOUT). Later pairs
	// win. The emulator reads some of these itself (AWS_LAMBDA_FUNCTION_NAME,
	// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_VERSION, LOG_LEVEL)
	// and passes all of them to the function. The host's AWS credentials are
	// never passed on; set fake ones here when an SDK client needs them.
	Env []string
	// Timeout is the function timeout, rounded up to whole seconds as the
	// emulator only takes seconds. Zero means DefaultTimeout.
	Timeout time.Duration
	// Stdout, when set, receives a copy of everything the emulator and the
	// function print, as it is printed.
	Stdout io.Writer
}

// FunctionError is the error answer of an invoke: the handler returned an
// error or panicked (StatusCode 200, as in Lambda), the function timed out
// (Type "Sandbox.Timedout") or the runtime process exited (StatusCode 502,
// Type "Runtime.ExitError").
type FunctionError struct {
	Type       string
	Message    string
	StatusCode int
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("rietest: function error %s: %s", e.Type, e.Message)
}

// Function is one function running under the emulator: a warm execution
// environment whose bootstrap starts on the first Invoke. Its methods are safe
// for concurrent use; invokes run one at a time.
type Function struct {
	url    string
	cmd    *exec.Cmd
	done   chan struct{} // closed when the emulator process has exited
	logs   *logSink
	client *http.Client

	invokeMu sync.Mutex

	closeOnce sync.Once
	closeErr  error
}

const startAttempts = 3

// Start builds the emulator if needed, runs it for bootstrap on two free
// 127.0.0.1 ports and returns once both its invoke and runtime API ports
// accept connections. ctx bounds the start only; the process runs until Close.
// The bootstrap's working directory is its own directory, as /var/task is in
// Lambda. Not safe to retry without closing the Function it returned.
func Start(ctx context.Context, bootstrap string, opts Options) (*Function, error) {
	if !supported {
		return nil, errUnsupported
	}
	bootstrap, err := checkBootstrap(bootstrap)
	if err != nil {
		return nil, err
	}
	env, err := environment(opts)
	if err != nil {
		return nil, err
	}
	rie, err := Emulator(ctx)
	if err != nil {
		return nil, err
	}
	// Free ports are found by binding and releasing them, so another process
	// may take one before the emulator binds it; try again on fresh ports.
	for attempt := 1; ; attempt++ {
		f, err := start(ctx, rie, bootstrap, env, opts.Stdout)
		if err == nil {
			return f, nil
		}
		if attempt == startAttempts || !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			return nil, err
		}
	}
}

var errPortTaken = errors.New("port taken")

func start(ctx context.Context, rie, bootstrap string, env []string, tee io.Writer) (*Function, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	invokeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	runtimeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))

	logs := newLogSink(tee)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	// One writer for both streams: os/exec then uses a single pipe, which
	// keeps the emulator's and the function's lines in order.
	cmd.Stdout = logs
	cmd.Stderr = logs
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("rietest: start emulator: %w", err)
	}
	f := &Function{
		url:  "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
		cmd:  cmd,
		done: make(chan struct{}),
		logs: logs,
		client: &http.Client{Transport: &http.Transport{
			Proxy:               nil, // loopback only, whatever HTTP_PROXY says
			MaxIdleConnsPerHost: 1,
		}},
	}
	go func() {
		cmd.Wait()
		close(f.done)
	}()

	if err := f.waitReady(ctx, invokeAddr, runtimeAddr); err != nil {
		f.Close()
		logText := logs.String()
		if strings.Contains(logText, "address already in use") {
			err = fmt.Errorf("%w: %w", err, errPortTaken)
		}
		return nil, fmt.Errorf("%w; emulator output:\n%s", err, logText)
	}
	return f, nil
}

func (f *Function) waitReady(ctx context.Context, addrs ...string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ready := true
		for _, addr := range addrs {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				ready = false
				break
			}
			c.Close()
		}
		if ready {
			return nil
		}
		select {
		case <-f.done:
			return fmt.Errorf("rietest: emulator exited during start: %v", f.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("rietest: waiting for emulator ports: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func checkBootstrap(path string) (string, error) {
	if path == "" {
		return "", errors.New("rietest: empty bootstrap path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("rietest: bootstrap %q: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("rietest: bootstrap: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("rietest: bootstrap %s is not an executable file", abs)
	}
	return abs, nil
}

// environment builds the emulator's (and so the function's) environment.
func environment(opts Options) ([]string, error) {
	timeout := opts.Timeout
	if timeout < 0 {
		return nil, fmt.Errorf("rietest: negative timeout %v", timeout)
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	secs := int64((timeout + time.Second - 1) / time.Second)

	home := os.Getenv("HOME")
	if home == "" {
		home = os.TempDir()
	}
	vars := map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        home,
		"TMPDIR":                      os.TempDir(),
		"AWS_LAMBDA_FUNCTION_NAME":    "rietest",
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "us-east-1",
		"AWS_LAMBDA_FUNCTION_TIMEOUT": strconv.FormatInt(secs, 10),
	}
	order := []string{"PATH", "HOME", "TMPDIR", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_TIMEOUT"}
	for _, kv := range opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(k, "\x00") || strings.ContainsAny(v, "\x00") {
			return nil, fmt.Errorf("rietest: env entry %q is not KEY=VALUE", redactValue(kv))
		}
		if _, seen := vars[k]; !seen {
			order = append(order, k)
		}
		vars[k] = v
	}
	// The emulator panics on a timeout that is not whole seconds.
	if n, err := strconv.ParseInt(vars["AWS_LAMBDA_FUNCTION_TIMEOUT"], 10, 64); err != nil || n <= 0 {
		return nil, fmt.Errorf("rietest: AWS_LAMBDA_FUNCTION_TIMEOUT=%q is not a positive number of seconds", vars["AWS_LAMBDA_FUNCTION_TIMEOUT"])
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vars[k])
	}
	return env, nil
}

// redactValue keeps an env entry's key but not its value, which may be secret.
func redactValue(kv string) string {
	k, _, ok := strings.Cut(kv, "=")
	if !ok {
		if len(kv) > 40 {
			return kv[:40] + "…"
		}
		return kv
	}
	return k + "=…"
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("rietest: find a free port: %w", err)
		}
		// Held open until all are found, so the ports differ.
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// reportWait bounds how long Invoke waits for the REPORT line of an invoke
// that the emulator has already answered.
const reportWait = 2 * time.Second

// Invoke sends event to the function, as Lambda's synchronous Invoke does, and
// returns the handler's raw answer. An error answer is returned as a
// *FunctionError together with the raw body. Invokes are serialised; if ctx
// ends mid-invoke the emulator still finishes that invoke, and a concurrent
// one may then be refused with 400. Retrying re-runs the handler.
func (f *Function) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	return f.Do(ctx, Invocation{Event: event})
}

// Invocation is one invoke with the metadata Lambda would attach to it.
type Invocation struct {
	Event []byte
	// RequestID becomes the function's request id (lambdacontext AwsRequestID
	// and the REPORT line); empty means a random UUID.
	RequestID string
	// There is no trace header: this emulator drops X-Amzn-Trace-Id (its
	// tracer is a no-op), so the function never sees _X_AMZN_TRACE_ID.
}

// Do is Invoke with a chosen request id. Retrying re-runs the handler.
func (f *Function) Do(ctx context.Context, inv Invocation) ([]byte, error) {
	f.invokeMu.Lock()
	defer f.invokeMu.Unlock()
	select {
	case <-f.done:
		return nil, errors.New("rietest: invoke: emulator is not running")
	default:
	}
	id := inv.RequestID
	if id == "" {
		var err error
		if id, err = newRequestID(); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(inv.Event))
	if err != nil {
		return nil, fmt.Errorf("rietest: invoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	// Choosing the request id lets Invoke wait for that invoke's REPORT.
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rietest: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("rietest: invoke: read answer: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		f.logs.waitReport(id, reportWait)
	}
	return body, answerError(resp.StatusCode, body)
}

// timeoutPrefix starts the emulator's plain-text answer to a timed-out
// invoke, e.g. "Task timed out after 3.00 seconds", sent with status 200.
const timeoutPrefix = "Task timed out after "

// answerError classifies an emulator answer: nil for a handler result, a
// *FunctionError for an error answer, another error when the emulator itself
// refused the invoke.
func answerError(status int, body []byte) error {
	if status == http.StatusOK && bytes.HasPrefix(body, []byte(timeoutPrefix)) {
		return &FunctionError{Type: "Sandbox.Timedout", Message: string(body), StatusCode: status}
	}
	if fe, ok := parseErrorObject(body); ok {
		fe.StatusCode = status
		return fe
	}
	if status == http.StatusOK {
		return nil
	}
	return fmt.Errorf("rietest: emulator answered %d: %.200q", status, body)
}

// parseErrorObject recognises the error object of the runtime API: only the
// keys errorMessage, errorType and stackTrace, with at least one of the first
// two. A handler result with other keys is never taken for an error.
func parseErrorObject(body []byte) (*FunctionError, bool) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || len(obj) == 0 {
		return nil, false
	}
	for k := range obj {
		switch k {
		case "errorMessage", "errorType", "stackTrace":
		default:
			return nil, false
		}
	}
	var fe FunctionError
	_, hasType := obj["errorType"]
	_, hasMsg := obj["errorMessage"]
	if !hasType && !hasMsg {
		return nil, false
	}
	if hasType && json.Unmarshal(obj["errorType"], &fe.Type) != nil {
		return nil, false
	}
	if hasMsg && json.Unmarshal(obj["errorMessage"], &fe.Message) != nil {
		return nil, false
	}
	return &fe, true
}

func newRequestID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("rietest: request id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// Logs returns everything the emulator and the function printed so far,
// stdout and stderr interleaved in order.
func (f *Function) Logs() string { return f.logs.String() }

// Reports returns the REPORT lines printed so far, oldest first. Every
// completed invoke (including handler errors and timeouts) has one; one that
// crashed the runtime has none.
func (f *Function) Reports() []Report { return f.logs.Reports() }

// Inits returns the duration of every runtime init so far, as the emulator
// measured it from the bootstrap's start until its first call for the next
// event: one for the first invoke, one more for each restart after a timeout
// or a crash. This, not Report.InitDuration, is the cold-start cost.
func (f *Function) Inits() []time.Duration { return f.logs.Inits() }

// closeGrace is how long the emulator gets to stop the bootstrap and exit
// after SIGTERM before both are killed.
const closeGrace = 5 * time.Second

// Close stops the emulator and the bootstrap and waits until both have exited
// and been reaped. On SIGTERM the emulator kills the bootstrap's process group
// itself; anything left 5 s later is killed. Safe to call more than
// once; later calls return the first result.
func (f *Function) Close() error {
	f.closeOnce.Do(func() { f.closeErr = f.close() })
	return f.closeErr
}

func (f *Function) close() error {
	defer f.client.CloseIdleConnections()
	pid := f.cmd.Process.Pid
	// The emulator starts the bootstrap in a process group of its own, so
	// signalling the emulator's group does not reach it: note it now.
	kids := children(pid)

	select {
	case <-f.done:
	default:
		terminate(pid)
		select {
		case <-f.done:
		case <-time.After(closeGrace):
			killGroup(pid)
			<-f.done
		}
	}
	var left []int
	for _, kid := range kids {
		if !waitGone(kid, time.Second) {
			killGroup(kid)
			if !waitGone(kid, time.Second) {
				left = append(left, kid)
			}
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("rietest: close: bootstrap processes %v still running", left)
	}
	return nil
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

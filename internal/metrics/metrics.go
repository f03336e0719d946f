package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/jsonstring"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Metric names, as they appear in CloudWatch.
const (
	Sent          = "Sent"
	Retried       = "Retried"
	Rejected      = "Rejected"
	TalkJSLatency = "TalkJSLatency"
	// TalkJS answers by status class, one count per HTTP attempt.
	TalkJS2xx = "TalkJS2xx"
	TalkJS4xx = "TalkJS4xx"
	TalkJS5xx = "TalkJS5xx"
	// TalkJSNoAnswer counts attempts that got no HTTP answer (timeout,
	// connection refused, TLS failure).
	TalkJSNoAnswer = "TalkJSNoAnswer"
)

// DimensionFunction is the function's name; every metric has it.
const DimensionFunction = "Function"

// DimensionRoute is the routes file's route a metric was recorded under
// (WithRoute); metrics recorded with no route have only DimensionFunction.
const DimensionRoute = "Route"

// maxValues is EMF's limit on the values of one metric in one line.
const maxValues = 100

// Recorder accumulates one invocation's metrics, per route. Its methods are
// safe for concurrent use and do nothing on a nil *Recorder, so code can
// record into FromContext(ctx) without checking.
type Recorder struct {
	*state
	route string
}

// state is one invocation's metrics, shared by the Recorders of its routes.
type state struct {
	namespace string
	function  string
	now       func() time.Time

	mu     sync.Mutex
	routes []*routeData // in the order first recorded; [0] is the route ""
}

type routeData struct {
	route   string
	counts  counts
	latency []float64
}

// New returns an empty Recorder for namespace (BRIDGE_METRICS_NAMESPACE) and
// function (lambdacontext.FunctionName).
func New(namespace, function string) *Recorder {
	return &Recorder{state: &state{namespace: namespace, function: function, now: time.Now, routes: []*routeData{{}}}}
}

type ctxKey struct{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the Recorder in ctx, or nil.
func FromContext(ctx context.Context) *Recorder {
	r, _ := ctx.Value(ctxKey{}).(*Recorder)
	return r
}

// WithRoute returns ctx whose Recorder records under route: what is
// counted through it gets a Route dimension besides Function (route ""
// records with Function only). Without a Recorder in ctx, ctx is returned
// as is. Pure.
func WithRoute(ctx context.Context, route string) context.Context {
	r := FromContext(ctx)
	if r == nil || r.route == route {
		return ctx
	}
	return NewContext(ctx, &Recorder{state: r.state, route: route})
}

// counts are the counters of one route, indexed by counter.
type counts [7]int

type counter int

const (
	sentCounter counter = iota
	retriedCounter
	rejectedCounter
	status2xxCounter
	status4xxCounter
	status5xxCounter
	noAnswerCounter
)

// data returns the route's entry; the caller holds mu.
func (r *Recorder) data() *routeData {
	for _, d := range r.routes {
		if d.route == r.route {
			return d
		}
	}
	d := &routeData{route: r.route}
	r.routes = append(r.routes, d)
	return d
}

func (r *Recorder) add(c counter, n int) {
	if r == nil || r.state == nil || n <= 0 {
		return
	}
	r.mu.Lock()
	r.data().counts[c] += n
	r.mu.Unlock()
}

// Sent counts n messages TalkJS accepted.
func (r *Recorder) Sent(n int) { r.add(sentCounter, n) }

// Retried counts n TalkJS attempts that were followed by a retry.
func (r *Recorder) Retried(n int) { r.add(retriedCounter, n) }

// Rejected counts n records or events that can never be delivered.
func (r *Recorder) Rejected(n int) { r.add(rejectedCounter, n) }

// Status counts one TalkJS attempt by the class of its answer's status
// code; 0 means no answer arrived. 1xx and 3xx are not counted: TalkJS
// does not send them to the client.
func (r *Recorder) Status(code int) {
	switch {
	case code == 0:
		r.add(noAnswerCounter, 1)
	case code >= 200 && code < 300:
		r.add(status2xxCounter, 1)
	case code >= 400 && code < 500:
		r.add(status4xxCounter, 1)
	case code >= 500:
		r.add(status5xxCounter, 1)
	}
}

// Latency records the duration of one TalkJS HTTP attempt.
func (r *Recorder) Latency(d time.Duration) {
	if r == nil || r.state == nil {
		return
	}
	r.mu.Lock()
	rd := r.data()
	rd.latency = append(rd.latency, float64(d.Microseconds())/1000)
	r.mu.Unlock()
}

// AttemptHook records one TalkJS HTTP attempt (its latency, its status
// class, and a retry if one follows) into the Recorder in ctx, under the
// route WithRoute put there. Pass it to talkjs.WithAttemptHook once, when
// the shared client is built.
func AttemptHook(ctx context.Context, a talkjs.Attempt) {
	r := FromContext(ctx)
	if r == nil {
		return
	}
	r.Latency(a.Duration)
	r.Status(a.StatusCode)
	if a.WillRetry {
		r.Retried(1)
	}
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

// emfLine is one EMF document: the metadata, the dimensions, and the values.
// The counters are pointers so that later lines (latency overflow) omit
// them instead of reporting zeros twice.
type emfLine struct {
	AWS            awsMeta   `json:"_aws"`
	Function       string    `json:"Function"`
	Route          string    `json:"Route,omitempty"`
	Sent           *int      `json:"Sent,omitempty"`
	Retried        *int      `json:"Retried,omitempty"`
	Rejected       *int      `json:"Rejected,omitempty"`
	TalkJS2xx      *int      `json:"TalkJS2xx,omitempty"`
	TalkJS4xx      *int      `json:"TalkJS4xx,omitempty"`
	TalkJS5xx      *int      `json:"TalkJS5xx,omitempty"`
	TalkJSNoAnswer *int      `json:"TalkJSNoAnswer,omitempty"`
	TalkJSLatency  []float64 `json:"TalkJSLatency,omitempty"`
}

var (
	// A line with a route is aggregated per function too, so the
	// per-function graphs count every route.
	functionDims = [][]string{{DimensionFunction}}
	routeDims    = [][]string{{DimensionFunction}, {DimensionFunction, DimensionRoute}}
	countDefs    = []metricDef{
		{Sent, "Count"}, {Retried, "Count"}, {Rejected, "Count"},
		{TalkJS2xx, "Count"}, {TalkJS4xx, "Count"}, {TalkJS5xx, "Count"}, {TalkJSNoAnswer, "Count"},
	}
	latencyDefs = []metricDef{{TalkJSLatency, "Milliseconds"}}
	allDefs     = append(slices.Clone(countDefs), latencyDefs...)
)

type awsMeta struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Flush writes the metrics recorded since the last Flush, one EMF line per
// route (more only when over 100 latency values, EMF's limit per line), and
// starts over. Counters are written even when zero, so a quiet invocation
// still reports Sent=0 (one line, with no route). Call it once at the end
// of each invocation. A write error is returned; the counts are cleared
// either way, so a retry does not double them.
func (r *Recorder) Flush(w io.Writer) error {
	if r == nil || r.state == nil {
		return nil
	}
	r.mu.Lock()
	routes := r.routes
	r.routes = []*routeData{{}}
	ts := r.now().UnixMilli()
	r.mu.Unlock()

	var lines [][]byte
	for i, rd := range routes {
		// The no-route line only when something was recorded without a
		// route, or nothing was recorded at all.
		if i == 0 && len(routes) > 1 && rd.counts == (counts{}) && len(rd.latency) == 0 {
			continue
		}
		var err error
		if lines, err = r.appendLines(lines, rd, ts); err != nil {
			return err
		}
	}
	defer func() {
		// Writers do not keep what they are given (io.Writer), so the
		// lines' buffers serve the next invocation's.
		for _, l := range lines {
			putLineBuf(l)
		}
	}()
	for _, l := range lines {
		if _, err := w.Write(l); err != nil {
			return fmt.Errorf("metrics: writing EMF: %w", err)
		}
	}
	return nil
}

var lineBufs sync.Pool

func getLineBuf() []byte {
	if b, ok := lineBufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 640)
}

func putLineBuf(b []byte) {
	b = b[:0]
	lineBufs.Put(&b)
}

// appendLines encodes one route's metrics. A struct, not a map: encoding the
// line is a fair share of a warm invocation's own CPU, and a map goes
// through reflection and sorting.
func (r *Recorder) appendLines(lines [][]byte, rd *routeData, ts int64) ([][]byte, error) {
	dims := functionDims
	if rd.route != "" {
		dims = routeDims
	}
	latency := rd.latency
	if len(latency) == 0 {
		// The usual line (every webhook and most queue invocations):
		// counters only, written without reflection.
		return append(lines, appendCountLine(getLineBuf(), r.namespace, r.function, rd.route, dims, &rd.counts, ts)), nil
	}
	first := true
	for first || len(latency) > 0 {
		line := emfLine{Function: r.function, Route: rd.route}
		defs := latencyDefs
		if first {
			c := rd.counts
			line.Sent, line.Retried, line.Rejected = &c[sentCounter], &c[retriedCounter], &c[rejectedCounter]
			line.TalkJS2xx, line.TalkJS4xx = &c[status2xxCounter], &c[status4xxCounter]
			line.TalkJS5xx, line.TalkJSNoAnswer = &c[status5xxCounter], &c[noAnswerCounter]
			defs = countDefs
			if len(latency) > 0 {
				defs = allDefs
			}
		}
		if len(latency) > 0 {
			n := min(len(latency), maxValues)
			line.TalkJSLatency = latency[:n]
			latency = latency[n:]
		}
		line.AWS = awsMeta{
			Timestamp: ts,
			CloudWatchMetrics: []directive{{
				Namespace:  r.namespace,
				Dimensions: dims,
				Metrics:    defs,
			}},
		}
		b, err := json.Marshal(line)
		if err != nil {
			return lines, fmt.Errorf("metrics: encoding EMF: %w", err)
		}
		lines = append(lines, append(b, '\n'))
		first = false
	}
	return lines, nil
}

// appendCountLine appends the EMF line of a route's counters and a newline,
// as json.Marshal writes its emfLine (without latency values).
func appendCountLine(b []byte, namespace, function, route string, dims [][]string, c *counts, ts int64) []byte {
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = jsonstring.AppendString(b, namespace)
	b = append(b, `,"Dimensions":`...)
	if dims == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, set := range dims {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			for j, d := range set {
				if j > 0 {
					b = append(b, ',')
				}
				b = jsonstring.AppendString(b, d)
			}
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	b = append(b, `,"Metrics":[`...)
	for i, d := range countDefs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Name":`...)
		b = jsonstring.AppendString(b, d.Name)
		b = append(b, `,"Unit":`...)
		b = jsonstring.AppendString(b, d.Unit)
		b = append(b, '}')
	}
	b = append(b, `]}]},"Function":`...)
	b = jsonstring.AppendString(b, function)
	if route != "" {
		b = append(b, `,"Route":`...)
		b = jsonstring.AppendString(b, route)
	}
	for _, f := range []struct {
		name string
		i    counter
	}{
		{Sent, sentCounter}, {Retried, retriedCounter}, {Rejected, rejectedCounter},
		{TalkJS2xx, status2xxCounter}, {TalkJS4xx, status4xxCounter}, {TalkJS5xx, status5xxCounter}, {TalkJSNoAnswer, noAnswerCounter},
	} {
		b = append(b, ',', '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, int64(c[f.i]), 10)
	}
	return append(b, '}', '\n')
}

package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Metric names, as they appear in CloudWatch.
const (
	Sent          = "Sent"
	Retried       = "Retried"
	Rejected      = "Rejected"
	TalkJSLatency = "TalkJSLatency"
)

// DimensionFunction is the one dimension: the function's name.
const DimensionFunction = "Function"

// maxValues is EMF's limit on the values of one metric in one line.
const maxValues = 100

// Recorder accumulates one invocation's metrics. Its methods are safe for
// concurrent use and do nothing on a nil *Recorder, so code can record into
// FromContext(ctx) without checking.
type Recorder struct {
	namespace string
	function  string
	now       func() time.Time

	mu      sync.Mutex
	counts  counts
	latency []float64
}

// New returns an empty Recorder for namespace (BRIDGE_METRICS_NAMESPACE) and
// function (lambdacontext.FunctionName).
func New(namespace, function string) *Recorder {
	return &Recorder{namespace: namespace, function: function, now: time.Now}
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

// counts are the counters of one invocation, indexed by counter.
type counts [3]int

type counter int

const (
	sentCounter counter = iota
	retriedCounter
	rejectedCounter
)

func (r *Recorder) add(c counter, n int) {
	if r == nil || n <= 0 {
		return
	}
	r.mu.Lock()
	r.counts[c] += n
	r.mu.Unlock()
}

// Sent counts n messages TalkJS accepted.
func (r *Recorder) Sent(n int) { r.add(sentCounter, n) }

// Retried counts n TalkJS attempts that were followed by a retry.
func (r *Recorder) Retried(n int) { r.add(retriedCounter, n) }

// Rejected counts n records or events that can never be delivered.
func (r *Recorder) Rejected(n int) { r.add(rejectedCounter, n) }

// Latency records the duration of one TalkJS HTTP attempt.
func (r *Recorder) Latency(d time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.latency = append(r.latency, float64(d.Microseconds())/1000)
	r.mu.Unlock()
}

// AttemptHook records one TalkJS HTTP attempt (its latency, and a retry if one
// follows) into the Recorder in ctx. Pass it to talkjs.WithAttemptHook once,
// when the shared client is built.
func AttemptHook(ctx context.Context, a talkjs.Attempt) {
	r := FromContext(ctx)
	if r == nil {
		return
	}
	r.Latency(a.Duration)
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

// emfLine is one EMF document: the metadata, the dimension, and the values.
// The counters are pointers so that later lines (latency overflow) omit
// them instead of reporting zeros twice.
type emfLine struct {
	AWS           awsMeta   `json:"_aws"`
	Function      string    `json:"Function"`
	Sent          *int      `json:"Sent,omitempty"`
	Retried       *int      `json:"Retried,omitempty"`
	Rejected      *int      `json:"Rejected,omitempty"`
	TalkJSLatency []float64 `json:"TalkJSLatency,omitempty"`
}

var (
	dimensions  = [][]string{{DimensionFunction}}
	countDefs   = []metricDef{{Sent, "Count"}, {Retried, "Count"}, {Rejected, "Count"}}
	latencyDefs = []metricDef{{TalkJSLatency, "Milliseconds"}}
	allDefs     = append(slices.Clone(countDefs), latencyDefs...)
)

type awsMeta struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Flush writes the metrics recorded since the last Flush as one EMF line
// (more only when over 100 latency values, EMF's limit per line) and starts
// over. Counters are written even when zero, so a quiet invocation still
// reports Sent=0. Call it once at the end of each invocation. A write error
// is returned; the counts are cleared either way, so a retry does not double
// them.
func (r *Recorder) Flush(w io.Writer) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	c, latency := r.counts, r.latency
	r.counts, r.latency = counts{}, nil
	ts := r.now().UnixMilli()
	r.mu.Unlock()

	// A struct, not a map: encoding the line is a fair share of a warm
	// invocation's own CPU, and a map goes through reflection and sorting.
	var lines [][]byte
	first := true
	for first || len(latency) > 0 {
		line := emfLine{Function: r.function}
		defs := latencyDefs
		if first {
			sent, retried, rejected := c[sentCounter], c[retriedCounter], c[rejectedCounter]
			line.Sent, line.Retried, line.Rejected = &sent, &retried, &rejected
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
				Dimensions: dimensions,
				Metrics:    defs,
			}},
		}
		b, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("metrics: encoding EMF: %w", err)
		}
		lines = append(lines, append(b, '\n'))
		first = false
	}
	for _, l := range lines {
		if _, err := w.Write(l); err != nil {
			return fmt.Errorf("metrics: writing EMF: %w", err)
		}
	}
	return nil
}

package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

type emf struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
	Function      string
	Route         string
	Sent          *int
	Retried       *int
	Rejected      *int
	TalkJSLatency []float64
}

// parseEMF checks each line against the EMF rules CloudWatch applies and
// returns the documents.
func parseEMF(t *testing.T, out string) []emf {
	t.Helper()
	var docs []emf
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var raw map[string]any
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		var d emf
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		if d.AWS.Timestamp == 0 || len(d.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("no _aws.Timestamp or CloudWatchMetrics: %s", line)
		}
		dir := d.AWS.CloudWatchMetrics[0]
		for _, dims := range dir.Dimensions {
			for _, dim := range dims {
				if _, ok := raw[dim].(string); !ok {
					t.Errorf("dimension %s has no string value in %s", dim, line)
				}
			}
		}
		for _, m := range dir.Metrics {
			v, ok := raw[m.Name]
			if !ok {
				t.Errorf("metric %s declared but absent: %s", m.Name, line)
			}
			if arr, isArr := v.([]any); isArr && (len(arr) == 0 || len(arr) > 100) {
				t.Errorf("metric %s has %d values (EMF allows 1..100)", m.Name, len(arr))
			}
		}
		docs = append(docs, d)
	}
	return docs
}

func TestFlush(t *testing.T) {
	r := New("TalkJSBridge", "queue")
	r.state.now = func() time.Time { return time.UnixMilli(1767225600123) }
	r.Sent(3)
	r.Sent(2)
	r.Retried(1)
	r.Rejected(1)
	r.Latency(12500 * time.Microsecond)
	r.Latency(40 * time.Millisecond)

	var b bytes.Buffer
	if err := r.Flush(&b); err != nil {
		t.Fatal(err)
	}
	docs := parseEMF(t, b.String())
	if len(docs) != 1 {
		t.Fatalf("%d lines, want 1", len(docs))
	}
	d := docs[0]
	dir := d.AWS.CloudWatchMetrics[0]
	if d.AWS.Timestamp != 1767225600123 || dir.Namespace != "TalkJSBridge" || d.Function != "queue" {
		t.Errorf("header = %+v function %q", d.AWS, d.Function)
	}
	if *d.Sent != 5 || *d.Retried != 1 || *d.Rejected != 1 {
		t.Errorf("counts = sent %d retried %d rejected %d", *d.Sent, *d.Retried, *d.Rejected)
	}
	if len(d.TalkJSLatency) != 2 || d.TalkJSLatency[0] != 12.5 || d.TalkJSLatency[1] != 40 {
		t.Errorf("latency = %v, want [12.5 40]", d.TalkJSLatency)
	}
	units := map[string]string{}
	for _, m := range dir.Metrics {
		units[m.Name] = m.Unit
	}
	if units[Sent] != "Count" || units[TalkJSLatency] != "Milliseconds" || len(units) != len(allDefs) {
		t.Errorf("metric definitions = %v", units)
	}

	// Flush starts over: the next invocation reports zeros and no latency.
	b.Reset()
	if err := r.Flush(&b); err != nil {
		t.Fatal(err)
	}
	d = parseEMF(t, b.String())[0]
	if d.Sent == nil || *d.Sent != 0 || d.TalkJSLatency != nil {
		t.Errorf("after a flush: sent %v latency %v", d.Sent, d.TalkJSLatency)
	}
}

func TestFlushSplitsLatencyOver100(t *testing.T) {
	r := New("NS", "webhook")
	for i := range 250 {
		r.Latency(time.Duration(i) * time.Millisecond)
	}
	var b bytes.Buffer
	if err := r.Flush(&b); err != nil {
		t.Fatal(err)
	}
	docs := parseEMF(t, b.String())
	if len(docs) != 3 {
		t.Fatalf("%d lines, want 3", len(docs))
	}
	total := 0
	for i, d := range docs {
		total += len(d.TalkJSLatency)
		if (i == 0) != (d.Sent != nil) {
			t.Errorf("line %d: counters present = %v", i, d.Sent != nil)
		}
	}
	if total != 250 {
		t.Errorf("%d latency values written, want 250", total)
	}
}

func TestNilRecorderIsSafe(t *testing.T) {
	var r *Recorder
	r.Sent(1)
	r.Latency(time.Second)
	if err := r.Flush(&bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if FromContext(t.Context()) != nil {
		t.Error("FromContext of an empty context is not nil")
	}
	AttemptHook(t.Context(), talkjs.Attempt{WillRetry: true})
}

func TestConcurrentRecording(t *testing.T) {
	r := New("NS", "queue")
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { r.Sent(1); r.Latency(time.Millisecond) })
	}
	wg.Wait()
	var b bytes.Buffer
	if err := r.Flush(&b); err != nil {
		t.Fatal(err)
	}
	if d := parseEMF(t, b.String())[0]; *d.Sent != 50 || len(d.TalkJSLatency) != 50 {
		t.Errorf("sent %d latency values %d, want 50 and 50", *d.Sent, len(d.TalkJSLatency))
	}
}

func TestAttemptHookWithClient(t *testing.T) {
	srv, emu := talkjstest.NewServer("tApp", "sk_test_metrics")
	t.Cleanup(srv.Close)
	c, err := talkjs.NewClient("tApp", talkjs.StaticKey("sk_test_metrics"), talkjs.WithBaseURL(srv.URL),
		talkjs.WithAttemptHook(AttemptHook),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpsertConversation(t.Context(), "c1", talkjs.ConversationUpdate{}); err != nil {
		t.Fatal(err)
	}
	emu.AddFault(talkjstest.Fault{Status: 503, Times: 1})

	r := New("NS", "queue")
	ctx := NewContext(t.Context(), r)
	if _, err := c.SendMessages(ctx, "c1", talkjs.NewMessage{Type: talkjs.SystemMessage, Text: "hi", IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.Flush(&b); err != nil {
		t.Fatal(err)
	}
	d := parseEMF(t, b.String())[0]
	if *d.Retried != 1 || len(d.TalkJSLatency) != 2 {
		t.Errorf("retried %d, latency values %v; want 1 retry and 2 attempts", *d.Retried, d.TalkJSLatency)
	}
	if strings.Contains(b.String(), "sk_test_metrics") {
		t.Error("the key reached the metrics output")
	}
}

// Metrics recorded under a route get a line of their own with a Route
// dimension, and still count towards the function (its dimension set is
// there too); the no-route line is written only when it has something.
func TestRoutes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		record func(ctx context.Context)
		want   map[string][2]int // route -> sent, rejected
	}{
		{"quiet invocation", func(context.Context) {}, map[string][2]int{"": {0, 0}}},
		{"one route", func(ctx context.Context) {
			FromContext(WithRoute(ctx, "github")).Sent(2)
		}, map[string][2]int{"github": {2, 0}}},
		{"routes and no route", func(ctx context.Context) {
			gh := WithRoute(ctx, "github")
			FromContext(gh).Sent(1)
			FromContext(WithRoute(ctx, "stripe")).Rejected(1)
			FromContext(WithRoute(gh, "github")).Sent(1)
			FromContext(ctx).Rejected(3)
		}, map[string][2]int{"": {0, 3}, "github": {2, 0}, "stripe": {0, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New("NS", "webhook")
			tc.record(NewContext(t.Context(), r))
			var b bytes.Buffer
			if err := r.Flush(&b); err != nil {
				t.Fatal(err)
			}
			got := map[string][2]int{}
			for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
				var raw struct {
					Route string
					AWS   struct {
						CloudWatchMetrics []struct{ Dimensions [][]string }
					} `json:"_aws"`
				}
				if err := json.Unmarshal([]byte(line), &raw); err != nil {
					t.Fatal(err)
				}
				dims := raw.AWS.CloudWatchMetrics[0].Dimensions
				wantDims := [][]string{{"Function"}}
				if raw.Route != "" {
					wantDims = [][]string{{"Function"}, {"Function", "Route"}}
				}
				if fmt.Sprint(dims) != fmt.Sprint(wantDims) {
					t.Errorf("route %q: dimensions %v, want %v", raw.Route, dims, wantDims)
				}
			}
			for _, d := range parseEMF(t, b.String()) {
				got[d.Route] = [2]int{*d.Sent, *d.Rejected}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("per route (sent, rejected) = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStatusClasses(t *testing.T) {
	r := New("NS", "queue")
	ctx := WithRoute(NewContext(t.Context(), r), "alertmanager")
	for _, code := range []int{200, 201, 429, 400, 503, 500, 502, 0} {
		AttemptHook(ctx, talkjs.Attempt{StatusCode: code, Duration: time.Millisecond, WillRetry: code >= 500 || code == 429 || code == 0})
	}
	var b bytes.Buffer
	if err := r.Flush(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(b.Bytes()), &got); err != nil {
		t.Fatalf("want one line: %v: %s", err, b.String())
	}
	for name, want := range map[string]float64{TalkJS2xx: 2, TalkJS4xx: 2, TalkJS5xx: 3, TalkJSNoAnswer: 1, Retried: 5} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	if got["Route"] != "alertmanager" {
		t.Errorf("Route = %v, want alertmanager", got["Route"])
	}
}

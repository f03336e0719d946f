package metrics

import (
	"encoding/json"
	"testing"
)

// TestCountLineMatchesEncodingJSON: the counters-only line is the bytes
// json.Marshal writes for the same emfLine.
func TestCountLineMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name                 string
		namespace, fn, route string
		dims                 [][]string
		c                    counts
	}{
		{"no route, zero", "TalkJSBridge", "webhook", "", functionDims, counts{}},
		{"route", "TalkJSBridge", "queue", "github", routeDims, counts{1, 2, 3, 4, 5, 6, 7}},
		{"odd strings", "ns<&>\"", "fn\u2028", "route\xff", routeDims, counts{-1, 0, 1 << 40}},
		{"no dimensions", "n", "f", "", nil, counts{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			line := emfLine{Function: tt.fn, Route: tt.route,
				Sent: &c[sentCounter], Retried: &c[retriedCounter], Rejected: &c[rejectedCounter],
				TalkJS2xx: &c[status2xxCounter], TalkJS4xx: &c[status4xxCounter], TalkJS5xx: &c[status5xxCounter], TalkJSNoAnswer: &c[noAnswerCounter],
				AWS: awsMeta{Timestamp: 1767323045123, CloudWatchMetrics: []directive{{Namespace: tt.namespace, Dimensions: tt.dims, Metrics: countDefs}}}}
			want, err := json.Marshal(line)
			if err != nil {
				t.Fatal(err)
			}
			got := appendCountLine(nil, tt.namespace, tt.fn, tt.route, tt.dims, &c, 1767323045123)
			if string(got) != string(want)+"\n" {
				t.Errorf("appendCountLine wrote\n%s\nencoding/json\n%s", got, want)
			}
		})
	}
}

package main

import (
	"fmt"
	"testing"
)

// TestFleetDeliversEachRecordOnce runs P8 small: several functions under a
// limit low enough that they meet 429s, and every record ends up as exactly
// one message. It checks counts, not speed.
func TestFleetDeliversEachRecordOnce(t *testing.T) {
	tests := []struct {
		name string
		cfg  fleetConfig
	}{
		{name: "one function", cfg: fleetConfig{k: 1, rps: 40, n: 120, m: 12}},
		{name: "more functions than the limit allows", cfg: fleetConfig{k: 8, rps: 20, burst: 5, n: 200, m: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := runFleet(t.Context(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(r)
			if r.lost != 0 || r.duplicated != 0 {
				t.Errorf("lost %d, duplicated %d; want none", r.lost, r.duplicated)
			}
			if r.stored != tt.cfg.n {
				t.Errorf("%d messages stored, want %d", r.stored, tt.cfg.n)
			}
			if r.sendCalls == 0 || r.requests < r.sendCalls+r.limited {
				t.Errorf("%d requests, %d sends, %d limited: the counts do not add up", r.requests, r.sendCalls, r.limited)
			}
		})
	}
}

// TestFleetQueueRedelivers: records a function reports as failed come back,
// and the queue ends only when every record is answered.
func TestFleetQueueRedelivers(t *testing.T) {
	q := newFleetQueue(5)
	first := q.receive(3)
	if fmt.Sprint(first) != "[0 1 2]" {
		t.Fatalf("first batch %v, want [0 1 2]", first)
	}
	q.answer(first, []int{1}, 0)
	second := q.receive(10)
	if fmt.Sprint(second) != "[3 4]" && fmt.Sprint(second) != "[3 4 1]" {
		t.Fatalf("second batch %v, want [3 4] (and 1 once redelivered)", second)
	}
	q.answer(second, nil, 0)
	for {
		b := q.receive(10)
		if b == nil {
			break
		}
		q.answer(b, nil, 0)
	}
	if q.receives[1] != 2 || q.receives[0] != 1 {
		t.Errorf("receives %v, want record 1 twice and the others once", q.receives)
	}
}

// BenchmarkFleet is P8 small, for profiles and quick looks at the curve:
//
//	go test -run '^$' -bench Fleet -benchtime 1x ./cmd/bench
func BenchmarkFleet(b *testing.B) {
	for _, k := range []int{1, 5, 20} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			var last fleetResult
			for b.Loop() {
				r, err := runFleet(b.Context(), fleetConfig{k: k, rps: 20, n: 400, m: 40})
				if err != nil {
					b.Fatal(err)
				}
				if r.lost != 0 || r.duplicated != 0 {
					b.Fatalf("lost %d, duplicated %d", r.lost, r.duplicated)
				}
				last = r
			}
			b.ReportMetric(last.share(), "share-of-R")
			b.ReportMetric(100*last.limitedShare(), "429-%")
			b.ReportMetric(last.perCall(), "msgs/call")
		})
	}
}

package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWarmRows runs the in-process rows once with tiny counts: the table
// code works, and the two rows that count rather than time (P5, P6) hold.
func TestWarmRows(t *testing.T) {
	s := settings{rounds: 1, sends: 3, batches: 1, latency: 5 * time.Millisecond, concurrent: 20}
	rows, err := measureWarm(t.Context(), s, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	table := renderTable(rows)
	for _, want := range []string{"| P3 |", "| P4 |", "| P5 | TalkJS message calls for n records to one conversation (n: calls) | 1: 1, 10: 1, 25: 3, 100: 10 | ceil(n/10) | yes |", "| P6 |", "| P9 |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	for _, r := range rows {
		if r.id == "P6" && r.value != "1" {
			t.Errorf("P6: %s GetSecretValue calls, want 1", r.value)
		}
	}
}

func TestParseInitLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		want initEntry
		ok   bool
	}{
		{name: "package", line: "init golang.org/x/crypto/x509roots/fallback @37 ms, 3.7 ms clock, 666440 bytes, 8875 allocs",
			want: initEntry{pkg: "golang.org/x/crypto/x509roots/fallback", clock: 3.7, bytes: 666440, allocs: 8875}, ok: true},
		{name: "zero", line: "init internal/bytealg @0 ms, 0 ms clock, 0 bytes, 0 allocs", want: initEntry{pkg: "internal/bytealg"}, ok: true},
		{name: "other output", line: "queue: config: TALKJS_SECRET_ID is not set"},
		{name: "bad number", line: "init x @0 ms, many ms clock, 0 bytes, 0 allocs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseInitLine(tt.line)
			if ok != tt.ok || got != tt.want {
				t.Errorf("parseInitLine(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestUpdateFile(t *testing.T) {
	block := beginMarker + "\nnew\n" + endMarker + "\n"
	tests := []struct {
		name, old, want string
	}{
		{name: "no file", want: "# Benchmarks\n\n" + block},
		{name: "no block", old: "# B\n\nfindings\n", want: "# B\n\nfindings\n\n" + block},
		{name: "replaces block, keeps the rest", old: "# B\n\n" + beginMarker + "\nold\n" + endMarker + "\n\n## Findings\n",
			want: "# B\n\n" + beginMarker + "\nnew\n" + endMarker + "\n\n## Findings\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := updateFile(path, block); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

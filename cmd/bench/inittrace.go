package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// initEntry is one package's init as GODEBUG=inittrace=1 reports it, the
// median over several starts.
type initEntry struct {
	pkg    string
	clock  float64 // ms
	bytes  int64
	allocs int64
}

// initTraceRuns is how many starts the per-package medians are taken over.
const initTraceRuns = 7

// initTrace starts bin with GODEBUG=inittrace=1 outside the emulator: the
// package inits run and print before main, which then stops for want of a
// runtime API. It returns every package's median cost, costliest first.
func initTrace(ctx context.Context, bin string) ([]initEntry, error) {
	samples := make(map[string][]initEntry)
	for range initTraceRuns {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cmd := exec.CommandContext(cctx, bin)
		cmd.Env = []string{"GODEBUG=inittrace=1", "PATH=/usr/bin:/bin"}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run() // it exits non-zero without a runtime API; only the trace matters
		cancel()
		n := 0
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			if e, ok := parseInitLine(sc.Text()); ok {
				samples[e.pkg] = append(samples[e.pkg], e)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("inittrace: %s printed no init lines", bin)
		}
	}
	var out []initEntry
	for pkg, es := range samples {
		clocks := make([]float64, len(es))
		for i, e := range es {
			clocks[i] = e.clock
		}
		out = append(out, initEntry{pkg: pkg, clock: median(clocks), bytes: es[0].bytes, allocs: es[0].allocs})
	}
	slices.SortFunc(out, func(a, b initEntry) int {
		switch {
		case a.clock > b.clock:
			return -1
		case a.clock < b.clock:
			return 1
		}
		return strings.Compare(a.pkg, b.pkg)
	})
	return out, nil
}

// parseInitLine reads "init pkg @0.2 ms, 0.013 ms clock, 1234 bytes, 5 allocs".
func parseInitLine(line string) (initEntry, bool) {
	f := strings.Fields(line)
	if len(f) != 11 || f[0] != "init" || f[5] != "ms" || f[6] != "clock," || f[8] != "bytes," || f[10] != "allocs" {
		return initEntry{}, false
	}
	clock, err1 := strconv.ParseFloat(f[4], 64)
	b, err2 := strconv.ParseInt(f[7], 10, 64)
	a, err3 := strconv.ParseInt(f[9], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return initEntry{}, false
	}
	return initEntry{pkg: f[1], clock: clock, bytes: b, allocs: a}, true
}

// initTraceTop is how many packages the report lists.
const initTraceTop = 12

func renderInitTrace(es []initEntry) string {
	var total float64
	var totalBytes int64
	for _, e := range es {
		total += e.clock
		totalBytes += e.bytes
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Package inits of the queue bootstrap (GODEBUG=inittrace=1, median of %d starts): %d packages, %.1f ms, %s allocated. Costliest:\n\n",
		initTraceRuns, len(es), total, mb(totalBytes))
	b.WriteString("| package | clock | bytes | allocs |\n|---|---|---|---|\n")
	for _, e := range es[:min(initTraceTop, len(es))] {
		fmt.Fprintf(&b, "| %s | %.2f ms | %d | %d |\n", e.pkg, e.clock, e.bytes, e.allocs)
	}
	return b.String()
}

// initTotals is the sum of package init clocks of each bootstrap, as a
// context row for P1 (what the functions' imports cost before main runs),
// and the traces it summed, by bootstrap name.
func initTotals(ctx context.Context, bins map[string]string) (row, map[string][]initEntry, error) {
	var parts []string
	traces := make(map[string][]initEntry)
	for _, name := range allBootstraps {
		es, err := initTrace(ctx, bins[name])
		if err != nil {
			return row{}, nil, err
		}
		traces[name] = es
		var total float64
		for _, e := range es {
			total += e.clock
		}
		parts = append(parts, fmt.Sprintf("%s %.1f ms (%d pkgs)", name, total, len(es)))
	}
	return row{id: "P1", measure: fmt.Sprintf("package inits before main, sum of GODEBUG=inittrace=1 clocks (median of %d; context)", initTraceRuns),
		value: strings.Join(parts, "; ")}, traces, nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

// settings are the knobs of one run.
type settings struct {
	coldRuns   int    // P1/P1b: cold starts per bootstrap
	rounds     int    // P3/P4: rounds, each giving one ratio
	sends      int    // P3: handler sends (and as many bare POSTs) per round
	batches    int    // P4: 10-record batches (and as many bare round trips) per round
	arch       string // P2: GOARCH of the deployed bootstrap
	out        string // BENCHMARKS.md to update; "" prints only
	skipCold   bool   // skip everything that builds and runs bootstraps (P1, P1b, P2, P7)
	latency    time.Duration
	buildDir   string
	logOutput  io.Writer
	concurrent int // P6: concurrent sends in a new container
	// only, when not empty, names the rows to measure (P3, P4, P5, P6, P8,
	// P9; P1, P1b or P2 for the bootstraps, whose rows come together);
	// nothing is written, and without P1, P1b or P2 no bootstrap is built.
	only  map[string]bool
	fleet fleetFlags // P8
}

// want reports whether row id is to be measured.
func (s settings) want(id string) bool { return len(s.only) == 0 || s.only[id] }

func main() {
	runChild()
	var s settings
	flag.IntVar(&s.coldRuns, "n", 15, "cold starts per bootstrap for P1/P1b (alternated across bootstraps)")
	flag.IntVar(&s.rounds, "rounds", 7, "rounds for P3/P4; the ratio reported is the median over rounds")
	flag.IntVar(&s.sends, "sends", 400, "P3: handler sends and bare POSTs per round, interleaved")
	flag.IntVar(&s.batches, "batches", 5, "P4: 10-record batches and bare round trips per round, interleaved")
	flag.StringVar(&s.arch, "arch", "arm64", "P2: GOARCH the deployed bootstrap is built for")
	flag.StringVar(&s.out, "o", "BENCHMARKS.md", "file whose generated block is rewritten with the results; empty to only print")
	flag.BoolVar(&s.skipCold, "warm-only", false, "measure only the in-process rows (P3..P6), not the bootstraps")
	flag.DurationVar(&s.latency, "latency", 50*time.Millisecond, "P4: emulator latency per TalkJS call")
	flag.IntVar(&s.concurrent, "concurrent", 100, "P6: concurrent sends in a new container")
	s.fleet.register()
	verbose := flag.Bool("v", false, "copy the emulator's and functions' output to stderr")
	only := flag.String("only", "", "comma-separated rows to measure alone (e.g. P9, or P1 for the cold starts, P1b and P2 coming with it), printed only; implies -o '', and -warm-only unless P1, P1b or P2 is named")
	flag.Parse()
	if *only != "" {
		s.only = map[string]bool{}
		for _, id := range strings.Split(*only, ",") {
			s.only[strings.TrimSpace(id)] = true
		}
		// The cold rows come from one pass over the built bootstraps.
		s.skipCold = !s.only["P1"] && !s.only["P1b"] && !s.only["P2"]
		s.out = ""
	}
	if err := s.fleet.check(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if s.coldRuns < 1 || s.rounds < 1 || s.sends < 1 || s.batches < 1 || s.concurrent < 1 {
		fmt.Fprintln(os.Stderr, "bench: -n, -rounds, -sends, -batches and -concurrent must be at least 1")
		os.Exit(2)
	}
	s.logOutput = io.Discard
	if *verbose {
		s.logOutput = os.Stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, s, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, s settings, stdout io.Writer) error {
	start := time.Now()
	machine := describeMachine(ctx)
	fmt.Fprintln(stdout, machine.String())

	dir, err := os.MkdirTemp("", "talkjs-bridge-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s.buildDir = dir

	var rows []row
	var trace []initEntry
	var bins map[string]string
	if !s.skipCold {
		progress(stdout, "building bootstraps")
		if bins, err = buildAll(ctx, dir); err != nil {
			return err
		}
		progress(stdout, "P1/P1b: %d cold starts per bootstrap, alternated", s.coldRuns)
		cold, err := measureColdStarts(ctx, s, bins)
		if err != nil {
			return err
		}
		rows = append(rows, cold...)
		progress(stdout, "P1: init CPU time, %d starts per bootstrap without the emulator", s.coldRuns)
		b := startBackends(dir)
		cpu, err := measureInitCPU(ctx, s, b.env(), bins)
		b.Close()
		if err != nil {
			return err
		}
		rows = append(rows, initCPURows(cpu)...)
		work, err := measureMainWork(ctx, s)
		if err != nil {
			return err
		}
		rows = append(rows, work)
		roots, err := measureTLSRoots(ctx, s)
		if err != nil {
			return err
		}
		rows = append(rows, roots)
		progress(stdout, "P2: stripped bootstraps for linux/%s", s.arch)
		sizes, err := measureSizes(ctx, s, dir)
		if err != nil {
			return err
		}
		rows = append(rows, sizes...)
		totals, traces, err := initTotals(ctx, bins)
		if err != nil {
			return err
		}
		trace = traces[fnQueue]
		rows = append(rows, totals)
	}
	warm, err := measureWarm(ctx, s, stdout)
	if err != nil {
		return err
	}
	rows = append(rows, warm...)
	if s.want("P8") {
		fleet, err := measureFleet(ctx, s, stdout)
		if err != nil {
			return err
		}
		rows = append(rows, fleet...)
	}
	if !s.skipCold && (s.want("P4") || s.want("P7")) {
		progress(stdout, "P4 and P7 under the emulator: the queue bootstrap, 10-record batches")
		rie, err := measureQueueUnderRIE(ctx, s, bins)
		if err != nil {
			return err
		}
		rows = append(rows, rie...)
	}

	table := renderTable(rows)
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, table)
	if len(trace) > 0 {
		fmt.Fprintln(stdout)
		fmt.Fprint(stdout, renderInitTrace(trace))
	}
	elapsed := time.Since(start).Round(time.Second)
	fmt.Fprintf(stdout, "\nmeasured in %v\n", elapsed)

	if s.out != "" {
		block := generatedBlock(machine, s, table, trace, elapsed)
		if err := updateFile(s.out, block); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "updated %s\n", s.out)
	}
	return nil
}

// progressStart is when the run began, for the progress lines.
var progressStart = time.Now()

func progress(w io.Writer, format string, a ...any) {
	fmt.Fprintf(w, "· %5.1fs "+format+"\n", append([]any{time.Since(progressStart).Seconds()}, a...)...)
}

// Markers around the part of BENCHMARKS.md the bench writes; the text
// outside them (the findings) is kept as it is.
const (
	beginMarker = "<!-- bench:begin (generated by go run ./cmd/bench; edits inside are overwritten) -->"
	endMarker   = "<!-- bench:end -->"
)

func generatedBlock(m machine, s settings, table string, trace []initEntry, elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString(beginMarker + "\n\n")
	fmt.Fprintf(&b, "Measured %s by `go run ./cmd/bench -n %d -rounds %d -sends %d -batches %d -fleet-n %d` in %v.\n\n",
		m.when.UTC().Format("2006-01-02 15:04 MST"), s.coldRuns, s.rounds, s.sends, s.batches, s.fleet.n, elapsed)
	b.WriteString("```\n" + m.String() + "\n```\n\n")
	b.WriteString(table)
	if len(trace) > 0 {
		b.WriteString("\n")
		b.WriteString(renderInitTrace(trace))
	}
	b.WriteString("\n" + endMarker + "\n")
	return b.String()
}

// updateFile replaces the generated block of path, or appends one when the
// file has none (or does not exist).
func updateFile(path, block string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	i := strings.Index(text, beginMarker)
	j := strings.Index(text, endMarker)
	switch {
	case i >= 0 && j > i:
		text = text[:i] + strings.TrimSuffix(block, "\n") + text[j+len(endMarker):]
	case text == "":
		text = "# Benchmarks\n\n" + block
	default:
		text = strings.TrimRight(text, "\n") + "\n\n" + block
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

package rietest

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Report is one REPORT line the emulator prints after a completed invoke, for
// example:
//
//	REPORT RequestId: 1154fb10-…	Init Duration: 0.33 ms	Duration: 20.18 ms	Billed Duration: 21 ms	Memory Size: 3008 MB	Max Memory Used: 3008 MB
//
// The emulator measures less than Lambda does: InitDuration is only set on the
// very first invoke and times the non-blocking start of init, not the
// function's init (use Function.Inits for that); MaxMemoryUsedMB always
// equals MemorySizeMB. Invokes that crash the runtime print no REPORT.
type Report struct {
	RequestID       string
	InitDuration    time.Duration // zero when the line has none
	Duration        time.Duration
	BilledDuration  time.Duration
	MemorySizeMB    int
	MaxMemoryUsedMB int
}

// parseReport parses a REPORT line; ok is false for any other line.
func parseReport(line string) (r Report, ok bool) {
	rest, found := strings.CutPrefix(line, "REPORT RequestId: ")
	if !found {
		return Report{}, false
	}
	fields := strings.Split(strings.TrimRight(rest, "\t\r\n "), "\t")
	r.RequestID = strings.TrimSpace(fields[0])
	if r.RequestID == "" {
		return Report{}, false
	}
	for _, f := range fields[1:] {
		key, val, found := strings.Cut(f, ": ")
		if !found {
			continue
		}
		switch key {
		case "Init Duration":
			r.InitDuration = parseMillis(val)
		case "Duration":
			r.Duration = parseMillis(val)
		case "Billed Duration":
			r.BilledDuration = parseMillis(val)
		case "Memory Size":
			r.MemorySizeMB = parseMB(val)
		case "Max Memory Used":
			r.MaxMemoryUsedMB = parseMB(val)
		}
	}
	return r, true
}

// initReportMarker starts the emulator's own log of a finished runtime init:
//
//	25 Nov 2026 12:13:43,621 [INFO] (rapid) INIT REPORT(durationMs: 15.840000)
//
// It is printed on stderr, at info level, for every (re)start of the runtime.
const initReportMarker = "(rapid) INIT REPORT(durationMs: "

// parseInitReport returns the init duration of an INIT REPORT line.
func parseInitReport(line string) (time.Duration, bool) {
	_, rest, found := strings.Cut(line, initReportMarker)
	if !found {
		return 0, false
	}
	num, _, found := strings.Cut(rest, ")")
	if !found {
		return 0, false
	}
	ms, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || ms < 0 {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

func parseMillis(s string) time.Duration {
	ms, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "ms")), 64)
	if err != nil {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

func parseMB(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "MB")))
	if err != nil {
		return 0
	}
	return n
}

// logSink collects everything the emulator and the function print (both share
// one pipe, so their lines stay in order), tees it to an optional writer and
// parses REPORT and INIT REPORT lines as they complete.
type logSink struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	reports []Report
	inits   []time.Duration
	tee     io.Writer
	changed chan struct{} // closed and replaced whenever a line completes
}

func newLogSink(tee io.Writer) *logSink {
	return &logSink{tee: tee, changed: make(chan struct{})}
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all.Write(p)
	if s.tee != nil {
		// A failing copy must not stop the emulator's output.
		s.tee.Write(p)
	}
	s.partial = append(s.partial, p...)
	completed := false
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		line := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		completed = true
		if r, ok := parseReport(line); ok {
			s.reports = append(s.reports, r)
		} else if d, ok := parseInitReport(line); ok {
			s.inits = append(s.inits, d)
		}
	}
	if completed {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	return len(p), nil
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all.String()
}

func (s *logSink) Reports() []Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Report(nil), s.reports...)
}

func (s *logSink) Inits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.inits...)
}

// waitReport waits until the REPORT for requestID has been read or the
// deadline passes: the emulator prints it just before answering, but the pipe
// may be read a moment after the answer arrives.
func (s *logSink) waitReport(requestID string, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i := len(s.reports) - 1; i >= 0; i-- {
			if s.reports[i].RequestID == requestID {
				s.mu.Unlock()
				return true
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

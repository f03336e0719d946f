package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// rssGoal is P7's limit on the queue function's peak RSS.
const rssGoal = 40 << 20

// measureQueueUnderRIE runs the real queue bootstrap under the emulator with
// every TalkJS call taking s.latency: a cold 10-record batch, then warm ones
// interleaved with bare round trips (P4 with the function's own wiring and
// concurrency), then reads the bootstrap's peak RSS (P7). The floor's peak
// RSS after its first echo is shown next to it.
func measureQueueUnderRIE(ctx context.Context, s settings, bins map[string]string) ([]row, error) {
	b := startBackends(s.buildDir)
	defer b.Close()
	convs := make([]string, 10)
	for i := range convs {
		convs[i] = "p7-" + strconv.Itoa(i)
		b.emu.PutConversation(talkjstest.Conversation{ID: convs[i], Subject: convs[i]})
	}
	b.emu.SetLogLimit(16)
	b.emu.AddFault(talkjstest.Fault{Latency: s.latency})

	f, err := rietest.Start(ctx, bins[fnQueue], rietest.Options{Env: b.env(), Timeout: 30 * time.Second, Stdout: s.logOutput})
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bare := newBarePost(b.talkjs.URL, convs[0])
	batch := func(n int) func() error {
		ev := sqsEvent("rie"+strconv.Itoa(n), convs...)
		return func() error {
			out, err := f.Invoke(ctx, ev)
			if err != nil {
				return fmt.Errorf("queue under the emulator: %w\n%s", err, f.Logs())
			}
			return checkAnswer(fnQueue, out)
		}
	}
	if err := batch(0)(); err != nil { // cold
		return nil, err
	}
	pairs := s.rounds * s.batches
	var ta, tb []time.Duration
	for i := range pairs {
		body := bareBody("rieb" + strconv.Itoa(i) + "-0")
		da, db, err := timePair(batch(i+1), func() error { return bare.post(ctx, body) }, i%2 == 1)
		if err != nil {
			return nil, err
		}
		ta = append(ta, da)
		tb = append(tb, db)
	}
	if got, want := b.emu.Counts().MessagesStored, 10*(pairs+1)+pairs; got != want {
		return nil, fmt.Errorf("queue under the emulator: TalkJS stored %d messages, want %d", got, want)
	}
	hwm, err := peakRSS(bins[fnQueue])
	if err != nil {
		return nil, err
	}
	floorHWM, err := floorPeakRSS(ctx, s, b, bins[fnFloor])
	if err != nil {
		return nil, err
	}
	r := float64(medianDuration(ta)) / float64(medianDuration(tb))
	return []row{
		{id: "P4", measure: fmt.Sprintf("10-record batch at %v / one bare round trip, the queue bootstrap under aws-lambda-rie (its own concurrency)", s.latency),
			value: fmt.Sprintf("%s (%s / %s, medians of %d)", ratio2(r), ms(medianDuration(ta)), ms(medianDuration(tb)), pairs),
			goal:  "≤ 1.50x", met: verdict(r <= 1.5)},
		{id: "P7", measure: fmt.Sprintf("peak RSS (VmHWM) of the queue bootstrap over %d 10-record batches, the first a cold start", pairs+1),
			value: mb(hwm) + " (floor after one echo: " + mb(floorHWM) + ")", goal: "≤ 40 MiB", met: verdict(hwm <= rssGoal)},
	}, nil
}

func floorPeakRSS(ctx context.Context, s settings, b *backends, bin string) (int64, error) {
	f, err := rietest.Start(ctx, bin, rietest.Options{Env: b.env(), Stdout: s.logOutput})
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Invoke(ctx, []byte(`{"ping":1}`)); err != nil {
		return 0, err
	}
	return peakRSS(bin)
}

// peakRSS reads VmHWM of the one running process whose executable is bin.
// The emulator does not say which pid it started, but every bootstrap the
// bench builds has a path of its own.
func peakRSS(bin string) (int64, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("peak RSS needs /proc: %w", err)
	}
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && exe == bin {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		return 0, fmt.Errorf("peak RSS: %d processes run %s, want 1", len(found), bin)
	}
	return statusField(found[0], "VmHWM")
}

// statusField reads a kB field of /proc/pid/status, in bytes.
func statusField(pid int, name string) (int64, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, name)
}

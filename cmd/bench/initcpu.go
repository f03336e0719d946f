package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// initCPU is one start of a bootstrap outside the emulator, stopped at its
// first call for an event: the CPU its process used until then (all
// threads), and the wall clock. CPU time hardly moves with the machine's
// load, where the emulator's wall-clock INIT REPORT swings with it.
type initCPU struct {
	cpu, wall time.Duration
}

// runtimeAPIStub answers nothing: it tells the bench when a bootstrap asks
// for its first event, and holds the request until the bench has read the
// process's CPU time and killed it.
type runtimeAPIStub struct {
	srv   *http.Server
	addr  string
	calls chan chan struct{}
}

func startRuntimeAPIStub() (*runtimeAPIStub, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &runtimeAPIStub{addr: l.Addr().String(), calls: make(chan chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
			http.NotFound(w, r)
			return
		}
		done := make(chan struct{})
		select {
		case s.calls <- done:
			select {
			case <-done:
			case <-r.Context().Done():
			}
		case <-r.Context().Done():
		}
	})}
	go s.srv.Serve(l)
	return s, nil
}

func (s *runtimeAPIStub) Close() { s.srv.Close() }

// measureInitCPU starts every bootstrap s.coldRuns times, rotating the
// order, each against the stub runtime API.
func measureInitCPU(ctx context.Context, s settings, env []string, bins map[string]string) (map[string][]initCPU, error) {
	stub, err := startRuntimeAPIStub()
	if err != nil {
		return nil, err
	}
	defer stub.Close()
	out := make(map[string][]initCPU)
	for i := -1; i < s.coldRuns; i++ { // i == -1 warms the page cache
		for j := range allBootstraps {
			name := allBootstraps[(max(i, 0)+j)%len(allBootstraps)]
			m, err := oneInitCPU(ctx, stub, env, bins[name])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if i >= 0 {
				out[name] = append(out[name], m)
			}
		}
	}
	return out, nil
}

func oneInitCPU(ctx context.Context, stub *runtimeAPIStub, env []string, bin string) (initCPU, error) {
	cmd := exec.Command(bin)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
		"AWS_LAMBDA_RUNTIME_API=" + stub.addr,
		"AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"_HANDLER=bootstrap", "LAMBDA_TASK_ROOT=" + filepath.Dir(bin),
	}, env...)
	var stderr strings.Builder
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return initCPU{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	select {
	case done := <-stub.calls:
		wall := time.Since(start)
		cpu, err := processCPU(cmd.Process.Pid)
		close(done)
		if err != nil {
			return initCPU{}, err
		}
		return initCPU{cpu: cpu, wall: wall}, nil
	case err := <-exited:
		exited <- err
		return initCPU{}, fmt.Errorf("exited before asking for an event: %v: %s", err, stderr.String())
	case <-time.After(20 * time.Second):
		return initCPU{}, errors.New("no call for an event within 20 s")
	case <-ctx.Done():
		return initCPU{}, ctx.Err()
	}
}

// processCPU sums the on-CPU nanoseconds of every thread of pid
// (/proc/pid/task/*/schedstat, first field).
func processCPU(pid int) (time.Duration, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("init CPU needs /proc: %w", err)
	}
	var total int64
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", dir, err)
		}
		total += ns
	}
	return time.Duration(total), nil
}

func initCPURows(runs map[string][]initCPU) []row {
	cpuOf := func(m initCPU) float64 { return float64(m.cpu) }
	med := func(name string) time.Duration {
		xs := make([]float64, len(runs[name]))
		for i, m := range runs[name] {
			xs[i] = cpuOf(m)
		}
		return time.Duration(median(xs))
	}
	paired := func(a, b string) float64 {
		var xs []float64
		for i := range min(len(runs[a]), len(runs[b])) {
			xs = append(xs, cpuOf(runs[a][i])/cpuOf(runs[b][i]))
		}
		return median(xs)
	}
	var rows []row
	for _, fn := range functions {
		r := paired(fn, fnFloor)
		rows = append(rows, row{id: "P1", measure: "init CPU time (all threads, start to first event request, no emulator), " + fn + " / floor",
			value: fmt.Sprintf("%s (%s / %s)", ratio2(r), ms(med(fn)), ms(med(fnFloor))), goal: "≤ 1.10x", met: verdict(r <= 1.10)})
	}
	r := paired(fnFloor, fnHello)
	rows = append(rows, row{id: "P1", measure: "init CPU time, floor / hello-world (context)",
		value: fmt.Sprintf("%s (%s / %s)", ratio2(r), ms(med(fnFloor)), ms(med(fnHello)))})
	return rows
}

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the numbers were taken, as BENCHMARKS.md shows it.
type machine struct {
	when    time.Time
	cpu     string
	nproc   string
	memory  string
	goVer   string
	loadAvg string
}

func describeMachine(ctx context.Context) machine {
	m := machine{when: time.Now(), cpu: cpuModel(), nproc: command(ctx, "nproc"), goVer: command(ctx, "go", "version")}
	if m.nproc == "" {
		m.nproc = strconv.Itoa(runtime.NumCPU())
	}
	m.memory = command(ctx, "free", "-h")
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.loadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

func (m machine) String() string {
	var b strings.Builder
	b.WriteString("cpu:      " + m.cpu + "\n")
	b.WriteString("nproc:    " + m.nproc + "\n")
	b.WriteString("go:       " + m.goVer + "\n")
	b.WriteString("load avg: " + m.loadAvg + " (1, 5, 15 min, at start)\n")
	b.WriteString("memory (free -h):\n")
	for _, line := range strings.Split(m.memory, "\n") {
		b.WriteString("  " + line + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name", "Model", "CPU part":
			return strings.TrimSpace(v) + " (" + runtime.GOARCH + ")"
		}
	}
	return runtime.GOARCH
}

func command(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
)

const module = "github.com/talkjs-bridge/talkjs-bridge"

// The bootstraps the bench builds: the three functions, the dependency floor
// and a hello-world aws-lambda-go function.
const (
	fnWebhook  = "webhook"
	fnQueue    = "queue"
	fnSchedule = "schedule"
	fnFloor    = "floor"
	fnHello    = "hello"
)

var functions = []string{fnWebhook, fnQueue, fnSchedule}

var packages = map[string]string{
	fnWebhook:  module + "/functions/webhook",
	fnQueue:    module + "/functions/queue",
	fnSchedule: module + "/functions/schedule",
	fnFloor:    module + "/cmd/bench/floor",
	fnHello:    module + "/cmd/bench/hello",
}

var allBootstraps = []string{fnWebhook, fnQueue, fnSchedule, fnFloor, fnHello}

// buildAll builds every bootstrap for this machine with the deployment
// flags (rietest.Build), each in its own directory so a process can be told
// apart by its executable's path.
func buildAll(ctx context.Context, dir string) (map[string]string, error) {
	bins := make(map[string]string)
	for _, name := range allBootstraps {
		p, err := rietest.Build(ctx, packages[name], filepath.Join(dir, "native", name))
		if err != nil {
			return nil, err
		}
		bins[name] = p
	}
	return bins, nil
}

// sizeGoal is P2's limit on the stripped bootstrap.
const sizeGoal = 16 << 20

func measureSizes(ctx context.Context, s settings, dir string) ([]row, error) {
	var rows []row
	for _, name := range allBootstraps {
		out := filepath.Join(dir, s.arch, name, "bootstrap")
		if err := crossBuild(ctx, s.arch, packages[name], out); err != nil {
			return nil, err
		}
		fi, err := os.Stat(out)
		if err != nil {
			return nil, err
		}
		z, err := zipSize(out)
		if err != nil {
			return nil, err
		}
		r := row{id: "P2", measure: "bootstrap size, " + name + " (linux/" + s.arch + ", stripped; zip)",
			value: mb(fi.Size()) + "; zip " + mb(z)}
		if slices.Contains(functions, name) {
			r.goal = "≤ 16 MiB"
			r.met = verdict(fi.Size() <= sizeGoal)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// crossBuild builds pkg as the Makefile's build target does.
func crossBuild(ctx context.Context, arch, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s: %w: %s", pkg, arch, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// zipSize is the size of the deployment zip: one executable entry named
// bootstrap, deflated, as sam build packages it.
func zipSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h, err := zip.FileInfoHeader(fi)
	if err != nil {
		return 0, err
	}
	h.Name = "bootstrap"
	h.Method = zip.Deflate
	w, err := zw.CreateHeader(h)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(w, f); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
}

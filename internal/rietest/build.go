package rietest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
)

// emulatorPkg is the emulator's main package, declared as a tool in go.mod.
const emulatorPkg = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// Build compiles the main package pkg for this machine's GOOS and GOARCH, with
// CGO_ENABLED=0, -trimpath, -tags lambda.norpc and -ldflags='-s -w' (the flags
// used for deployment), into dir/bootstrap and returns the absolute path.
// pkg is an import path or a path relative to the current directory, as for
// `go build`. Safe to retry: it overwrites dir/bootstrap.
func Build(ctx context.Context, pkg, dir string) (string, error) {
	if pkg == "" {
		return "", errors.New("rietest: build: empty package")
	}
	if dir == "" {
		return "", errors.New("rietest: build: empty output directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("rietest: build %s: %w", pkg, err)
	}
	out, err := filepath.Abs(filepath.Join(dir, "bootstrap"))
	if err != nil {
		return "", fmt.Errorf("rietest: build %s: %w", pkg, err)
	}
	err = goBuild(ctx, "", out, "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", pkg)
	if err != nil {
		return "", err
	}
	return out, nil
}

var emulator struct {
	once sync.Once
	path string
	err  error
}

// Emulator returns the path of an aws-lambda-rie binary built from the version
// pinned in go.mod. It is built at most once per process and cached across
// processes in a directory under os.TempDir keyed by the module's go.mod and
// go.sum, so parallel test binaries share one build. A failed build is not
// retried within the process.
func Emulator(ctx context.Context) (string, error) {
	emulator.once.Do(func() {
		emulator.path, emulator.err = buildEmulator(ctx)
	})
	return emulator.path, emulator.err
}

func buildEmulator(ctx context.Context) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return "", fmt.Errorf("rietest: emulator: %w", err)
		}
		h.Write(b)
	}
	fmt.Fprintf(h, "%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	dir := filepath.Join(os.TempDir(), "rietest-aws-lambda-rie", hex.EncodeToString(h.Sum(nil))[:16])
	path := filepath.Join(dir, "aws-lambda-rie")
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("rietest: emulator: %w", err)
	}
	// Build beside the final name and rename, so another test process never
	// sees (or runs) a half-written binary.
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := goBuild(ctx, root, tmp, "-trimpath", emulatorPkg); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("rietest: emulator: %w", err)
	}
	return path, nil
}

func goBuild(ctx context.Context, dir, out string, args ...string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("rietest: go command not found: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("rietest: go build %s: %w: %s", args[len(args)-1], err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

// moduleRoot walks up from the current directory to the directory holding
// go.mod, where the emulator tool dependency is declared.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("rietest: module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("rietest: module root: no go.mod above the current directory")
		}
		dir = parent
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/setup"
)

// childEnv makes the bench binary time one piece of a function's main, once,
// in a fresh process, and print the nanoseconds: the first call pays what a
// cold start pays (page faults, first use of each code path, lazy inits).
const childEnv = "TALKJS_BRIDGE_BENCH_CHILD"

// mainPieces are the parts of what functions/*/main.go does before
// lambda.Start that the bench times separately.
var mainPieces = []string{"setup.From", "mapping.Default", "awsconfig.LoadDefaultConfig"}

// runChild runs the piece named by childEnv, when set, and exits.
func runChild() {
	piece := os.Getenv(childEnv)
	if piece == "" {
		return
	}
	ctx := context.Background()
	env := map[string]string{
		"TALKJS_APP_ID":    benchAppID,
		"TALKJS_SECRET_ID": benchSecretID,
		"TALKJS_API_URL":   "http://127.0.0.1:1",
	}
	t := time.Now()
	var err error
	switch piece {
	case "setup.From":
		_, err = setup.From(ctx, func(k string) string { return env[k] }, "queue", io.Discard)
	case "mapping.Default":
		_, err = mapping.Default()
	case "awsconfig.LoadDefaultConfig":
		_, err = awsconfig.LoadDefaultConfig(ctx)
	default:
		err = fmt.Errorf("unknown piece %q", piece)
	}
	d := time.Since(t)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(d.Nanoseconds())
	os.Exit(0)
}

// mainWorkRuns is how many fresh processes each piece is timed in.
const mainWorkRuns = 7

// measureMainWork times each piece of main's work in fresh processes, with
// a deployed function's AWS environment (and no host AWS files).
func measureMainWork(ctx context.Context, s settings) (row, error) {
	self, err := os.Executable()
	if err != nil {
		return row{}, err
	}
	var parts []string
	for _, piece := range mainPieces {
		var ds []time.Duration
		for range mainWorkRuns {
			cmd := exec.CommandContext(ctx, self)
			cmd.Env = []string{
				childEnv + "=" + piece,
				"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
				"AWS_REGION=us-east-1",
				"AWS_ACCESS_KEY_ID=AKIDTESTTESTTESTTEST", "AWS_SECRET_ACCESS_KEY=fake-secret-access-key",
				"AWS_CONFIG_FILE=" + s.buildDir + "/no-aws-config", "AWS_SHARED_CREDENTIALS_FILE=" + s.buildDir + "/no-aws-config",
			}
			out, err := cmd.Output()
			if err != nil {
				return row{}, fmt.Errorf("timing %s in a fresh process: %w", piece, err)
			}
			ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
			if err != nil {
				return row{}, fmt.Errorf("timing %s: %w", piece, err)
			}
			ds = append(ds, time.Duration(ns))
		}
		parts = append(parts, piece+" "+ms(medianDuration(ds)))
	}
	return row{id: "P1", measure: fmt.Sprintf("main's work before lambda.Start, first call in a fresh process (median of %d; context)", mainWorkRuns),
		value: strings.Join(parts, "; ")}, nil
}

package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
	"github.com/talkjs-bridge/talkjs-bridge/internal/tlsroots"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
)

// childEnv makes the bench binary time one piece of a function's main, once,
// in a fresh process, and print the nanoseconds: the first call pays what a
// cold start pays (page faults, first use of each code path, lazy inits).
const childEnv = "TALKJS_BRIDGE_BENCH_CHILD"

// mainPieces are the parts of what functions/*/main.go does before
// lambda.Start that the bench times separately.
// mapping.Parse is the embedded file compiled whole, as a BRIDGE_CONFIG
// file is: what Default's lazy compiling saves at start-up.
var mainPieces = []string{"setup.From", "mapping.Default", "mapping.Parse", "awsconfig.LoadDefaultConfig"}

// tlsPieces are the two ways to get the roots for the first TLS
// verification: the embedded ones (package tlsroots, what the functions do)
// and the host's bundle, which the standard library loads at the first
// verification even with x509usefallbackroots=1 (what they did before).
var tlsPieces = []string{"tlsroots.Pool", "x509.SystemCertPool"}

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
	case "mapping.Parse":
		_, err = mapping.Parse(mapping.DefaultRoutesFile(), mapping.DefaultFilename)
	case "awsconfig.LoadDefaultConfig":
		_, err = awsconfig.LoadDefaultConfig(ctx)
	case "tlsroots.Pool":
		tlsroots.Pool()
	case "x509.SystemCertPool":
		_, err = x509.SystemCertPool()
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
	v, err := timePieces(ctx, s, mainPieces)
	if err != nil {
		return row{}, err
	}
	return row{id: "P1", measure: fmt.Sprintf("main's work before lambda.Start, first call in a fresh process (median of %d; context)", mainWorkRuns), value: v}, nil
}

// measureTLSRoots times building the roots of the first TLS verification,
// which a cold start pays at its first HTTPS call (the bench's TalkJS and
// AWS are plain HTTP, so P1b does not include it).
func measureTLSRoots(ctx context.Context, s settings) (row, error) {
	v, err := timePieces(ctx, s, tlsPieces)
	if err != nil {
		return row{}, err
	}
	return row{id: "P1b", measure: fmt.Sprintf("roots for the first TLS verification, fresh process (median of %d; once per container; context)", mainWorkRuns), value: v}, nil
}

// timePieces times each piece in fresh processes and lists the medians.
func timePieces(ctx context.Context, s settings, pieces []string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	var parts []string
	for _, piece := range pieces {
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
				return "", fmt.Errorf("timing %s in a fresh process: %w", piece, err)
			}
			ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
			if err != nil {
				return "", fmt.Errorf("timing %s: %w", piece, err)
			}
			ds = append(ds, time.Duration(ns))
		}
		parts = append(parts, piece+" "+ms(medianDuration(ds)))
	}
	return strings.Join(parts, "; "), nil
}

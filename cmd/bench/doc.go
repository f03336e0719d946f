// Command bench is `make bench`: it measures the bridge against its floor,
// side by side in one run, prints the table of issue 8 (P1..P7, P8 of issue
// 16: a fleet of queue functions under one app's rate limit, and P9 of issue
// 13: the webhook's answer in queue mode) and rewrites
// the generated part of BENCHMARKS.md with it and the machine's description.
//
// Every ratio is taken from measurements interleaved in the same loop, so the
// two sides share the machine's noise. It exits non-zero only when something
// could not be measured; a missed goal is reported in the table, not as a
// failure.
//
//	go run ./cmd/bench                 # the full run (about 4 minutes on 2 cores, P8 about two)
//	go run ./cmd/bench -n 5 -rounds 3  # a quicker, noisier one
//	go run ./cmd/bench -warm-only -o ""  # only P3..P6, P8 and P9, in process, print only
//	go run ./cmd/bench -only P9          # one in-process row alone, print only
//	go run ./cmd/bench -only P8          # P8 (fleet.go) alone, at the goal's N=5000
//	go run ./cmd/bench -only P1 -n 7     # the cold starts alone: P1, P1b and P2, print only
//
// It builds the three functions and two floor bootstraps (cmd/bench/floor, which
// links the dependencies every function needs and does nothing, and
// cmd/bench/hello, a bare aws-lambda-go function), runs them under
// aws-lambda-rie (package rietest) against the TalkJS emulator
// (talkjs/talkjstest) and the local AWS endpoint (awstest), and runs the
// queue handler (and, for P9, the webhook handler in queue mode) in process
// for the warm rows. bench_test.go holds the same
// warm measurements as Go benchmarks, for benchstat and profiles.
package main

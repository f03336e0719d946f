// Package rietest runs real Lambda bootstrap binaries under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie) as a plain local process, without
// Docker, so end-to-end tests, `make invoke`, `make demo` and benchmarks
// exercise the same runtime API loop that Lambda drives in production.
//
// Build compiles a main package into a bootstrap, Emulator compiles the
// emulator once (cached under os.TempDir, keyed by go.mod and go.sum), and
// Start runs the two on free 127.0.0.1 ports. A Function is one warm execution
// environment: the emulator starts the bootstrap on the first Invoke and keeps
// it running between invokes; it restarts it (a new cold start) only after a
// timeout or a crash. Invokes on one Function are serialised, as the emulator
// serves one request at a time.
//
// The emulator passes its whole environment to the function, so Options.Env is
// what the function sees, on top of a minimal environment that never includes
// the host's AWS credentials.
package rietest

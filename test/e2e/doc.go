// Package e2e holds the bridge's end-to-end tests: the real bootstraps of
// the three functions, built for this machine, run under the Lambda Runtime
// Interface Emulator (through package localrun) against the TalkJS emulator
// and the local AWS endpoint, and are invoked with the files of events/ and
// with batches built in the tests. They assert what reaches TalkJS, what the
// functions answer, and what they forward to the rejects queue.
//
// The package has no non-test code. TestMain builds the bootstraps once and
// starts one Stack that the tests share in turn (they never run in
// parallel): each test resets the emulator first.
package e2e

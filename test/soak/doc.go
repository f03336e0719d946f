// Package soak holds the fault soak of the queue function: thousands of SQS
// records driven through internal/handler/queue against the TalkJS emulator while it
// fails on purpose (5xx, 429 with Retry-After, dropped connections,
// permanent 4xx, latency), with SQS simulated around it (batches of ten,
// redelivery of reported records, FIFO groups held while in flight, a
// dead-letter queue after five receives). It checks that every record is
// delivered exactly once, forwarded to the rejects queue with its reason, or
// dead-lettered: none lost, none duplicated, order kept within each FIFO
// group. Variants run it with Secrets Manager failing for a while and with
// the TalkJS key rotated mid-run, and TestFaultSoakBootstrap runs a few
// hundred records through the queue function's real bootstrap under the
// Lambda runtime emulator (without Retry-After on its 429s, which the
// function's client would honour in whole seconds).
//
// The package has tests only. `go test ./soak` runs a size that finishes in
// seconds; SOAK_RECORDS=10000 (what `make soak` sets) runs a bigger one.
package soak

// Package security checks that the bridge keeps its secrets: the TalkJS
// secret key and every webhook signing secret. Its test runs the whole send
// path (webhook, queue and schedule handlers over the real Secrets Manager
// cache, a rotation and an outage included) with debug logging, metrics and
// X-Ray segments captured, and scans everything that leaves the process for
// the secrets: logs, metrics, traces, answers, error strings and the
// rejects queue.
//
// Scan is the scanner, exported so that other tests can run their own
// output through it.
package security

// Package secretscan finds the bridge's secrets in what leaves a process:
// the TalkJS secret key and every webhook signing secret, whole or as a
// fragment long enough to matter. Scan is the scanner; Buffer is a
// goroutine-safe writer that tests hand to loggers and then scan.
//
// The test that runs the whole send path (webhook, queue and schedule
// handlers over the real Secrets Manager cache, a rotation and an outage
// included) with debug logging, metrics and X-Ray segments captured, and
// scans everything for the secrets, is in test/secrets.
package secretscan

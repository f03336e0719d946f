// Package metrics counts what one invocation did (messages sent, TalkJS
// attempts retried, records rejected, TalkJS latency) and
// writes it as CloudWatch Embedded Metric Format: JSON lines on stdout that
// CloudWatch Logs turns into metrics without any API call: recording is a
// few counter updates and one line per invocation, never a network call. A Recorder lives for one invocation and travels in
// the context, so the TalkJS client's attempt hook, shared across
// invocations, records into the right one.
//
// WithRoute files what is recorded through a context under a route of the
// routes file: Flush then writes one line per route, with dimension sets
// [Function] and [Function, Route], so per-function totals still add up.
// TalkJS attempts are counted by status class (TalkJS2xx, 4xx, 5xx, NoAnswer).
package metrics

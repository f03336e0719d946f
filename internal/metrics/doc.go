// Package metrics counts what one invocation did (messages sent, TalkJS
// attempts retried, records rejected, TalkJS latency) and
// writes it as CloudWatch Embedded Metric Format: JSON lines on stdout that
// CloudWatch Logs turns into metrics without any API call: recording is a
// few counter updates and one line per invocation, never a network call. A Recorder lives for one invocation and travels in
// the context, so the TalkJS client's attempt hook, shared across
// invocations, records into the right one.
package metrics

// Package queue is the handler of the queue function: it turns a batch of SQS
// records (send commands, or raw payloads to map through a route) into TalkJS
// sends and answers with the records SQS must deliver again.
//
// Only failures that a later attempt can fix are reported as batch item
// failures (TalkJS 5xx and 429, connection errors, timeouts, the secret being
// unavailable). A record that can never be delivered (bad JSON, missing
// fields, a TalkJS 4xx) is logged with its messageId and reason and forwarded
// to the rejects queue, so nothing is lost and nothing loops until the DLQ.
package queue

// Package logging builds the bridge's logger: JSON lines through log/slog in
// the field names of Lambda's JSON log format (timestamp, level, message),
// with the invocation's requestId (from lambdacontext) on every line logged
// with a context, and a redacting layer that replaces any occurrence of the
// TalkJS secret key or a webhook secret, in the message or any attribute, with
// "[REDACTED]". Redaction is a safety net: code should never log a secret.
//
// Every line logged with a Lambda context also carries cold_start,
// function_request_id and xray_trace_id, and With puts attributes such as
// route, conversation_id and delivery_id in a context, so every line logged
// with it has them at the top level without each call site repeating them.
package logging

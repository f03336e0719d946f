// Package setup builds, once per cold start, what every function shares: the
// validated environment, the JSON logger that redacts secrets, the secret
// source (Secrets Manager, or TALKJS_SECRET_KEY for local runs), the traced
// TalkJS client, the routes file, and the per-invocation metrics wrapper.
//
// The functions' main.go files call From and then lambda.Start; what runs
// per event is Invoke (the deadline headroom and the metrics recorder) and
// TraceRecords (one subsegment per SQS record or coalesced run).
package setup

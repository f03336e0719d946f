// Package webhook is the handler of the webhook function: it takes an API
// Gateway REST (payload v1), HTTP API (payload v2) or function URL event,
// verifies the signature on the raw body, maps the payload through its route
// and sends the result, answering with the status table of the README. With
// a CommandQueue (COMMAND_QUEUE_URL) it puts the result on the queue as send
// commands instead and answers 202, making no TalkJS call (enqueue.go).
//
// The event shapes are told apart by their fields, so one function can sit
// behind any of the three front doors. The same Server serves plain HTTP for
// local runs (bridge serve).
package webhook

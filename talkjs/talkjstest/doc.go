// Package talkjstest is an in-memory emulator of the TalkJS REST API (v1) for
// tests, benchmarks and local runs. An [Emulator] is an [net/http.Handler] for one
// app: it keeps users, conversations, participants and messages in memory and
// refuses what TalkJS refuses (a missing or wrong Bearer key, a request without a
// User-Agent, a body that is not JSON, unknown routes and objects, invalid fields,
// limits out of range), honours message idempotency keys, and pages listings newest
// first with startingAfter. Faults ([Fault]) make it answer with a status, wait, or
// drop the connection on demand, and a request log and counters let tests assert on
// what reached it. It is an independent implementation of the wire format: it does
// not import the talkjs client package, so it can catch the client's mistakes.
//
// The emulator is safe for concurrent use. It needs no test machinery: [New] gives a
// handler that any http.Server can serve, so it can stand in for TalkJS locally.
package talkjstest

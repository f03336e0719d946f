// Package talkjstest is an in-memory emulator of the TalkJS REST API (v1) for
// tests, benchmarks and local runs. An [Emulator] is an [net/http.Handler] for one
// app: it keeps users, conversations, participants and messages in memory and
// refuses what TalkJS refuses (a missing or wrong Bearer key or app token, a
// request without a User-Agent, a body that is not JSON, unknown routes and
// objects, invalid fields, limits out of range), honours message idempotency
// keys, lists conversations by last activity or creation as the requested REST
// API version does, pages with startingAfter, runs batch operations in any
// order, limits the app's request rate ([Emulator.SetRateLimit]) and the
// participants per conversation. Faults ([Fault]) make it answer with a status,
// wait, or drop the connection on demand, and a request log and counters let
// tests assert on what reached it. It is an independent implementation of the
// wire format: it does not import the talkjs client package, so it can catch the
// client's mistakes.
//
// The emulator is safe for concurrent use. It needs no test machinery: [New] gives a
// handler that any http.Server can serve, so it can stand in for TalkJS locally.
//
// # Where the docs are silent
//
// The emulator follows TalkJS's REST reference, changelog and example code
// (https://talkjs.com/docs/Reference/REST_API/, github.com/talkjs/talkjs-examples).
// Where they do not settle a behaviour, it does the following; each row is an
// assumption a contract test run against the real API (talkjs/contract_test.go
// with TALKJS_APP_ID and TALKJS_SECRET_KEY) can confirm or refute.
//
//	| topic                          | the emulator                                                  | why                                                              |
//	|--------------------------------|---------------------------------------------------------------|------------------------------------------------------------------|
//	| "Cookies required"             | no User-Agent: 400 COOKIES_REQUIRED                           | the troubleshooting page names the error, not its status         |
//	| rate limit status              | 429 with Retry-After in whole seconds, rounded up (min 1)     | no status or header documented; 429 is HTTP's, seen in clients   |
//	| rate limit scope               | one token bucket per emulator (= app), before authentication; | the docs give limits per app; only batch limits are published    |
//	|                                | a batch is one request; no separate 1-batch/s limit; off by   | (500 burst, queue 100, 1 batch/s)                                |
//	|                                | default; SetRateLimitQueue lets n requests wait instead       |                                                                  |
//	| idempotencyKey scope           | per conversation, forever; a deleted message's key stays used | the docs define the body field only                              |
//	| idempotencyKey answer          | 200; the repeat gets the first message's id, stores nothing   | as for a first send, so a retry cannot tell and need not         |
//	| batch paths                    | relative to /v1/{appId}, starting with "/", query allowed;    | the docs' example; the response type was cut off ("stri...")    |
//	|                                | operation_response is the JSON answer encoded as a string     |                                                                  |
//	| batch order                    | operations run shuffled (seeded by SetSeed) and are answered  | "may execute in a different order"; answers are matched by       |
//	|                                | in the order they ran                                         | sequence number                                                  |
//	| orderBy / orderDirection       | createdAt | lastMessageTs; ASC | DESC in any case; other: 400 | the docs cut off before the values                               |
//	| last activity                  | creation, then each stored message; not edits, deletes or     | "activity" is not defined; messages are what the docs sort by    |
//	|                                | participant changes; ties broken by arrival                   |                                                                  |
//	| offsetTs                       | only items strictly past it in the listing's direction, on    | the changelog names it "for pagination" only                     |
//	|                                | the ordering key                                              |                                                                  |
//	| versions before 2021-02-09     | createdAt DESC; orderBy, orderDirection, offsetTs ignored     | "cannot be changed": ignored rather than refused                 |
//	| TalkJS-REST-Version            | a YYYY-MM-DD date from 2021-01-01 on, else 400; a date between| versions are dates; the changelog lists 2021-01-01, 2021-02-09,  |
//	|                                | versions acts as the version before it; none: the app default | 2021-07-30, 2024-01-01 (SetDefaultRESTVersion, default latest)   |
//	| listing limit                  | 1..100, default 10; an unknown startingAfter: 400             | no maximum documented (examples use 100)                         |
//	| unknown body fields            | ignored and counted (Counters.IgnoredFields); SetStrictFields | TalkJS's anonymisation example sends "id" in bodies              |
//	|                                | refuses them                                                  |                                                                  |
//	| "sender": null                 | on a SystemMessage means no sender                            | the rule is about a sender "provided"                            |
//	| custom objects                 | merge per key; a null value removes the key; custom: null     | documented for the SDKs ("acts as a patch"), not for REST        |
//	|                                | clears them all (users, conversations, message edits)         |                                                                  |
//	| message edit                   | PUT (as the examples) and PATCH; text and custom only; text   | the REST section on editing was not available                    |
//	|                                | cannot be emptied                                             |                                                                  |
//	| attachmentToken                | any non-empty token; the message then needs no text; the      | named in the "Sending Files" guide, not in the excerpts we read  |
//	|                                | answer's attachment URL is made up                            |                                                                  |
//	| participant limit              | 300 (Growth plan) by default, SetParticipantLimit; past it:   | the limit is per plan; the answer is not documented              |
//	|                                | 400, nothing changes                                          |                                                                  |
//	| app tokens (JWT)               | HS256 only; tokenType "app"; iss = app id; exp required and   | the docs sign with expiresIn; that exp is required, and the      |
//	|                                | in the future (no leeway); iat not checked; else 401          | algorithm, are not stated                                        |
//	| unknown user's conversations   | 404 from 2024-01-01, an empty list before                     | the changelog                                                    |
//	| DELETE unknown conversation    | 404                                                           | not stated                                                       |
//	| error bodies                   | {"errorCode", "error", "reasons"?}                            | only statuses are documented; this shape is the emulator's own   |
//	| unread                         | a conversation is unread for a user when its last message is  | no read receipts are emulated                                    |
//	|                                | from someone else                                             |                                                                  |
package talkjstest

// Package devserver is the local development server behind `make run`: the
// same webhook, queue and schedule handlers the Lambda functions use, served
// over plain HTTP on one port, with the TalkJS emulator embedded (unless real
// TalkJS keys are given) and the /inbox page to watch messages arrive.
//
//	POST /webhooks/{route}    a webhook, as API Gateway would deliver it
//	POST /queue               an SQS record body (or an SQS event) for the queue handler
//	POST /reminders/{name}    run a reminder of the routes file now
//	GET  /inbox               the conversations and messages, live, and the
//	                          deliveries refused (webhooks answered 4xx) or
//	                          rejected (queue records for the rejects queue)
//	     /talkjs/v1/...       the embedded TalkJS emulator's REST API
//
// Only the machine's own tools and pages get in: requests must name a
// loopback host, must not come from another site, and must post JSON to
// /queue and /reminders/{name} (see guard.go for why; webhooks, which are
// signature-checked, are exempt from the host and content-type rules).
package devserver

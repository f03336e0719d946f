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
package devserver

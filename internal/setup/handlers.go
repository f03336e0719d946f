package setup

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
)

// This file is the one place the handlers are built. The Lambda mains, the
// dev server (make run), the demo and the bench all call these methods, so
// what runs locally and what is measured is what is deployed. A new handler
// setting goes here.

// Webhook builds the webhook handler. With COMMAND_QUEUE_URL it runs in
// queue mode: what it verifies and maps goes on that queue through SQS
// (From loaded the AWS configuration for it) instead of to TalkJS.
func (d *Deps) Webhook() *webhook.Server {
	s := &webhook.Server{
		Routes:  d.Routes,
		TalkJS:  d.TalkJS,
		Secrets: d.WebhookSecrets(),
		Logger:  d.Logger,
		Memo:    d.Memo,
		// Twilio signs the URL it was given; behind a custom domain that is
		// not the one the API Gateway event tells.
		PublicBaseURL: d.Config.PublicBaseURL,
	}
	if url := d.Config.CommandQueueURL; url != "" && d.AWS != nil {
		s.Queue = webhook.NewSQSCommandQueue(sqs.NewFromConfig(*d.AWS), url)
	}
	return s
}

// Queue builds the queue handler. When REJECTS_QUEUE_URL is set, what can
// never be delivered is forwarded there through SQS; the AWS configuration
// is loaded for it on this first call.
func (d *Deps) Queue(ctx context.Context) (*queue.Handler, error) {
	h := &queue.Handler{
		Routes: d.Routes,
		TalkJS: d.TalkJS,
		Logger: d.Logger,
		Around: TraceRecords,
		Memo:   d.Memo,
	}
	if url := d.Config.RejectsQueueURL; url != "" {
		awsCfg, err := d.AWSConfig(ctx)
		if err != nil {
			return nil, err
		}
		h.Rejects = queue.NewSQSRejects(sqs.NewFromConfig(awsCfg), url)
	}
	return h, nil
}

// Schedule builds the schedule handler.
func (d *Deps) Schedule() *schedule.Handler {
	return &schedule.Handler{
		Routes: d.Routes,
		TalkJS: d.TalkJS,
		Logger: d.Logger,
	}
}

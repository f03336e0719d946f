// Command queue is the Lambda function fed by SQS that turns send commands
// and route-mapped records into TalkJS messages, reporting partial batch
// failures. It is wiring only; the handler is package handler/queue.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
)

func main() {
	ctx := context.Background()
	d, err := setup.From(ctx, os.Getenv, "queue", os.Stdout)
	if err != nil {
		setup.Fatal("queue", err)
	}
	h := &queue.Handler{
		Routes:      d.Routes,
		TalkJS:      d.TalkJS,
		Logger:      d.Logger,
		Concurrency: queue.DefaultConcurrency,
		Around:      setup.TraceRecords,
		Memo:        d.Memo,
	}
	if url := d.Config.RejectsQueueURL; url != "" {
		awsCfg, err := d.AWSConfig(ctx)
		if err != nil {
			setup.Fatal("queue", err)
		}
		h.Rejects = queue.NewSQSRejects(sqs.NewFromConfig(awsCfg), url)
	}
	lambda.Start(setup.Invoke(d, h.Handle))
}

// Command queue is the Lambda function fed by SQS that turns send commands
// and route-mapped records into TalkJS messages, reporting partial batch
// failures. It is wiring only: the handler is built by internal/setup.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
)

func main() {
	ctx := context.Background()
	d, err := setup.From(ctx, os.Getenv, "queue", os.Stdout)
	if err != nil {
		setup.Fatal("queue", err)
	}
	h, err := d.Queue(ctx)
	if err != nil {
		setup.Fatal("queue", err)
	}
	lambda.Start(setup.Invoke(d, h.Handle))
}

// Command schedule is the Lambda function invoked by EventBridge rules and
// EventBridge Scheduler that sends reminder messages. It is wiring only: the
// handler is built by internal/setup.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
)

func main() {
	d, err := setup.From(context.Background(), os.Getenv, "schedule", os.Stdout)
	if err != nil {
		setup.Fatal("schedule", err)
	}
	lambda.Start(setup.Invoke(d, d.Schedule().Handle))
}

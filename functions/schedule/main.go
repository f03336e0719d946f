// Command schedule is the Lambda function invoked by EventBridge rules and
// EventBridge Scheduler that sends reminder messages. It is wiring only; the
// handler is package handler/schedule.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/schedule"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
)

const concurrency = 8

func main() {
	d, err := setup.From(context.Background(), os.Getenv, "schedule", os.Stdout)
	if err != nil {
		setup.Fatal("schedule", err)
	}
	h := &schedule.Handler{Routes: d.Routes, TalkJS: d.TalkJS, Logger: d.Logger, Concurrency: concurrency}
	lambda.Start(setup.Invoke(d, h.Handle))
}

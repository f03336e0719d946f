// Command webhook is the Lambda function behind API Gateway (REST or HTTP
// API) or a function URL that turns third-party webhooks into TalkJS
// messages. It is wiring only: the handler is built by internal/setup.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
)

func main() {
	d, err := setup.From(context.Background(), os.Getenv, "webhook", os.Stdout)
	if err != nil {
		setup.Fatal("webhook", err)
	}
	lambda.Start(setup.Invoke(d, d.Webhook().Handle))
}

// Command webhook is the Lambda function behind API Gateway (REST or HTTP
// API) or a function URL that turns third-party webhooks into TalkJS
// messages. It is wiring only; the handler is package handler/webhook.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
)

func main() {
	d, err := setup.From(context.Background(), os.Getenv, "webhook", os.Stdout)
	if err != nil {
		setup.Fatal("webhook", err)
	}
	s := &webhook.Server{Routes: d.Routes, TalkJS: d.TalkJS, Secrets: d.WebhookSecrets(), Logger: d.Logger, Memo: d.Memo}
	lambda.Start(setup.Invoke(d, s.Handle))
}

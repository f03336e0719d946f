// Command hello is the smallest aws-lambda-go bootstrap: it echoes each event
// back. make bench compares the dependency floor against it.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, ev json.RawMessage) (json.RawMessage, error) {
		return ev, nil
	})
}

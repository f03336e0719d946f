// Command floor is the "dependency floor" bootstrap of make bench: it links
// what every bridge function must link (aws-lambda-go, the AWS SDK's config
// loader and Secrets Manager client, the X-Ray SDK and its AWS SDK
// instrumentation) and does nothing with it, then echoes each event back.
// A function's cold start divided by this one's is the cost of the bridge's
// own code and init work, separated from the cost of its dependencies.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
)

func main() {
	// Never true: the calls only make the linker keep the code a real
	// function uses, so the floor's binary and its package inits match.
	if os.Getenv("BENCH_FLOOR_NEVER_SET") == "link" {
		cfg, err := awsconfig.LoadDefaultConfig(context.Background())
		if err != nil {
			panic(err)
		}
		awsv2.AWSV2Instrumentor(&cfg.APIOptions)
		c := secretsmanager.NewFromConfig(cfg)
		_, _ = c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{})
		_ = xray.Configure(xray.Config{})
	}
	lambda.Start(func(_ context.Context, ev json.RawMessage) (json.RawMessage, error) {
		return ev, nil
	})
}

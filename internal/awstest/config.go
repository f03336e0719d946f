package awstest

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Credentials are the fake static credentials Config uses. They sign
// requests the way real ones do, so the server can check the signature's form.
var Credentials = credentials.NewStaticCredentialsProvider("AKIDTESTTESTTESTTEST", "fake-secret-access-key", "")

// Config returns an aws.Config that sends every client to endpoint (the
// URL of an httptest server wrapping a Server) with fake credentials, in
// Region, and with the SDK's retries off, so an injected fault reaches the
// code under test at once instead of after the SDK's backoff.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      Credentials,
		BaseEndpoint:     aws.String(endpoint),
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	}
}

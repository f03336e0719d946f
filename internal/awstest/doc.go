// Package awstest is a local AWS endpoint for tests: an http.Handler that
// speaks the AWS JSON protocol for the few calls the bridge makes
// (secretsmanager.GetSecretValue over awsJson1_1, AmazonSQS.SendMessage over
// awsJson1_0), so the real aws-sdk-go-v2 clients can be pointed at it through
// AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_SQS or a config's
// BaseEndpoint. It rejects requests that are not SigV4-signed, counts calls,
// keeps what was sent to SQS (deduplicating FIFO messages by their
// deduplication id), and injects faults on demand, for every operation or
// one (FailOperation). It is test code:
// it keeps everything in memory and never talks to AWS.
package awstest

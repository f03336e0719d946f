// Package secretsource supplies the TalkJS secret key, the app id and the
// webhook signing secrets from AWS Secrets Manager. A Source implements
// talkjs.KeySource: it fetches the secret lazily, reuses it for a TTL, lets
// only one fetch run however many goroutines ask, fetches again at once when
// TalkJS refuses the current key (rotation), and keeps serving a cached value
// for a bounded grace period when Secrets Manager cannot be reached. Static is
// the same surface over a key given in the environment, for local runs.
//
// No error or log line this package writes contains a secret value.
package secretsource

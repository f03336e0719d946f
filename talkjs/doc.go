// Package talkjs is a client for the TalkJS REST API v1: users, conversations,
// participants, messages, listing and the batch endpoint. Every call goes through
// one request path that authenticates with a secret key from a [KeySource],
// decides success by the HTTP status alone, and retries what TalkJS documents as
// safe to retry (5xx, 429, connection errors, timeouts) with exponential backoff,
// full jitter and Retry-After, within the caller's context deadline. A message
// send is retried only when every message in it carries an idempotency key, so a
// retry can never post a message twice. The package knows nothing of AWS or
// Lambda; it depends only on the standard library, golang.org/x and the
// project's tlsroots (TLS verified against the roots in the binary).
package talkjs

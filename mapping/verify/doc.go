// Package verify checks that an inbound webhook really comes from its sender
// before anything in it is trusted. A route's `verify:` block decodes into a
// [Config]; [New] turns it and the resolved secret values into a [Verifier],
// whose [Verifier.Verify] checks a request's headers and raw body against a
// preset (github, stripe, shopify, slack, standard-webhooks, talkjs, basic,
// bearer), a generic HMAC scheme, or nothing at all when a route says
// `verify: none` explicitly.
//
// It fails closed: a missing or empty secret is a construction error, never a
// skipped check; every signature comparison is constant-time; timestamps are
// refused when older than the tolerance and when further in the future than
// it; several secrets may be given at once so a secret can be rotated without
// downtime. Every verification failure wraps [ErrUnverified], so a caller
// answers 401 with a single errors.Is check. Error messages name headers and
// what was wrong with them, never a secret or an expected signature.
//
// Headers are looked up case-insensitively: an [net/http.Header] built by
// net/http (canonical keys) and a map built by hand from an API Gateway or
// function URL event (lower-case keys) both work.
package verify

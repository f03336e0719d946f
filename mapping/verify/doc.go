// Package verify checks that an inbound webhook really comes from its sender
// before anything in it is trusted. A route's `verify:` block decodes into a
// [Config]; [New] turns it and the resolved secret values into a [Verifier],
// whose [Verifier.Verify] (or [Verifier.VerifyRequest]) checks a request's
// headers and raw body against a sender's preset, a generic HMAC scheme
// (preset hmac), or nothing at all when a route says `verify: none`
// explicitly.
//
// It fails closed: a missing or empty secret is a construction error, never a
// skipped check; every signature comparison is constant-time; timestamps are
// refused when older than the tolerance and when further in the future than
// it; several secrets may be given at once so a secret can be rotated without
// downtime (every secret is tried, whichever matches). Every verification
// failure wraps [ErrUnverified], so a caller answers 401 with a single
// errors.Is check. Error messages name headers and what was wrong with them,
// never a secret or an expected signature.
//
// Headers are looked up case-insensitively: an [net/http.Header] built by
// net/http (canonical keys) and a map built by hand from an API Gateway or
// function URL event (lower-case keys) both work.
//
// # Presets
//
// Tolerance is the default replay window (verify.tolerance overrides it);
// "-" means the sender signs no timestamp, so a captured request can be
// replayed and only idempotency keys stop a duplicate. "Delivery id" is the
// header [Config.DeliveryIDHeader] returns: set only where the signature
// covers it. Sources are cited in full in testdata/senders/SCHEMES.md.
//
//	preset             header(s)                                   signed, encoding                              tolerance  delivery id                 source
//	github             X-Hub-Signature-256: sha256=                HMAC-SHA256(body), hex                        -          -                           GitHub docs, validating deliveries
//	stripe             Stripe-Signature: t=,v1=[,v1=]              HMAC-SHA256(t "." body), hex; any v1          5 min      -                           stripe-go webhook/client.go (DefaultTolerance)
//	shopify            X-Shopify-Hmac-Sha256 or Shopify-Hmac-Sha256  HMAC-SHA256(body), base64                   -          -                           Shopify docs
//	slack              X-Slack-Signature: v0= (+ X-Slack-Request-Timestamp)  HMAC-SHA256("v0:" ts ":" body), hex  5 min     -                           python-slack-sdk signature verifier
//	standard-webhooks  webhook-signature: v1,… (or svix-…)         HMAC-SHA256(id "." ts "." body), base64       5 min      webhook-id (svix-id)        standard-webhooks reference libraries
//	talkjs             X-TalkJS-Signature (+ X-TalkJS-Timestamp)   HMAC-SHA256(ts "." body), upper hex           5 min*     -                           TalkJS security docs (no window documented)
//	gitlab             X-Gitlab-Token                              the token itself, compared                    -          -                           GitLab webhooks.md
//	gitlab-signing     webhook-signature: v1,… (webhook- only)     as standard-webhooks (signing token)          5 min*     webhook-id (= Idempotency-Key)  GitLab MRs 230944, 231325
//	bitbucket          X-Hub-Signature: sha256=                    HMAC-SHA256(body), hex                        -          -                           Bitbucket DC docs; Cloud: 3rd-party
//	jira               X-Hub-Signature: sha256=                    HMAC-SHA256(body), hex                        -          -                           Jira DC docs; Cloud: 3rd-party
//	circleci           circleci-signature: v1=[,v2=…]              HMAC-SHA256(body), hex; latest version only   -          -                           circleci-docs outbound-webhooks.adoc
//	sentry             Sentry-Hook-Signature or Sentry-App-Signature  HMAC-SHA256(body), hex                     -          -                           sentry-docs webhooks.mdx; integration-platform-example
//	pagerduty          X-PagerDuty-Signature: v1=[,v1=]            HMAC-SHA256(body), hex; any v1                -          -                           PagerDuty 04-Signatures.md; go-pagerduty
//	grafana            X-Grafana-Alerting-Signature (+ optional timestamp header)  HMAC-SHA256([ts ":"] body), hex  5 min*  -                      grafana/alerting http/hmac.go
//	paddle             Paddle-Signature: ts=;h1=[;h1=]             HMAC-SHA256(ts ":" body), hex; any h1         5 s        -                           paddle-python-sdk Verifier (5 s default)
//	twilio             X-Twilio-Signature                          HMAC-SHA1(URL + sorted params), base64        -          -                           twilio-python request_validator.py
//	zoom               x-zm-signature: v0= (+ x-zm-request-timestamp)  HMAC-SHA256("v0:" ts ":" body), hex       5 min*     -                           zoom/webhook-sample
//	twitch             Twitch-Eventsub-Message-Signature: sha256=  HMAC-SHA256(id ts body), hex; RFC 3339 ts     10 min†    Twitch-Eventsub-Message-Id  twitch eventsub-webhooks-node-sample, twitch-cli
//	linear             linear-signature                            HMAC-SHA256(body), hex; body webhookTimestamp  1 min     -                           linear SDK webhooks/client.ts
//	zendesk            X-Zendesk-Webhook-Signature (+ -Timestamp)  HMAC-SHA256(ts body), base64                  5 min*     -                           Zendesk docs, verifying webhooks
//	calendly           Calendly-Webhook-Signature: t=,v1=          HMAC-SHA256(t "." body), hex                  5 min*     -                           Calendly docs, webhook signatures
//	typeform           Typeform-Signature: sha256=                 HMAC-SHA256(body), base64                     -          -                           3rd-party (hookdeck; Typeform dev-rel gist)
//	intercom           X-Hub-Signature: sha1=                      HMAC-SHA1(body), hex                          -          -                           3rd-party (hookdeck, trigger.dev)
//	vercel             x-vercel-signature                          HMAC-SHA1(body), hex                          -          -                           3rd-party (trigger.dev, hookdeck)
//	basic, bearer      Authorization                               the credentials, compared                     -          -                           RFC 7617 / RFC 6750 (Alertmanager http_config)
//	hmac               configured                                  configured                                    5 min when timed  -                  -
//
// * the sender documents no window; five minutes is our choice, the common
// one. † Twitch's docs have a "guarding against replay attacks" section
// that asks receivers to refuse old timestamps; its text was not readable
// here, and ten minutes is the figure receivers commonly take from it. Paddle's 5 s is its SDK's default: see paddle.go for why it is kept.
// Stripe-go refuses only old timestamps; these presets also refuse those
// more than the tolerance ahead of the clock, and accept any within it.
//
// Secrets: Standard Webhooks and gitlab-signing secrets are base64, with or
// without the whsec_ prefix (a bare secret that is not base64 is used as
// raw bytes); Stripe's whsec_ secret is used whole; Paddle's pdl_ntfset_…
// as written; Twilio's is the account Auth Token (primary and secondary
// during rotation).
//
// # What the caller provides
//
// The public URL, for presets whose [Config.NeedsURL] is true (twilio):
// pass it in [Request.URL] to [Verifier.VerifyRequest]. It must equal the
// URL configured at the sender byte for byte: scheme, host (the custom
// domain when one is used), stage and path as the sender sees them, and the
// raw query string in its original order. Twilio may or may not include
// the default port; both spellings are tried. Without it such a request is
// refused with [ErrMissingURL].
//
// Delivery ids for idempotency keys: [Config.DeliveryIDHeader] names the
// header (empty when the preset signs none) and [Config.SignedDeliveryID]
// reads it from a verified request, following the header naming the
// verifier used (svix-id for svix- requests). Where it is empty, derive
// keys from the body, which every preset but gitlab, basic and bearer signs.
//
// Handshakes: [ZoomEncryptedToken] computes Zoom's endpoint.url_validation
// answer; [Verifier.ZoomEncryptedToken] verifies the (signed) validation
// request first and answers with the secret that signed it, so rotation
// keeps working.
//
// Tools: [Sign] and [SignTwilio] produce the headers a sender would send,
// for tests and demos; [Config.SignsTimestamp] says whether a captured
// request goes stale and must be re-signed; [DefaultToleranceFor] gives a
// preset's window.
package verify

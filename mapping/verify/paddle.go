package verify

// paddleScheme: Paddle-Signature: ts=<unix seconds>;h1=<hex HMAC-SHA256 of
// "<ts>:<body>">, h1 repeated while a secret is rotated; valid when any
// configured secret matches any h1 (PaddleHQ/paddle-python-sdk
// Notifications/PaddleSignature.py and its tests). The secret (pdl_ntfset_…)
// is the key as written.
//
// Tolerance: Paddle's SDKs allow 5 seconds by default, and this preset
// keeps that. The SDK default only works if Paddle signs each delivery
// attempt when it sends it (assumed, not read in Paddle's docs); then a
// request refused as late is retried (up to 60 times over 3 days for live
// accounts) with a fresh signature, so the tight window costs a retry, not
// a delivery. A route whose function runs far from Paddle's clock (cold
// starts fetching secrets, skew) can widen it with verify.tolerance.
var paddleScheme = &listScheme{header: "Paddle-Signature", sep: ";", tsKey: "ts", sigKey: "h1", join: []byte{':'}}

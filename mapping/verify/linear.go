package verify

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
)

const (
	linearHeader          = "linear-signature"
	linearTimestampHeader = "linear-timestamp"
)

var linearSignature = &hmacScheme{header: linearHeader, newHash: sha256.New, size: sha256.Size, parts: bodyOnly}

// linearCheck verifies linear-signature: hex HMAC-SHA256 of the body. The
// signature covers no header, so freshness is read from the body's
// webhookTimestamp (milliseconds), which it does cover, as Linear's SDK
// does; only a body without that field falls back to the linear-timestamp
// header (milliseconds), which proves nothing about age but is what such a
// request has. Linear's SDK allows one minute either way
// (linear/linear packages/sdk/src/webhooks/client.ts).
func linearCheck(keys [][]byte) checkFunc {
	sig := linearSignature.check(keys)
	return func(v *Verifier, r *Request) error {
		if err := sig(v, r); err != nil {
			return err
		}
		name, ts := "body webhookTimestamp", ""
		var body struct {
			WebhookTimestamp json.Number `json:"webhookTimestamp"`
		}
		if json.Unmarshal(r.Body, &body) == nil {
			ts = body.WebhookTimestamp.String()
		}
		if ts == "" {
			name, ts = linearTimestampHeader, header(r.Header, linearTimestampHeader)
		}
		if ts == "" {
			return fmt.Errorf("%w: no webhookTimestamp in the body and no %s header", ErrMissingTimestamp, linearTimestampHeader)
		}
		at, err := parseTimestamp(name, ts, milliseconds)
		if err != nil {
			return err
		}
		return v.checkTime(name, at)
	}
}

package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

const pagerdutyHeader = "X-PagerDuty-Signature"

// pagerdutyCheck verifies X-PagerDuty-Signature: one or more comma-separated
// v1=<hex HMAC-SHA256 of the body>, several while a subscription's secret is
// rotated without downtime; any v1 matching any secret is enough. Other
// versions are ignored (PagerDuty developer-docs 04-Signatures.md,
// go-pagerduty webhookv3).
func pagerdutyCheck(keys [][]byte) checkFunc {
	return func(_ *Verifier, r *Request) error {
		raw := header(r.Header, pagerdutyHeader)
		if raw == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, pagerdutyHeader)
		}
		var sigs [][]byte
		entries, bad := 0, 0
		for item := range strings.SplitSeq(raw, ",") {
			enc, ok := strings.CutPrefix(strings.TrimSpace(item), "v1=")
			if !ok {
				continue
			}
			if entries++; entries > maxSignatures {
				return fmt.Errorf("%w: %s has more than %d signatures", ErrMalformedSignature, pagerdutyHeader, maxSignatures)
			}
			sig, err := hex.DecodeString(enc)
			if err != nil || len(sig) != sha256.Size {
				bad++
				continue
			}
			sigs = append(sigs, sig)
		}
		if len(sigs) == 0 {
			if bad > 0 {
				return fmt.Errorf("%w: %s v1 is not a 32-byte hex HMAC", ErrMalformedSignature, pagerdutyHeader)
			}
			return fmt.Errorf("%w: %s has no v1 signature", ErrMissingSignature, pagerdutyHeader)
		}
		if !macMatches(sha256.New, keys, sigs, r.Body) {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, pagerdutyHeader)
		}
		return nil
	}
}

package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

const stripeHeader = "Stripe-Signature"

// stripeCheck verifies Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]
// where each v1 is HMAC-SHA256 of "<t>.<body>" keyed with the whole endpoint
// secret, whsec_ prefix included. Stripe sends several v1 values while an
// endpoint secret is being rolled; any one matching is enough. v0 (test-mode
// SHA-1 era) and unknown schemes are ignored.
func stripeCheck(keys [][]byte) func(*Verifier, http.Header, []byte) error {
	return func(v *Verifier, h http.Header, body []byte) error {
		raw := header(h, stripeHeader)
		if raw == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, stripeHeader)
		}
		var ts string
		var sigs [][]byte
		entries, bad := 0, 0
		for item := range strings.SplitSeq(raw, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
			if !ok {
				return fmt.Errorf("%w: %s has an item without =", ErrMalformedSignature, stripeHeader)
			}
			switch k {
			case "t":
				if ts != "" {
					return fmt.Errorf("%w: %s has more than one t", ErrMalformedSignature, stripeHeader)
				}
				ts = val
			case "v1":
				if entries++; entries > maxSignatures {
					return fmt.Errorf("%w: %s has more than %d signatures", ErrMalformedSignature, stripeHeader, maxSignatures)
				}
				sig, err := hex.DecodeString(val)
				if err != nil || len(sig) != sha256.Size {
					bad++
					continue
				}
				sigs = append(sigs, sig)
			}
		}
		if ts == "" {
			return fmt.Errorf("%w: %s has no t", ErrMissingTimestamp, stripeHeader)
		}
		at, err := parseTimestamp(stripeHeader+" t", ts, seconds)
		if err != nil {
			return err
		}
		if len(sigs) == 0 {
			if bad > 0 {
				return fmt.Errorf("%w: %s v1 is not a 32-byte hex HMAC", ErrMalformedSignature, stripeHeader)
			}
			return fmt.Errorf("%w: %s has no v1 signature", ErrMissingSignature, stripeHeader)
		}
		if !macMatches(sha256.New, keys, sigs, []byte(ts), dot, body) {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, stripeHeader)
		}
		return v.checkTime(stripeHeader+" t", at)
	}
}

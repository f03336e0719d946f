package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

const circleciHeader = "circleci-signature"

// circleciCheck verifies circleci-signature: a comma-separated versioned
// list, v1=<hex HMAC-SHA256 of the body>[,v2=...]. CircleCI's docs ask
// receivers to check only the latest version present: were a v1 still
// accepted next to a v2, someone able to forge the older (weaker) scheme
// could strip the newer one. So the highest version decides; v1 is the only
// one that exists today, and a request whose highest version is unknown
// is refused rather than checked against its v1
// (circleci/circleci-docs outbound-webhooks.adoc).
func circleciCheck(keys [][]byte) checkFunc {
	return func(_ *Verifier, r *Request) error {
		raw := header(r.Header, circleciHeader)
		if raw == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, circleciHeader)
		}
		latest := 0
		var latestVals []string
		entries := 0
		for item := range strings.SplitSeq(raw, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
			n, err := strconv.Atoi(strings.TrimPrefix(k, "v"))
			if !ok || !strings.HasPrefix(k, "v") || err != nil || n < 1 {
				return fmt.Errorf("%w: %s has an item that is not v<n>=<signature>", ErrMalformedSignature, circleciHeader)
			}
			if entries++; entries > maxSignatures {
				return fmt.Errorf("%w: %s has more than %d signatures", ErrMalformedSignature, circleciHeader, maxSignatures)
			}
			switch {
			case n > latest:
				latest, latestVals = n, []string{val}
			case n == latest:
				latestVals = append(latestVals, val)
			}
		}
		if latest != 1 {
			return fmt.Errorf("%w: %s's latest version is v%d; only v1 is known, and older versions are not checked", ErrMalformedSignature, circleciHeader, latest)
		}
		var sigs [][]byte
		for _, val := range latestVals {
			sig, err := hex.DecodeString(val)
			if err != nil || len(sig) != sha256.Size {
				continue
			}
			sigs = append(sigs, sig)
		}
		if len(sigs) == 0 {
			return fmt.Errorf("%w: %s v1 is not a 32-byte hex HMAC", ErrMalformedSignature, circleciHeader)
		}
		if !macMatches(sha256.New, keys, sigs, r.Body) {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, circleciHeader)
		}
		return nil
	}
}

package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

const stripeHeader = "Stripe-Signature"

// listScheme is one header holding a key=value list: a Unix-seconds
// timestamp and one or more hex HMAC-SHA256 signatures of
// "<timestamp><join><body>", any of which may match (the sender lists
// several while a secret is being rolled). Stripe and Calendly use it with
// "t", "v1", "," and "."; Paddle with "ts", "h1", ";" and ":" (paddle.go).
// Other keys (Stripe's v0) are ignored.
type listScheme struct {
	header string
	sep    string
	tsKey  string
	sigKey string
	join   []byte
}

// stripeScheme: Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...],
// keyed with the whole endpoint secret, whsec_ prefix included
// (stripe-go webhook/client.go).
var stripeScheme = &listScheme{header: stripeHeader, sep: ",", tsKey: "t", sigKey: "v1", join: dot}

// calendlyScheme: Calendly-Webhook-Signature: t=<unix>,v1=<hex>, the same
// layout (developer.calendly.com webhook-signatures).
var calendlyScheme = &listScheme{header: "Calendly-Webhook-Signature", sep: ",", tsKey: "t", sigKey: "v1", join: dot}

// check verifies the signature first and the timestamp's age second, so a
// stale error means a genuine but late request. The age is checked in both
// directions: stripe-go refuses only old timestamps, but a timestamp more
// than the tolerance ahead of the clock comes from a badly skewed sender
// or would make a captured request replayable for longer.
func (s *listScheme) check(keys [][]byte) checkFunc {
	return func(v *Verifier, r *Request) error {
		raw := header(r.Header, s.header)
		if raw == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, s.header)
		}
		tsName := s.header + " " + s.tsKey
		var ts string
		var sigs [][]byte
		entries, bad := 0, 0
		for item := range strings.SplitSeq(raw, s.sep) {
			k, val, ok := strings.Cut(strings.TrimSpace(item), "=")
			if !ok {
				return fmt.Errorf("%w: %s has an item without =", ErrMalformedSignature, s.header)
			}
			switch k {
			case s.tsKey:
				if ts != "" {
					return fmt.Errorf("%w: %s has more than one %s", ErrMalformedSignature, s.header, s.tsKey)
				}
				ts = val
			case s.sigKey:
				if entries++; entries > maxSignatures {
					return fmt.Errorf("%w: %s has more than %d signatures", ErrMalformedSignature, s.header, maxSignatures)
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
			return fmt.Errorf("%w: %s has no %s", ErrMissingTimestamp, s.header, s.tsKey)
		}
		at, err := parseTimestamp(tsName, ts, seconds)
		if err != nil {
			return err
		}
		if len(sigs) == 0 {
			if bad > 0 {
				return fmt.Errorf("%w: %s %s is not a 32-byte hex HMAC", ErrMalformedSignature, s.header, s.sigKey)
			}
			return fmt.Errorf("%w: %s has no %s signature", ErrMissingSignature, s.header, s.sigKey)
		}
		if !macMatches(sha256.New, keys, sigs, []byte(ts), s.join, r.Body) {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, s.header)
		}
		return v.checkTime(tsName, at)
	}
}

// sign writes the header a sender would, for Sign.
func (s *listScheme) sign(key []byte, ts string, body []byte) string {
	return s.tsKey + "=" + ts + s.sep + s.sigKey + "=" + hex.EncodeToString(sumMAC(sha256.New, key, []byte(ts), s.join, body))
}

package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// swHeaders is one naming of the Standard Webhooks headers; Svix-branded
// senders (Clerk, Resend, ...) use the svix- names for the same scheme.
type swHeaders struct{ id, timestamp, signature string }

var (
	swStandard = swHeaders{"webhook-id", "webhook-timestamp", "webhook-signature"}
	swSvix     = swHeaders{"svix-id", "svix-timestamp", "svix-signature"}
)

const swSecretPrefix = "whsec_"

// swKeys are the HMAC keys a Standard Webhooks secret may stand for. The
// reference library base64-decodes the secret whether or not it carries
// the whsec_ prefix (its TestWebhookPrefix), so a user who pastes the bare
// base64 part must verify too. A whsec_ secret must decode; a bare secret
// that decodes is tried decoded and as its raw bytes (the reference's
// NewWebhookRaw), and one that does not decode is used raw. field names
// the secret in errors.
func swKeys(secret []byte, field string) ([][]byte, error) {
	enc, prefixed := strings.CutPrefix(string(secret), swSecretPrefix)
	key, err := base64.StdEncoding.DecodeString(enc)
	if prefixed {
		if err != nil {
			return nil, configErr(field, ErrInvalidConfig, "%s secret is not valid base64", swSecretPrefix)
		}
		if len(key) == 0 {
			return nil, configErr(field, ErrEmptySecret, "%s secret decodes to nothing", swSecretPrefix)
		}
		return [][]byte{key}, nil
	}
	if err != nil || len(key) == 0 {
		return [][]byte{secret}, nil
	}
	return [][]byte{key, secret}, nil
}

// swSignKey is the key Sign uses: the decoded one when there is one, as the
// reference library signs.
func swSignKey(secret []byte) ([]byte, error) {
	keys, err := swKeys(secret, "secrets")
	if err != nil {
		return nil, err
	}
	return keys[0], nil
}

// standardWebhooksCheck verifies webhook-signature: a space-separated list of
// "v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">". Secrets are keyed
// as [swKeys] says. Asymmetric (v1a), unknown versions and tokens without a
// comma are skipped, as the reference library skips them; only when no
// usable v1 remains is the header refused. svix allows the svix- names
// (preset standard-webhooks); GitLab's signing token uses webhook- only.
func standardWebhooksCheck(secrets [][]byte, svix bool) (checkFunc, error) {
	var keys [][]byte
	for i, s := range secrets {
		k, err := swKeys(s, fmt.Sprintf("secrets[%d]", i))
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	return func(v *Verifier, r *Request) error {
		names := swStandard
		raw := header(r.Header, names.signature)
		if raw == "" && svix {
			names = swSvix
			raw = header(r.Header, names.signature)
		}
		if raw == "" {
			if svix {
				return fmt.Errorf("%w: no %s (or %s) header", ErrMissingSignature, swStandard.signature, swSvix.signature)
			}
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, swStandard.signature)
		}
		id := header(r.Header, names.id)
		if id == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, names.id)
		}
		ts := header(r.Header, names.timestamp)
		if ts == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingTimestamp, names.timestamp)
		}
		at, err := parseTimestamp(names.timestamp, ts, seconds)
		if err != nil {
			return err
		}
		var sigs [][]byte
		entries, bad := 0, 0
		for _, item := range strings.Fields(raw) {
			if entries++; entries > maxSignatures {
				return fmt.Errorf("%w: %s has more than %d signatures", ErrMalformedSignature, names.signature, maxSignatures)
			}
			version, enc, ok := strings.Cut(item, ",")
			if !ok {
				bad++
				continue
			}
			if version != "v1" {
				continue
			}
			sig, err := base64.StdEncoding.DecodeString(enc)
			if err != nil || len(sig) != sha256.Size {
				bad++
				continue
			}
			sigs = append(sigs, sig)
		}
		if len(sigs) == 0 {
			if bad > 0 {
				return fmt.Errorf("%w: %s has no v1,<32-byte base64 HMAC> entry", ErrMalformedSignature, names.signature)
			}
			return fmt.Errorf("%w: %s has no v1 signature", ErrMissingSignature, names.signature)
		}
		if !macMatches(sha256.New, keys, sigs, []byte(id), dot, []byte(ts), dot, r.Body) {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, names.signature)
		}
		return v.checkTime(names.timestamp, at)
	}, nil
}

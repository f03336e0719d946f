package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
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

// swKey is the HMAC key of a Standard Webhooks secret: whsec_<base64>
// decoded, any other secret as its raw bytes. field names the secret in
// errors.
func swKey(secret []byte, field string) ([]byte, error) {
	enc, ok := strings.CutPrefix(string(secret), swSecretPrefix)
	if !ok {
		return secret, nil
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, configErr(field, ErrInvalidConfig, "%s secret is not valid base64", swSecretPrefix)
	}
	if len(key) == 0 {
		return nil, configErr(field, ErrEmptySecret, "%s secret decodes to nothing", swSecretPrefix)
	}
	return key, nil
}

// standardWebhooksCheck verifies webhook-signature: a space-separated list of
// "v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">". Secrets written
// whsec_<base64> are decoded, as the spec's libraries do; any other secret is
// used as raw bytes. Asymmetric (v1a) and unknown versions are ignored.
func standardWebhooksCheck(secrets [][]byte) (func(*Verifier, http.Header, []byte) error, error) {
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		key, err := swKey(s, fmt.Sprintf("secrets[%d]", i))
		if err != nil {
			return nil, err
		}
		keys[i] = key
	}
	return func(v *Verifier, h http.Header, body []byte) error {
		names := swStandard
		raw := header(h, names.signature)
		if raw == "" {
			names = swSvix
			raw = header(h, names.signature)
		}
		if raw == "" {
			return fmt.Errorf("%w: no %s (or %s) header", ErrMissingSignature, swStandard.signature, swSvix.signature)
		}
		id := header(h, names.id)
		if id == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, names.id)
		}
		ts := header(h, names.timestamp)
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
				return fmt.Errorf("%w: %s entry is not <version>,<signature>", ErrMalformedSignature, names.signature)
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
				return fmt.Errorf("%w: %s v1 is not a 32-byte base64 HMAC", ErrMalformedSignature, names.signature)
			}
			return fmt.Errorf("%w: %s has no v1 signature", ErrMissingSignature, names.signature)
		}
		if !macMatches(sha256.New, keys, sigs, []byte(id), dot, []byte(ts), dot, body) {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, names.signature)
		}
		return v.checkTime(names.timestamp, at)
	}, nil
}

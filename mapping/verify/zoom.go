package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// The zoom preset's signature is a row in hmacpresets.go; this file holds
// the endpoint.url_validation handshake, which needs the secret itself.

// ZoomEncryptedToken is Zoom's answer to an endpoint.url_validation
// request: the lower-case hex HMAC-SHA256 of plainToken keyed with the
// app's secret token (zoom/webhook-sample). The handler replies 200 with
// {"plainToken": plainToken, "encryptedToken": this}. It is a pure function.
func ZoomEncryptedToken(secret []byte, plainToken string) string {
	return hex.EncodeToString(sumMAC(sha256.New, secret, []byte(plainToken)))
}

// ErrNotZoom is returned by [Verifier.ZoomEncryptedToken] for a verifier
// whose preset is not zoom; it does not wrap [ErrUnverified].
var ErrNotZoom = errors.New("verify: not a zoom verifier")

// ZoomEncryptedToken verifies r (the url_validation request is signed like
// every Zoom delivery) and then answers it with the secret that signed it,
// so the handshake keeps working while a secret token is rotated. The
// error wraps [ErrUnverified] when r does not verify. No side effects; safe
// to retry.
func (v *Verifier) ZoomEncryptedToken(r Request, plainToken string) (string, error) {
	if v == nil || v.keyed == nil {
		return "", ErrNotZoom
	}
	if err := v.VerifyRequest(r); err != nil {
		return "", err
	}
	for _, k := range v.keys {
		if v.keyed(k)(v, &r) == nil {
			return ZoomEncryptedToken(k, plainToken), nil
		}
	}
	// Unreachable: the request verified under one of the keys.
	return "", fmt.Errorf("%w: no single secret verifies the request", ErrUnverified)
}

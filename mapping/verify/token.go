package verify

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

const authorization = "Authorization"

// basicCheck verifies Authorization: Basic base64(user:password), the secret
// being the password. Alertmanager's http_config.basic_auth sends this.
func basicCheck(username string, keys [][]byte) checkFunc {
	wantUser := sha256.Sum256([]byte(username))
	digests := digestAll(keys)
	return func(_ *Verifier, r *Request) error {
		cred, err := credentials(r.Header, "Basic")
		if err != nil {
			return err
		}
		decoded, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return fmt.Errorf("%w: %s Basic credentials are not base64", ErrMalformedSignature, authorization)
		}
		user, password, ok := strings.Cut(string(decoded), ":")
		if !ok {
			return fmt.Errorf("%w: %s Basic credentials have no colon", ErrMalformedSignature, authorization)
		}
		gotUser := sha256.Sum256([]byte(user))
		userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
		if userOK&matchAny(digests, password) != 1 {
			return fmt.Errorf("%w: %s Basic credentials match no secret", ErrSignatureMismatch, authorization)
		}
		return nil
	}
}

// bearerCheck verifies Authorization: Bearer <secret>, as Alertmanager's
// http_config.authorization sends it.
func bearerCheck(keys [][]byte) checkFunc {
	digests := digestAll(keys)
	return func(_ *Verifier, r *Request) error {
		token, err := credentials(r.Header, "Bearer")
		if err != nil {
			return err
		}
		if matchAny(digests, token) != 1 {
			return fmt.Errorf("%w: %s Bearer token matches no secret", ErrSignatureMismatch, authorization)
		}
		return nil
	}
}

const gitlabTokenHeader = "X-Gitlab-Token"

// gitlabTokenCheck verifies X-Gitlab-Token: the webhook's secret token in
// plain text (GitLab docs, webhooks.md). It proves only that the sender knows
// the token, not that the body is GitLab's: prefer gitlab-signing where the
// instance has signing tokens.
func gitlabTokenCheck(keys [][]byte) checkFunc {
	digests := digestAll(keys)
	return func(_ *Verifier, r *Request) error {
		token := header(r.Header, gitlabTokenHeader)
		if token == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, gitlabTokenHeader)
		}
		if matchAny(digests, token) != 1 {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, gitlabTokenHeader)
		}
		return nil
	}
}

// tokensValid refuses, at load time, tokens that a header can never carry
// as-is: what names the kind of token and rule what valid demands, for the
// error.
func tokensValid(keys [][]byte, valid func([]byte) bool, what, rule string) error {
	for i, k := range keys {
		if !valid(k) {
			return configErr(fmt.Sprintf("secrets[%d]", i), ErrInvalidConfig, "%s cannot hold %s", what, rule)
		}
	}
	return nil
}

// validHeaderValue reports whether k survives as a trimmed header value.
func validHeaderValue(k []byte) bool {
	for _, b := range k {
		if (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return strings.TrimSpace(string(k)) == string(k)
}

// credentials returns what follows the auth scheme (case-insensitive, RFC 9110).
func credentials(h http.Header, scheme string) (string, error) {
	raw := header(h, authorization)
	if raw == "" {
		return "", fmt.Errorf("%w: no %s header", ErrMissingSignature, authorization)
	}
	got, cred, ok := strings.Cut(raw, " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(got, scheme) || cred == "" {
		return "", fmt.Errorf("%w: %s is not %s credentials", ErrMalformedSignature, authorization, scheme)
	}
	return cred, nil
}

// Comparing SHA-256 digests keeps the comparison constant-time whatever the
// lengths, so a token's length does not leak either.
func digestAll(keys [][]byte) [][sha256.Size]byte {
	out := make([][sha256.Size]byte, len(keys))
	for i, k := range keys {
		out[i] = sha256.Sum256(k)
	}
	return out
}

func matchAny(digests [][sha256.Size]byte, got string) int {
	d := sha256.Sum256([]byte(got))
	ok := 0
	for i := range digests {
		ok |= subtle.ConstantTimeCompare(d[:], digests[i][:])
	}
	return ok
}

// validToken reports whether k can appear after "Bearer " at all: a header
// value is trimmed and split on the first space.
func validToken(k []byte) bool {
	for _, b := range k {
		if b <= ' ' || b == 0x7f {
			return false
		}
	}
	return true
}

package talkjstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// authorized accepts the two Bearer tokens TalkJS documents: the secret key
// itself (legacy) and an app-scoped JWT signed with it (HS256, "tokenType":
// "app", "iss" the app id, and "exp" in the future; see the package
// documentation for what is assumed). Anything else gets 401.
func (e *Emulator) authorized(header string) bool {
	e.mu.Lock()
	key, now := e.secretKey, e.now()
	e.mu.Unlock()
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || key == "" || token == "" {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(key)) == 1 {
		return true
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return false
	}
	var head struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		TokenType string   `json:"tokenType"`
		Issuer    string   `json:"iss"`
		Expires   *float64 `json:"exp"`
	}
	if !decodeSegment(parts[0], &head) || !decodeSegment(parts[1], &claims) {
		return false
	}
	if head.Alg != "HS256" || claims.TokenType != "app" || claims.Issuer != e.appID {
		return false
	}
	// exp is required (assumed: TalkJS's docs create every app token with a
	// short expiry and say nothing of tokens without one; refusing them keeps
	// a leaked token from being valid forever).
	return claims.Expires != nil && float64(now.Unix()) < *claims.Expires
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && json.Unmarshal(b, v) == nil
}

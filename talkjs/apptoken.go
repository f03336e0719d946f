package talkjs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
)

// DefaultAppTokenLifetime is how long an app token made by WithAppTokens is
// valid: the 30 seconds of TalkJS's own example.
const DefaultAppTokenLifetime = 30 * time.Second

// WithAppTokens makes the client authenticate with app-scoped JWTs, which
// TalkJS recommends over sending the secret key itself
// (https://talkjs.com/docs/Reference/REST_API/Getting_Started/Introduction/):
// each attempt carries a new token {"tokenType":"app","iss":appId,"iat","exp"}
// signed with the secret key (HS256) and valid for lifetime (0 means
// DefaultAppTokenLifetime). A new token per attempt follows TalkJS's advice
// of single-use tokens and costs one HMAC; the key never leaves the process.
// Without this option the client sends the secret key as the Bearer token
// (TalkJS's legacy mode). Key rotation works the same in both modes: a 401
// makes the client fetch the key again and repeat once.
func WithAppTokens(lifetime time.Duration) Option {
	return func(c *Client) {
		if lifetime <= 0 {
			lifetime = DefaultAppTokenLifetime
		}
		c.tokenLifetime = lifetime
	}
}

// appTokenHeader is the JOSE header of every app token.
var appTokenHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// appToken signs an app-scoped token for appID with key, issued at now.
func appToken(appID, key string, now time.Time, lifetime time.Duration) string {
	iss, _ := json.Marshal(appID) // a string always encodes
	iat := now.Unix()
	// exp is rounded up, so a lifetime under a second still gives a token
	// that is valid now.
	exp := now.Add(lifetime + time.Second - 1).Unix()
	claims := make([]byte, 0, 96+len(iss))
	claims = append(claims, `{"tokenType":"app","iss":`...)
	claims = append(claims, iss...)
	claims = append(claims, `,"iat":`...)
	claims = strconv.AppendInt(claims, iat, 10)
	claims = append(claims, `,"exp":`...)
	claims = strconv.AppendInt(claims, exp, 10)
	claims = append(claims, '}')
	signing := appTokenHeader + "." + base64.RawURLEncoding.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

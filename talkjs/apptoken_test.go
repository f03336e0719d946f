package talkjs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAppToken(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		appID    string
		lifetime time.Duration
		wantExp  int64
	}{
		{name: "30 seconds", appID: "tApp1", lifetime: 30 * time.Second, wantExp: now.Unix() + 30},
		{name: "under a second rounds up", appID: "tApp1", lifetime: 10 * time.Millisecond, wantExp: now.Unix() + 1},
		{name: "app id needing JSON escapes", appID: `a"b\c`, lifetime: time.Minute, wantExp: now.Unix() + 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := appToken(tt.appID, testKey, now, tt.lifetime)
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				t.Fatalf("token has %d parts, want 3", len(parts))
			}
			mac := hmac.New(sha256.New, []byte(testKey))
			mac.Write([]byte(parts[0] + "." + parts[1]))
			if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); !hmac.Equal(sig, mac.Sum(nil)) {
				t.Error("signature is not HMAC-SHA256 of header.claims with the key")
			}
			var head map[string]string
			var claims struct {
				TokenType string `json:"tokenType"`
				Iss       string `json:"iss"`
				Iat, Exp  int64
			}
			h, _ := base64.RawURLEncoding.DecodeString(parts[0])
			c, _ := base64.RawURLEncoding.DecodeString(parts[1])
			if json.Unmarshal(h, &head) != nil || json.Unmarshal(c, &claims) != nil {
				t.Fatalf("header %s or claims %s are not JSON", h, c)
			}
			if head["alg"] != "HS256" || claims.TokenType != "app" || claims.Iss != tt.appID || claims.Iat != now.Unix() || claims.Exp != tt.wantExp {
				t.Errorf("header %v, claims %+v; want HS256, app, iss %q, iat %d, exp %d", head, claims, tt.appID, now.Unix(), tt.wantExp)
			}
		})
	}
}

func TestAppTokensAreNewPerAttempt(t *testing.T) {
	srv, rec := statusServer(t, 503, 200)
	c := newTestClient(t, srv, WithAppTokens(0))
	tick := time.Unix(1_800_000_000, 0)
	c.now = func() time.Time { tick = tick.Add(time.Second); return tick }
	if err := c.UpsertUser(t.Context(), "u1", UserUpdate{}); err != nil {
		t.Fatal(err)
	}
	reqs := rec.all()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	a, b := reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization")
	if a == b || strings.Contains(a, testKey) || strings.Contains(b, testKey) {
		t.Error("app-token mode sent the key, or the same token twice")
	}
}

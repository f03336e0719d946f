package talkjs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// leaks returns the first piece of secret, at least RedactFragmentLen bytes
// long, that text holds ("" if none).
func leaks(text, secret string) string {
	for i := 0; i+RedactFragmentLen <= len(secret); i++ {
		if p := secret[i : i+RedactFragmentLen]; strings.Contains(text, p) {
			return p
		}
	}
	return ""
}

func TestScrub(t *testing.T) {
	const secret = "xk_demo_AbCdEfGhIjKlMnOpQrStUvWx" // not a real key shape, so no failure message can look like one
	tests := []struct {
		name    string
		text    string
		secrets []string
		want    string
	}{
		{name: "nothing to do", text: "plain error", secrets: []string{secret}, want: "plain error"},
		{name: "whole secret", text: "Bearer " + secret + " refused", secrets: []string{secret}, want: "Bearer [redacted] refused"},
		{name: "head of the secret", text: "key " + secret[:14] + "…", secrets: []string{secret}, want: "key [redacted]…"},
		{name: "tail of the secret", text: secret[20:] + " end", secrets: []string{secret}, want: "[redacted] end"},
		{name: "middle piece of 8 bytes", text: "x" + secret[10:18] + "y", secrets: []string{secret}, want: "x[redacted]y"},
		{name: "7 bytes stay", text: "x" + secret[10:17] + "y", secrets: []string{secret}, want: "x" + secret[10:17] + "y"},
		{name: "two secrets", text: "a " + secret + " b tok-1234567890abcdef c", secrets: []string{secret, "tok-1234567890abcdef"}, want: "a [redacted] b [redacted] c"},
		{name: "short secret only whole", text: "abcdefghij abcdefgh", secrets: []string{"abcdefghij"}, want: "[redacted] abcdefgh"},
		{name: "empty secret ignored", text: "text", secrets: []string{""}, want: "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scrub(tt.text, tt.secrets...); got != tt.want {
				t.Errorf("scrub = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestEchoedAuthorizationAcrossTheCut makes the server echo the request's
// Authorization header in an error answer, placed so that the cut to the
// maximum error-body length falls at every byte of the token, and checks
// that no piece of the key (or of the app token made from it) survives in
// the error.
func TestEchoedAuthorizationAcrossTheCut(t *testing.T) {
	const maxBody = 64
	for _, mode := range []struct {
		name string
		opts []Option
	}{{"secret key", nil}, {"app tokens", []Option{WithAppTokens(0)}}} {
		t.Run(mode.name, func(t *testing.T) {
			var token string
			for pad := 0; pad < maxBody+200; pad++ {
				srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
					token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
					answer(w, 400, fmt.Sprintf(`{"error":"%s Authorization: %s"}`, strings.Repeat("x", pad), r.Header.Get("Authorization")))
				})
				c := newTestClient(t, srv, append([]Option{WithMaxErrorBody(maxBody)}, mode.opts...)...)
				err := c.UpsertUser(t.Context(), "u1", UserUpdate{})
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("pad %d: err = %v, want an APIError", pad, err)
				}
				if len(apiErr.Body) > maxBody+len("…") {
					t.Errorf("pad %d: body of %d bytes, over the maximum %d", pad, len(apiErr.Body), maxBody)
				}
				for _, secret := range []string{testKey, token} {
					if p := leaks(err.Error(), secret); p != "" {
						// Say where, never what: the piece is part of a secret.
						t.Fatalf("pad %d: the error holds a %d-byte piece of the credential", pad, len(p))
					}
				}
			}
			if mode.opts != nil && (token == testKey || strings.Count(token, ".") != 2) {
				t.Errorf("app-token mode sent %d bytes that are not a JWT", len(token))
			}
		})
	}
}

package mapping

import (
	"net/http"
	"strings"
	"testing"
)

func TestHandshakeDeclaration(t *testing.T) {
	route := func(verify, handshake string) string {
		s := "routes:\n  r:\n    verify: " + verify + "\n"
		if handshake != "" {
			s += "    handshake: " + handshake + "\n"
		}
		return s + "    event: {header: X-GitHub-Event}\n    actions:\n      - conversation: {id: c}\n        message: {text: '{{ .event }}'}\n"
	}
	ping := Request{Route: "r", Headers: http.Header{"X-Github-Event": {"ping"}}, Body: []byte(`{"zen":"z"}`)}
	cases := []struct {
		name, verify, handshake string
		wantErr                 string
		wantKind                string
	}{
		{"implied by the github preset", "github", "", "", HandshakeGitHub},
		{"turned off", "github", "none", "", ""},
		{"explicit on another preset", "bearer", "github", "", HandshakeGitHub},
		{"no preset implies one", "bearer", "", "", ""},
		{"unknown", "github", "hello", "unknown handshake", ""},
		{"zoom needs a secret", "none", "zoom", "needs the route's secret", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(route(tc.verify, tc.handshake)), "t.yaml")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.HandshakeKind(ping); got != tc.wantKind {
				t.Errorf("HandshakeKind = %q, want %q", got, tc.wantKind)
			}
			// Without a handshake a ping is an ordinary event.
			res, err := c.Trusted(t.Context(), ping)
			if tc.wantKind == "" && (err != nil || len(res.Sends) != 1) {
				t.Errorf("ping without handshake: %v %+v", err, res)
			}
		})
	}
}

func TestHandshakeRefusesOddChallenges(t *testing.T) {
	c := mustParse(t, "routes:\n  s:\n    verify: none\n    handshake: slack\n    actions:\n      - conversation: {id: c}\n        message: {text: x}\n")
	for name, body := range map[string]string{
		"empty":        `{"type":"url_verification","challenge":""}`,
		"control":      `{"type":"url_verification","challenge":"a\u0000b"}`,
		"too long":     `{"type":"url_verification","challenge":"` + strings.Repeat("a", maxChallenge+1) + `"}`,
		"not a string": `{"type":"url_verification","challenge":5}`,
	} {
		t.Run(name, func(t *testing.T) {
			h, err := c.Handshake(t.Context(), Request{Route: "s", Headers: http.Header{}, Body: []byte(body)}, nil)
			if h != nil || err == nil {
				t.Errorf("answered %+v, %v; want an invalid-payload error", h, err)
			}
		})
	}
}

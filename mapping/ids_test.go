package mapping

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"plain", "github-codertocat-hello-world", true},
		{"unicode", "ticket-日本", true},
		{"dots inside", "a.b..c", true},
		{"255 bytes", strings.Repeat("a", 255), true},
		{"empty", "", false},
		{"dot", ".", false},
		{"dot dot", "..", false},
		{"slash", "a/b", false},
		{"NUL", "a\x00b", false},
		{"newline", "a\nb", false},
		{"256 bytes", strings.Repeat("a", 256), false},
		{"not UTF-8", "a\xffb", false},
		{"bidi override", "a\u202Eb", false},
		{"zero-width space", "ad\u200Bmin", false},
		{"zero-width joiner", "ad\u200Dmin", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateID(tt.id)
			if tt.ok != (err == nil) {
				t.Fatalf("ValidateID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidID) {
				t.Errorf("error %v does not match ErrInvalidID", err)
			}
		})
	}
}

// TestRenderedIDsRefused is issue 14.7 on the webhook side: ids "." and
// ".." rendered from a payload were accepted and became path segments
// (/conversations/../messages). They are refused like "a/b", with 400.
func TestRenderedIDsRefused(t *testing.T) {
	c := mustParse(t, `
routes:
  r:
    verify: none
    actions:
      - conversation: {id: '{{ .payload.conv }}'}
        users:
          '{{ .payload.user }}': {name: '{{ .payload.name }}'}
        message: {type: UserMessage, sender: '{{ .payload.user }}', text: hi}
`)
	for _, tt := range []struct{ name, conv, user string }{
		{"conversation .", ".", "u"},
		{"conversation ..", "..", "u"},
		{"user ..", "c", ".."},
		{"conversation a/b", "a/b", "u"},
		{"user with zero-width space", "c", "ad\u200Bmin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"conv":"` + tt.conv + `","user":"` + tt.user + `","name":"n"}`
			_, err := runTrusted(t, c, "r", body, http.Header{})
			if !errors.Is(err, ErrInvalidPayload) {
				t.Errorf("err = %v, want ErrInvalidPayload", err)
			}
		})
	}
	// A user name from the payload is shown next to every message: no
	// invisible or bidi characters.
	res, err := runTrusted(t, c, "r", `{"conv":"c","user":"u","name":"ad\u200Bmin\u202E"}`, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	if got := *res.Sends[0].Users["u"].Name; got != "admin" {
		t.Errorf("user name %q, want %q", got, "admin")
	}
}

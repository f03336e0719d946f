package mapping

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

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

// TestSlugIDInjective is issue 14.8: acme/web-app and acme-web/app both
// slug to acme-web-app, so two repositories shared a conversation. The
// default routes use slugid, which keeps them apart and stays a valid id.
func TestSlugIDInjective(t *testing.T) {
	pairs := [][2]string{
		{"acme/web-app", "acme-web/app"},
		{"Codertocat/Hello-World", "codertocat/hello-world"},
		{"a b", "a-b"},
		{"日本", "中文"},
	}
	for _, p := range pairs {
		if fnSlug(p[0]) == fnSlug(p[1]) && fnSlugID(p[0]) == fnSlugID(p[1]) {
			t.Errorf("slugid(%q) = slugid(%q) = %q", p[0], p[1], fnSlugID(p[0]))
		}
		for _, v := range p {
			if err := talkjs.ValidateID(talkjs.KindConversation, "github-"+fnSlugID(v)); err != nil {
				t.Errorf("slugid(%q) = %q is not a valid id: %v", v, fnSlugID(v), err)
			}
		}
	}
	if got := fnSlugID(strings.Repeat("x/", 300)); len(got) > 220 {
		t.Errorf("slugid of a long value is %d bytes", len(got))
	}
	// Through the default routes: two repositories, two conversations.
	c := mustDefault(t)
	convs := map[string]bool{}
	for _, repo := range []string{"acme/web-app", "acme-web/app"} {
		body := []byte(`{"action":"opened","issue":{"number":1,"title":"t","html_url":"u"},"sender":{"login":"s"},"repository":{"full_name":"` + repo + `"}}`)
		res, err := runTrusted(t, c, "github", string(body), http.Header{"X-Github-Event": {"issues"}})
		if err != nil {
			t.Fatal(err)
		}
		convs[res.Sends[0].ConversationID] = true
	}
	if len(convs) != 2 {
		t.Errorf("two repositories map to conversations %v, want two", convs)
	}
}

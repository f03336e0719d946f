package mapping

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: no routes file makes Parse panic, and every failure is a
// *LoadError with at least one problem.
func FuzzParse(f *testing.F) {
	f.Add(DefaultRoutesFile())
	f.Add([]byte(unsignedRoute))
	f.Add([]byte(reminderRoutes))
	f.Add([]byte("routes: {r: {verify: none, actions: [{conversation: {id: x}, message: {text: '{{ .payload.a }}'}}]}}"))
	f.Add([]byte("a: &a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) == 0 {
				t.Fatalf("error %v is not a LoadError with problems", err)
			}
			return
		}
		_ = c.Routes()
		for _, r := range c.Reminders() {
			_ = r.Explicit()
		}
	})
}

// FuzzRender maps random payloads through every default route (unsigned,
// as the queue does). Nothing panics; what is sent is valid UTF-8 within
// the text limit, with a short key, and payload markup never survives.
func FuzzRender(f *testing.F) {
	f.Add("github", "issues", []byte(`{"action":"opened","issue":{"number":1,"title":"<actionbutton:x|y>","html_url":"u"},"repository":{"full_name":"o/r"},"sender":{"login":"*x*"}}`))
	f.Add("alertmanager", "", []byte(`{"status":"firing","receiver":"r","alerts":[{"labels":{"alertname":"<a|b>"}}]}`))
	f.Add("stripe", "", []byte(`{"id":"evt_1","type":"charge.refunded","data":{"object":{"id":"ch","amount":1,"amount_refunded":1,"currency":"usd"}}}`))
	f.Add("generic", "", []byte(`{"text":"<https://evil|x>"}`))
	f.Add("shopify", "orders/create", []byte(`{"name":"#1","total_price":"1","currency":"EUR","id":1}`))
	f.Add("generic", "", []byte("\xff"))
	c := mustDefault(f)
	f.Fuzz(func(t *testing.T, route, event string, body []byte) {
		h := http.Header{"X-Github-Event": {event}, "X-Shopify-Topic": {event}}
		res, err := c.Trusted(t.Context(), Request{Route: route, Headers: h, Body: body, Now: testNow})
		if err != nil {
			for _, known := range []error{ErrRouteNotFound, ErrInvalidPayload, ErrEventNotHandled} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("unexpected error kind: %v", err)
		}
		for _, s := range res.Sends {
			if s.ConversationID == "" || !utf8.ValidString(s.ConversationID) {
				t.Fatalf("bad conversation id %q", s.ConversationID)
			}
			for _, m := range s.Messages {
				if !utf8.ValidString(m.Text) || utf8.RuneCountInString(m.Text) > c.Limits().MaxTextLength || strings.TrimSpace(m.Text) == "" {
					t.Fatalf("bad text %q", m.Text)
				}
				if m.IdempotencyKey == "" || len(m.IdempotencyKey) > maxKey {
					t.Fatalf("bad key %q", m.IdempotencyKey)
				}
				if strings.Contains(m.Text, "<actionbutton:") || strings.Contains(m.Text, "<https://evil") {
					t.Fatalf("payload markup survived: %q", m.Text)
				}
			}
		}
	})
}

// FuzzEscape: escaped text holds no link or code markup characters and is
// valid UTF-8 whenever the input is.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"<a|b>", "*b* _i_ ~s~ `c`", "a_b", "\r\n\u202E", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := escapeMarkup(s)
		if strings.ContainsAny(out, "<>`\r") {
			t.Fatalf("escapeMarkup(%q) = %q", s, out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
	})
}

package mapping

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

const unsignedRoute = `
routes:
  r:
    verify: none
    event: {field: kind}
    actions:
      - on: [note]
        conversation: {id: 'c-{{ .payload.room }}'}
        message: {text: '{{ .payload.text }}'}
`

func runTrusted(t *testing.T, c *Routes, route string, body string, h http.Header) (Result, error) {
	t.Helper()
	if h == nil {
		h = http.Header{}
	}
	return c.Trusted(t.Context(), Request{Route: route, Headers: h, Body: []byte(body), Now: testNow})
}

func TestDefaultLoads(t *testing.T) {
	c := mustDefault(t)
	want := []string{"alertmanager", "bitbucket", "circleci", "cloudwatch-alarm", "generic", "github", "gitlab", "grafana", "paddle",
		"pagerduty", "postmark", "sentry", "shopify", "slack", "stripe", "talkjs", "twilio", "uptime-kuma"}
	if got := c.Routes(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Routes() = %v, want %v", got, want)
	}
	for _, name := range c.Routes() {
		vc, _ := c.VerifyConfig(name)
		if vc.Preset == verify.PresetNone {
			t.Errorf("default route %s accepts unsigned requests", name)
		}
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // substrings of the error, each must appear
	}{
		{"not yaml", "routes: [", []string{"not valid YAML"}},
		{"empty", "", []string{"file is empty"}},
		{"unknown top key", "rutes: {}\n", []string{"line 1: rutes: unknown key"}},
		{"missing verify", `
routes:
  r:
    actions:
      - conversation: {id: x}
        message: {text: hi}
`, []string{"line 4: routes.r.verify: missing", "verify: none"}},
		{"bad preset", `
routes:
  r:
    verify: {preset: gitlub}
    actions:
      - conversation: {id: x}
        message: {text: hi}
`, []string{"routes.r.verify.preset", "unknown preset"}},
		{"bad template and filter, both reported", `
routes:
  r:
    verify: none
    event: {header: X-Kind}
    actions:
      - when: 'payload.a ==='
        conversation: {id: x}
        message: {text: '{{ .payload.a '}
      - on: [a]
        conversation: {id: x}
        message: {type: Bogus, text: hi}
`, []string{"3 problems", "line 7: routes.r.actions[0].when: filter:", "line 9: routes.r.actions[0].message.text: template: unclosed action (template line 1)", "line 12: routes.r.actions[1].message.type"}},
		{"filter not boolean", `
routes:
  r:
    verify: none
    actions:
      - when: '1 + 1'
        conversation: {id: x}
        message: {text: hi}
`, []string{"routes.r.actions[0].when: filter"}},
		{"filter unknown variable", `
routes:
  r:
    verify: none
    actions:
      - when: 'paylod.x == 1'
        conversation: {id: x}
        message: {text: hi}
`, []string{"unknown name paylod"}},
		{"unknown template function", `
routes:
  r:
    verify: none
    actions:
      - conversation: {id: x}
        message: {text: '{{ env "HOME" }}'}
`, []string{`function "env" not defined`}},
		{"on without event", `
routes:
  r:
    verify: none
    actions:
      - on: [push]
        conversation: {id: x}
        message: {text: hi}
`, []string{"the route has no event"}},
		{"user message without sender", `
routes:
  r:
    verify: none
    actions:
      - conversation: {id: x}
        message: {type: UserMessage, text: hi}
`, []string{"message.sender: missing"}},
		{"missing conversation and message", `
routes:
  r:
    verify: none
    actions:
      - name: a
`, []string{"conversation: missing", "message: missing"}},
		{"bad limits", "limits: {maxTextLength: 0}\nroutes: {}\n", []string{"limits.maxTextLength"}},
		{"bad route name", `
routes:
  "a/b":
    verify: none
    actions: []
`, []string{"route names are"}},
		{"reminder needs targets", `
reminders:
  standup:
    text: hi
`, []string{"reminders.standup.conversations: missing"}},
		{"reminder select type-checked", `
reminders:
  standup:
    select: 'conversation.custom.team =='
    text: hi
`, []string{"reminders.standup.select: filter"}},
		{"duplicate key", `
routes:
  r:
    verify: none
    verify: none
    actions:
      - conversation: {id: x}
        message: {text: hi}
`, []string{"defined twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), "test.yaml")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Parse error = %v, want a *LoadError", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadErrorFields(t *testing.T) {
	_, err := Parse([]byte(`
routes:
  gh:
    verify: none
    actions:
      - conversation: {id: x}
        message:
          text: '{{ .payload.a '
`), "f.yaml")
	var le *LoadError
	if !errors.As(err, &le) || len(le.Problems) != 1 {
		t.Fatalf("err = %v", err)
	}
	p := le.Problems[0]
	if p.Route != "gh" || p.Field != "routes.gh.actions[0].message.text" || p.Line != 8 || le.File != "f.yaml" {
		t.Errorf("problem = %+v", p)
	}
}

func TestWebhookErrors(t *testing.T) {
	c := mustDefault(t)
	body := []byte(`{"action":"opened","issue":{"number":1,"title":"t","html_url":"u"},"repository":{"full_name":"o/r"},"sender":{"login":"x"}}`)
	good := func() http.Header {
		h := http.Header{"X-Github-Event": {"issues"}}
		sign(t, "github", testSecrets["github"], h, body, testNow)
		return h
	}
	tests := []struct {
		name    string
		route   string
		headers http.Header
		body    []byte
		secrets map[string]string
		want    []error
	}{
		{"no route", "no-such-route", good(), body, testSecrets, []error{ErrRouteNotFound}},
		{"no signature", "github", http.Header{"X-Github-Event": {"issues"}}, body, testSecrets, []error{ErrUnverified, verify.ErrUnverified, verify.ErrMissingSignature}},
		{"tampered body", "github", good(), append([]byte(" "), body...), testSecrets, []error{ErrUnverified, verify.ErrUnverified, verify.ErrSignatureMismatch}},
		{"wrong secret", "github", good(), body, map[string]string{"github": "other"}, []error{ErrUnverified, verify.ErrSignatureMismatch}},
		{"secret missing", "github", good(), body, map[string]string{}, []error{ErrSecretUnavailable}},
		{"secret empty", "github", good(), body, map[string]string{"github": ""}, []error{ErrSecretUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Webhook(t.Context(), Request{Route: tt.route, Headers: tt.headers, Body: tt.body, Now: testNow}, lookup(tt.secrets))
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want errors.Is %v", err, w)
				}
			}
			if err != nil && strings.Contains(err.Error(), testSecrets["github"]) {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		res, err := c.Webhook(t.Context(), Request{Route: "github", Headers: good(), Body: body, Now: testNow}, lookup(testSecrets))
		if err != nil || len(res.Sends) != 1 {
			t.Fatalf("res = %+v, err = %v", res, err)
		}
	})
	t.Run("verified before parsed", func(t *testing.T) {
		// Garbage that is not JSON must be refused as unverified, not invalid.
		_, err := c.Webhook(t.Context(), Request{Route: "github", Headers: http.Header{}, Body: []byte("not json"), Now: testNow}, lookup(testSecrets))
		if !errors.Is(err, ErrUnverified) || errors.Is(err, ErrInvalidPayload) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("stale stripe timestamp", func(t *testing.T) {
		b := []byte(`{"id":"evt_1","type":"charge.refunded"}`)
		h := http.Header{}
		sign(t, "stripe", testSecrets["stripe"], h, b, testNow.Add(-10*60e9))
		_, err := c.Webhook(t.Context(), Request{Route: "stripe", Headers: h, Body: b, Now: testNow}, lookup(testSecrets))
		if !errors.Is(err, ErrUnverified) || !errors.Is(err, verify.ErrTimestampTooOld) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestInvalidPayloads(t *testing.T) {
	c := mustParse(t, unsignedRoute)
	tests := []struct {
		name, body string
		want       error
	}{
		{"not json", `{"kind":`, ErrInvalidPayload},
		{"trailing data", `{"kind":"note"} {}`, ErrInvalidPayload},
		{"empty", ``, ErrInvalidPayload},
		{"not utf-8", "{\"kind\":\"note\",\"room\":\"\xff\",\"text\":\"x\"}", ErrInvalidPayload},
		{"missing template field", `{"kind":"note","room":"a"}`, ErrInvalidPayload},
		{"missing event field", `{"room":"a","text":"x"}`, ErrInvalidPayload},
		{"event not handled", `{"kind":"other","room":"a","text":"x"}`, ErrEventNotHandled},
		{"id renders empty", `{"kind":"note","room":"","text":"x"}`, nil},
		{"ok", `{"kind":"note","room":"a","text":"x"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runTrusted(t, c, "r", tt.body, nil)
			if tt.want == nil {
				if tt.name == "ok" && err != nil {
					t.Errorf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSkippedReasons(t *testing.T) {
	c := mustParse(t, `
routes:
  r:
    verify: none
    event: {field: kind}
    actions:
      - name: big
        on: [order]
        when: payload.total > 100
        conversation: {id: big}
        message: {text: 'big {{ .payload.total }}'}
      - name: refunds
        on: [refund]
        conversation: {id: r}
        message: {text: 'x'}
      - name: maybe
        on: [order]
        conversation: {id: m}
        message: {text: '{{ with get .payload "note" }}{{ . }}{{ end }}'}
`)
	res, err := runTrusted(t, c, "r", `{"kind":"order","total":50}`, nil)
	if !errors.Is(err, ErrEventNotHandled) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`action 0 (big): when "payload.total > 100" is false`,
		`action 1 (refunds): event "order" is not in on [refund]`,
		`action 2 (maybe): message 0 text rendered empty`,
	}
	if strings.Join(res.Skipped, "\n") != strings.Join(want, "\n") {
		t.Errorf("Skipped = %q, want %q", res.Skipped, want)
	}
	res, err = runTrusted(t, c, "r", `{"kind":"order","total":150,"note":"n"}`, nil)
	if err != nil || len(res.Sends) != 2 || res.Sends[0].Messages[0].Text != "big 150" || res.Sends[1].Action != 2 {
		t.Errorf("res = %+v, err = %v", res, err)
	}
}

func TestMatchEvent(t *testing.T) {
	tests := []struct {
		on    []string
		event string
		want  bool
	}{
		{[]string{"issues"}, "issues.opened", true},
		{[]string{"issues.opened"}, "issues.opened", true},
		{[]string{"issues.opened"}, "issues.closed", false},
		{[]string{"issue"}, "issues.opened", false},
		{[]string{"issues.*"}, "issues.opened", true},
		{[]string{"*"}, "anything", true},
		{[]string{"push"}, "push", true},
		{nil, "push", false},
	}
	for _, tt := range tests {
		if got := matchEvent(tt.on, tt.event); got != tt.want {
			t.Errorf("matchEvent(%v, %q) = %v", tt.on, tt.event, got)
		}
	}
}

func TestIdempotencyKeys(t *testing.T) {
	c := mustParse(t, `
routes:
  r:
    verify: {preset: standard-webhooks, secrets: [generic]}
    actions:
      - conversation: {id: a}
        messages:
          - {text: one}
          - {text: two}
      - conversation: {id: b}
        message: {text: three}
      - conversation: {id: c}
        idempotencyKey: 'order-{{ .payload.id }}'
        message: {text: four}
`)
	body := `{"id":820982911946154508}`
	keys := func(h http.Header, body string) []string {
		res, err := runTrusted(t, c, "r", body, h)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range res.Sends {
			for _, m := range s.Messages {
				out = append(out, m.IdempotencyKey)
			}
		}
		return out
	}
	withID := keys(http.Header{"Webhook-Id": {"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}, "Webhook-Signature": {"v1,x"}}, body)
	want := []string{"r:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W:0:0", "r:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W:0:1", "r:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W:1", "order-820982911946154508"}
	if strings.Join(withID, " ") != strings.Join(want, " ") {
		t.Errorf("keys = %q, want %q", withID, want)
	}
	// Without a delivery id, the body's hash: same body, same keys;
	// another body, other keys.
	a, b, other := keys(nil, body), keys(nil, body), keys(nil, `{"id":1}`)
	if strings.Join(a, " ") != strings.Join(b, " ") || a[0] == other[0] || !strings.HasPrefix(a[0], "r:sha256-") {
		t.Errorf("hash keys: %q %q %q", a, b, other)
	}
	// A hostile delivery id is hashed, so keys stay short and plain.
	long := keys(http.Header{"Webhook-Id": {strings.Repeat("x/", 500)}, "Webhook-Signature": {"v1,x"}}, body)
	for _, k := range long {
		if len(k) > maxKey || strings.Contains(k, "/") {
			t.Errorf("key %q", k)
		}
	}
}

func TestLargeIntegersExact(t *testing.T) {
	c := mustParse(t, `
routes:
  r:
    verify: none
    actions:
      - when: payload.id > 100 && payload.price == 1.5
        conversation: {id: 'o-{{ .payload.id }}'}
        message: {text: '{{ .payload.id }} {{ .payload.price }} {{ .payload.big }}'}
`)
	res, err := runTrusted(t, c, "r", `{"id":820982911946154508,"price":1.5,"big":1e300}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sends[0]
	if s.ConversationID != "o-820982911946154508" || !strings.HasPrefix(s.Messages[0].Text, "820982911946154508 1.5 1000000") {
		t.Errorf("send = %+v", s)
	}
}

func TestFormGitHubPayload(t *testing.T) {
	c := mustParse(t, unsignedRoute)
	form := "payload=" + `%7B%22kind%22%3A%22note%22%2C%22room%22%3A%22a%22%2C%22text%22%3A%22hi%22%7D`
	res, err := runTrusted(t, c, "r", form, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if err != nil || res.Sends[0].Messages[0].Text != "hi" {
		t.Errorf("res = %+v, err = %v", res, err)
	}
}

func TestResultJSON(t *testing.T) {
	c := mustParse(t, unsignedRoute)
	res, err := runTrusted(t, c, "r", `{"kind":"note","room":"a","text":"hi"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.Sends[0])
	if !strings.Contains(string(b), `"conversationId":"c-a"`) || !strings.Contains(string(b), `"idempotencyKey":"r:sha256-`) {
		t.Errorf("json = %s", b)
	}
}

func TestTextCap(t *testing.T) {
	c := mustParse(t, `
limits: {maxTextLength: 20, maxSubjectLength: 10}
routes:
  r:
    verify: none
    actions:
      - conversation: {id: a, subject: '{{ .payload.s }}'}
        message: {text: '{{ .payload.s }}'}
`)
	res, err := runTrusted(t, c, "r", `{"s":"ééééééééééééééééééééééééééééé"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := res.Sends[0].Messages[0].Text
	if utf8.RuneCountInString(text) != 20 || !strings.HasSuffix(text, "…") {
		t.Errorf("text = %q", text)
	}
	if subj := *res.Sends[0].Conversation.Subject; utf8.RuneCountInString(subj) != 10 || !strings.HasSuffix(subj, "…") {
		t.Errorf("subject = %q", subj)
	}
}

package mapping

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func renderWith(t *testing.T, src string, markup bool, payload string) (string, error) {
	t.Helper()
	tm, err := compileTemplate(src, markup)
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	p, err := decodeJSON([]byte(payload))
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	return tm.render(map[string]any{
		"payload": p, "headers": headerMap{"x-github-event": "issues"},
		"route": "r", "event": "e", "now": testNow,
	})
}

func TestEscapeMarkup(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello world", "hello world"},
		{"link", "<https://evil.example|click me>", "‹https://evil.example|click me›"},
		{"action button", "<actionbutton:delete?id=1|Delete>", "‹actionbutton:delete?id=1|Delete›"},
		{"action link", "<actionlink:x|y>", "‹actionlink:x|y›"},
		{"bold", "*bold*", "∗bold∗"},
		{"italic", "_it_", "ˍitˍ"},
		{"strike", "~no~", "∼no∼"},
		{"code", "```rm -rf```", "ˋˋˋrm -rfˋˋˋ"},
		{"identifiers kept", "high_memory_load pi_3Mt 2*3 a~b", "high_memory_load pi_3Mt 2*3 a~b"},
		{"edges escaped", "_start and end_", "ˍstart and endˍ"},
		{"crlf", "a\r\nb\rc", "a\nb\nc"},
		{"controls dropped", "a\x00b\x1bc\u202Ed\u2066e", "abcde"},
		{"tab and newline kept", "a\tb\nc", "a\tb\nc"},
		// Issue 14.8: characters that print as nothing.
		{"zero-width space", "ad\u200Bmin", "admin"},
		{"word joiner and BOM", "a\u2060d\uFEFFm\u00ADin", "admin"},
		{"zero-width joiner between letters", "ad\u200Dmin", "admin"},
		{"zero-width non-joiner in ASCII", "ad\u200Cmin", "admin"},
		{"Arabic letter mark and LRM", "a\u061Cb\u200Ec", "abc"},
		{"Hangul filler name", "\u3164\u3164", ""},
		{"emoji sequence kept", "\U0001F469\u200D\U0001F4BB", "\U0001F469\u200D\U0001F4BB"},
		{"Persian ZWNJ kept", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645"},
		{"unicode", "日本語 😀 ünïcödé", "日本語 😀 ünïcödé"},
		{"quotes", `"it's" \ {{ .x }}`, `"it's" \ {{ .x }}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escapeMarkup(tt.in); got != tt.want {
				t.Errorf("escapeMarkup(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestHostilePayloads renders attacker-controlled values into a message
// text and checks none of them can produce TalkJS markup, while the
// template's own markup survives.
func TestHostilePayloads(t *testing.T) {
	src := `*New:* {{ .payload.v }} <https://example.com/{{ urlquery .payload.v }}|open> {{ .payload.v | raw }}`
	tests := []struct{ name, v string }{
		{"link", "<https://evil.example|Reset password>"},
		{"button", "<actionbutton:pay?amount=1000|Pay now>"},
		{"close link early", "x> <actionlink:steal|here"},
		{"formatting", "*bold* _it_ ~s~ `c` ```block```"},
		{"newlines", "line1\nline2\r\n<actionbutton:a|b>"},
		{"quotes", `"'` + "`" + `\"`},
		{"template syntax", "{{ .headers }}"},
		{"bidi", "\u202Egnp.exe"},
		{"zero width", "pay\u200Bpal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, _ := json.Marshal(map[string]string{"v": tt.v})
			got, err := renderWith(t, src, true, string(payload))
			if err != nil {
				t.Fatal(err)
			}
			escaped, rest, ok := strings.Cut(got, " <https://example.com/")
			if !ok {
				t.Fatalf("template link lost: %q", got)
			}
			if !strings.HasPrefix(escaped, "*New:* ") {
				t.Errorf("template markup lost: %q", got)
			}
			value := strings.TrimPrefix(escaped, "*New:* ")
			for _, bad := range []string{"<", ">", "*", "`", "~", "\u202E", "\r", "\u200B"} {
				if strings.Contains(value, bad) {
					t.Errorf("escaped value %q still holds %q", value, bad)
				}
			}
			if strings.Contains(value, "{{") != strings.Contains(tt.v, "{{") {
				t.Errorf("payload was evaluated as a template: %q", value)
			}
			// raw is the explicit opt-out: the value goes in as sent.
			if !strings.HasSuffix(rest, "|open> "+tt.v) {
				t.Errorf("raw value changed: %q", rest)
			}
		})
	}
}

func TestHugeValue(t *testing.T) {
	c := mustParse(t, unsignedRoute)
	big := strings.Repeat("<actionbutton:x|y>", (1<<20)/18)
	payload, _ := json.Marshal(map[string]string{"kind": "note", "room": "a", "text": big})
	res, err := runTrusted(t, c, "r", string(payload), nil)
	if err != nil {
		t.Fatal(err)
	}
	text := res.Sends[0].Messages[0].Text
	if n := utf8.RuneCountInString(text); n != DefaultMaxTextLength || !strings.HasSuffix(text, "…") {
		t.Errorf("text has %d runes, ends %q", n, text[len(text)-10:])
	}
	if strings.ContainsAny(text, "<>") {
		t.Error("markup survived")
	}
	// A range over a huge list stops at the render cap instead of growing.
	tm, _ := compileTemplate(`{{ range .payload.l }}{{ . }}{{ end }}`, true)
	list := make([]any, 1000)
	for i := range list {
		list[i] = strings.Repeat("x", 1<<10)
	}
	out, err := tm.render(map[string]any{"payload": map[string]any{"l": list}})
	if err != nil || len(out) != maxRendered {
		t.Errorf("len = %d, err = %v", len(out), err)
	}
}

func TestTemplateFuncs(t *testing.T) {
	payload := `{"s":"Hello World","n":1234,"f":1.25,"z":0,"null":null,"list":["a","b"],"obj":{"a":{"b":[{"c":"deep"}]}},
		"when":"2024-03-01T10:20:30Z","unix":1709288430,"amt":1050,"cur":"eur","jpy":500,"multi":"first\nsecond","id":"Codertocat/Hello-World"}`
	tests := []struct{ src, want string }{
		{`{{ .payload.s }}`, "Hello World"},
		{`{{ .payload.n }} {{ .payload.f }} {{ .payload.null }}`, "1234 1.25 "},
		{`{{ default "x" .payload.null }} {{ default "x" .payload.z }} {{ default "x" .payload.s }}`, "x x Hello World"},
		{`{{ get .payload "missing" | default "fallback" }}`, "fallback"},
		{`{{ get .payload "obj.a.b.0.c" }} {{ get .payload "obj.a.b.5.c" | default "-" }}`, "deep -"},
		{`{{ get .headers "X-GitHub-Event" }}`, "issues"},
		{`{{ truncate 5 .payload.s }}|{{ truncate 50 .payload.s }}`, "Hell…|Hello World"},
		{`{{ join ", " .payload.list }}`, "a, b"},
		{`{{ lower .payload.s }} {{ upper .payload.s }} {{ title "hello big-world" }}`, "hello world HELLO WORLD Hello Big-World"},
		{`{{ date "date" .payload.when }} {{ date "15:04" .payload.unix }} {{ date "rfc3339" .now }}`, "2024-03-01 10:20 2026-01-02T03:04:05Z"},
		{`{{ json .payload.list }}`, `["a","b"]`},
		{`{{ slug .payload.id }}`, "codertocat-hello-world"},
		{`{{ money .payload.amt .payload.cur }} {{ money .payload.jpy "jpy" }}`, "10.50 EUR 500 JPY"},
		{`{{ money 1050 "eur" }} {{ money -5 "usd" }}`, "10.50 EUR -0.05 USD"},
		{`{{ firstLine .payload.multi }} {{ first .payload.list }}`, "first a"},
		{`{{ len .payload.list }} {{ .route }} {{ .event }}`, "2 r e"},
		{`{{ .payload.obj.a }}`, `{"b":[{"c":"deep"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := renderWith(t, tt.src, false, payload)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`{{ .payload.missing }}`, `map has no entry for key "missing"`},
		{`{{ .payload.obj.nope.deeper }}`, `nope`},
		{`{{ date "date" .payload.s }}`, `not an RFC 3339 time`},
		{`{{ join "," .payload.s }}`, `want a list`},
		{`{{ money .payload.s "usd" }}`, `not a whole number of minor units`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := renderWith(t, tt.src, true, `{"s":"x","obj":{}}`)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "<no value>") {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestMissingFieldIsInvalidPayload(t *testing.T) {
	c := mustParse(t, unsignedRoute)
	_, err := runTrusted(t, c, "r", `{"kind":"note","room":"a"}`, nil)
	if !errors.Is(err, ErrInvalidPayload) || !strings.Contains(err.Error(), "message.text") || !strings.Contains(err.Error(), `"text"`) {
		t.Errorf("err = %v", err)
	}
}

func TestDateLayouts(t *testing.T) {
	got, err := fnDate("2006", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || got != "1999" {
		t.Errorf("got %q, %v", got, err)
	}
}

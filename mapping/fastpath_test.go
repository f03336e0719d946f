package mapping

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// withSlowPaths runs fn with the fast paths (templates, body decoding) off.
// slowPathsOnly is package-wide: a test that uses withSlowPaths must not run
// in parallel with another mapping test, or the other could compare the
// slow path with itself and pass.
func withSlowPaths(t testing.TB, fn func()) {
	t.Helper()
	slowPathsOnly.Store(true)
	defer slowPathsOnly.Store(false)
	fn()
}

// routeTemplates lists every template of c: routes, actions, users,
// messages, notify blocks and reminders.
func routeTemplates(c *Routes) []*tmpl {
	var out []*tmpl
	add := func(ts ...*tmpl) {
		for _, t := range ts {
			if t != nil {
				out = append(out, t)
			}
		}
	}
	addKV := func(kvs []kv) {
		for _, e := range kvs {
			add(e.val)
		}
	}
	for _, r := range c.routes {
		add(r.deliveryID)
		if r.notify != nil {
			add(r.notify.botID, r.notify.botName, r.notify.botPhoto)
			for _, rc := range r.notify.recipients {
				add(rc.id)
			}
		}
		for _, a := range r.actions {
			add(a.convID, a.subject, a.photoURL, a.key)
			add(a.participants...)
			add(a.welcome...)
			addKV(a.convCustom)
			for _, u := range a.users {
				add(u.id, u.name, u.photoURL, u.role)
				add(u.email...)
				addKV(u.custom)
			}
			for _, m := range a.messages {
				add(m.sender, m.text, m.refID)
				addKV(m.custom)
			}
		}
	}
	for _, r := range c.reminders {
		add(r.text)
		addKV(r.custom)
	}
	return out
}

// checkFastRender renders src over data both ways: where the fast path
// gives an answer it is text/template's, and where text/template fails the
// fast path gives none. It reports whether the fast path answered.
func checkFastRender(t testing.TB, src string, markup bool, data map[string]any) bool {
	t.Helper()
	tp, err := compileTemplate(src, markup)
	if err != nil || tp.fast == nil {
		return false
	}
	want, werr := tp.execute(data)
	got, ok := tp.fast.render(data)
	if werr != nil {
		if ok {
			t.Fatalf("%q: text/template fails (%v), the fast path gave %q", src, werr, got)
		}
		return false
	}
	if ok && got != want {
		t.Fatalf("%q: fast path gave %q, text/template %q", src, got, want)
	}
	return ok
}

func fastTestData() map[string]any {
	payload, err := decodeJSON([]byte(`{"action":"opened","n":12,"f":1.5,"big":12345678901234567890,"t":true,"nul":null,` +
		`"s":"a_b <x> *y* ~z~ ` + "`c`\\r\\n" + `","list":["a",2,null],"obj":{"k":"v","deep":{"x":"y"}},"empty":"","upper":"MiXeD Case",` +
		`"repo":{"full_name":"acme/web-app"},"when":"2026-01-02T03:04:05Z","amount":1050,"cur":"eur"}`))
	if err != nil {
		panic(err)
	}
	return map[string]any{
		"payload": payload,
		"headers": headerMap{"x-github-event": "issues", "content-type": "application/json"},
		"route":   "r",
		"event":   "issues.opened",
		"now":     testNow,
	}
}

// TestFastRenderMatchesTextTemplate: the fast path renders as text/template
// does, gives up where text/template fails, and is used for the common
// forms.
func TestFastRenderMatchesTextTemplate(t *testing.T) {
	data := fastTestData()
	tests := []struct {
		name string
		src  string
		fast bool // the fast path answers for this data
	}{
		{"field", "{{ .payload.action }}", true},
		{"text around fields", "x {{ .payload.n }} y {{ .payload.f }} z", true},
		{"big number", "{{ .payload.big }}", true},
		{"bool", "{{ .payload.t }}", true},
		{"null", "[{{ .payload.nul }}]", true},
		{"object", "{{ .payload.obj }}", true},
		{"list", "{{ .payload.list }}", true},
		{"markup", "{{ .payload.s }}", true},
		{"raw", "{{ raw .payload.s }}", true},
		{"raw piped", "{{ .payload.s | raw }}", true},
		{"event", "{{ .event }}/{{ .route }}", true},
		{"now", "{{ .now }}", true},
		{"header", "{{ .headers.content }}", false},
		{"headers object", "{{ .headers }}", true},
		{"deep", "{{ .payload.obj.deep.x }}", true},
		{"slugid", "github-{{ slugid .payload.repo.full_name }}", true},
		{"get", `{{ get .payload "obj.deep.x" }}`, true},
		{"get missing", `{{ get .payload "nope.x" }}`, true},
		{"get headers", `{{ get .headers "X-GitHub-Event" }}`, true},
		{"truncate", "{{ truncate 5 .payload.upper }}", true},
		{"pipe", "{{ .payload.upper | lower }}", true},
		{"pipe two", "{{ .payload.upper | lower | title }}", true},
		{"default", `{{ default "none" .payload.empty }}`, true},
		{"default piped", `{{ .payload.nul | default "none" }}`, true},
		{"replace", `{{ replace "_" " " .payload.s }}`, true},
		{"trimPrefix", `{{ trimPrefix "MiX" .payload.upper }}`, true},
		{"join", `{{ join ", " .payload.list }}`, true},
		{"join not a list", `{{ join ", " .payload.n }}`, false},
		{"date", `{{ date "date" .payload.when }}`, true},
		{"date now", `{{ date "datetime" .now }}`, true},
		{"money", `{{ money .payload.amount .payload.cur }}`, true},
		{"json", `{{ json .payload.obj }}`, true},
		{"first", `{{ first .payload.list }}`, true},
		{"firstLine", `{{ firstLine .payload.s }}`, true},
		{"upper trim slug", `{{ upper .payload.action }} {{ trim .payload.s }} {{ slug .payload.upper }}`, true},
		{"comment", `a{{/* c */}}b`, true},
		{"trim markers", "a  {{- .payload.action -}}  b", true},
		{"missing key", "{{ .payload.nope }}", false},
		{"through null", "{{ .payload.nul.x }}", false},
		{"through string", "{{ .payload.action.x }}", false},
		{"through list", "{{ .payload.list.x }}", false},
		{"string param given a number", `{{ get .payload .payload.n }}`, false},
		{"string param given a string field", `{{ get .payload .payload.action }}`, true},
		{"piped null into a string param", `{{ .payload.nul | replace "a" "b" }}`, true},
		{"parenthesized", `x-{{ slugid (get .payload "nope" | default "none") }}`, true},
		{"parenthesized string param", `{{ replace (get .payload "action") "-" .payload.s }}`, true},
		{"parenthesized non-string into a string param", `{{ replace (get .payload "n") "-" .payload.s }}`, false},
		{"parenthesized missing key", `{{ lower (.payload.nope) }}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, markup := range []bool{false, true} {
				if got := checkFastRender(t, tt.src, markup, data); got != tt.fast {
					t.Errorf("markup %v: fast path answered %v, want %v", markup, got, tt.fast)
				}
			}
		})
	}
}

// TestFastRenderUnsupportedForms: forms the fast path does not do are left
// to text/template whole.
func TestFastRenderUnsupportedForms(t *testing.T) {
	for _, src := range []string{
		`{{ if .payload.t }}y{{ end }}`,
		`{{ range .payload.list }}{{ . }}{{ end }}`,
		`{{ with .payload.obj }}{{ .k }}{{ end }}`,
		`{{ $x := .payload.n }}{{ $x }}`,
		`{{ index .payload.list 0 }}`,
		`{{ eq .payload.action "opened" }}`,
		`{{ printf "%v" .payload.n }}`,
		`{{ . }}`,
		`{{ "lit" }}`,
		`{{ default 0 .payload.n }}`,
		`{{ truncate .payload.n .payload.s }}`,
		`{{ define "x" }}a{{ end }}b`,
	} {
		t.Run(src, func(t *testing.T) {
			tp, err := compileTemplate(src, true)
			if err != nil {
				t.Fatal(err)
			}
			if tp.fast != nil {
				t.Errorf("compiled for the fast path")
			}
		})
	}
}

// TestFastRenderEmbeddedRoutes renders every template of the embedded
// routes file over every fixture's data both ways, and checks that the
// common templates (all of the GitHub issue action's) take the fast path.
func TestFastRenderEmbeddedRoutes(t *testing.T) {
	c := mustDefault(t)
	tmpls := routeTemplates(c)
	if len(tmpls) < 50 {
		t.Fatalf("found only %d templates", len(tmpls))
	}
	var datas []map[string]any
	for _, fc := range fixtureCases(t, fixturesDir(t)) {
		payload, err := decodeBody(fc.headers, fc.body)
		if err != nil {
			continue
		}
		datas = append(datas, map[string]any{"headers": toHeaderMap(fc.headers), "payload": payload, "route": fc.route, "event": "x.y", "now": testNow})
	}
	datas = append(datas, fastTestData())
	fastN := 0
	for _, tp := range tmpls {
		if !strings.Contains(tp.src, "{{") {
			continue
		}
		compiled, err := compileTemplate(tp.src, tp.markup)
		if err != nil {
			t.Fatalf("%q: %v", tp.src, err)
		}
		if compiled.fast != nil {
			fastN++
		}
		for _, d := range datas {
			checkFastRender(t, tp.src, tp.markup, d)
		}
	}
	t.Logf("%d of %d templates take the fast path", fastN, len(tmpls))
	issue := c.routes["github"].actions[0]
	for _, tp := range []*tmpl{issue.convID, issue.subject, issue.messages[0].text, issue.messages[0].custom[0].val, issue.convCustom[1].val} {
		c, err := compileTemplate(tp.src, tp.markup)
		if err != nil || c.fast == nil {
			t.Errorf("%q does not take the fast path", tp.src)
		}
	}
}

// TestFastPathsMapLikeSlowPaths maps every fixture with the fast paths on
// and off: the results and errors are the same.
func TestFastPathsMapLikeSlowPaths(t *testing.T) {
	c := mustDefault(t)
	for _, fc := range fixtureCases(t, fixturesDir(t)) {
		t.Run(fc.name, func(t *testing.T) {
			compareFastSlow(t, c, fc.route, fc.headers, fc.body)
		})
	}
}

func compareFastSlow(t testing.TB, c *Routes, route string, h http.Header, body []byte) {
	t.Helper()
	req := Request{Route: route, Headers: h, Body: body, Now: testNow}
	fast, ferr := c.Trusted(t.Context(), req)
	var slow Result
	var serr error
	withSlowPaths(t, func() { slow, serr = c.Trusted(t.Context(), req) })
	if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
		t.Fatalf("errors differ: fast %v, slow %v", ferr, serr)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("results differ:\nfast %s\nslow %s", mustJSON(t.(*testing.T), fast), mustJSON(t.(*testing.T), slow))
	}
}

// FuzzFastRender: for any template and payload the fast path either
// renders what text/template renders or leaves it to text/template, and
// gives nothing where text/template fails.
func FuzzFastRender(f *testing.F) {
	f.Add("{{ .payload.a }}", []byte(`{"a":"x"}`), true)
	f.Add("x {{ slugid .payload.a.b }} {{ get .payload \"a.c\" | upper }}", []byte(`{"a":{"b":"A/b","c":1}}`), false)
	f.Add("{{ truncate 3 .payload.a }}{{ .payload.a | default \"d\" }}", []byte(`{"a":null}`), true)
	f.Add("{{ money .payload.a .payload.c }} {{ date \"date\" .payload.t }}", []byte(`{"a":1.5,"c":"eur","t":"x"}`), false)
	f.Add("{{ join \",\" .payload.l }} {{ json .payload }}", []byte(`{"l":[1,"a",null,{"x":1}]}`), true)
	f.Fuzz(func(t *testing.T, src string, body []byte, markup bool) {
		payload, err := decodeJSON(body)
		if err != nil {
			return
		}
		checkFastRender(t, src, markup, map[string]any{"payload": payload, "headers": headerMap{"x-a": "b"}, "route": "r", "event": "e", "now": testNow})
	})
}

// checkFastJSON decodes body both ways: where the fast decoder answers, it
// gives what encoding/json (with numbers) gives, and it never answers
// where encoding/json fails.
func checkFastJSON(t testing.TB, body []byte) bool {
	t.Helper()
	got, ok := decodeJSONFast(body)
	want, err := decodeJSONGeneral(body)
	if err != nil {
		if ok {
			t.Fatalf("%q: encoding/json fails (%v), the fast decoder gave %#v", body, err, got)
		}
		return false
	}
	if ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: fast decoder gave %#v, encoding/json %#v", body, got, want)
	}
	return ok
}

// TestFastJSONMatchesEncodingJSON: the fast decoder decodes as
// encoding/json does and leaves what it does not do, and every error, to
// encoding/json.
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		fast bool
	}{
		{"object", `{"a":"b","n":1,"f":1.5,"t":true,"x":false,"z":null,"l":[1,[2,{}],[]],"o":{}}`, true},
		{"whitespace", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", true},
		{"scalar", `"s"`, true},
		{"numbers", `[0,-0,12,-12,123456789012345678,1234567890123456789,-9223372036854775808,9223372036854775808,1e3,1E+3,1.25e-2,-0.5,1e400,123456789012345678901234567890]`, true},
		{"escapes", `"a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac"`, true},
		{"utf-8", `{"k":"héllo €, 👩‍💻"}`, true},
		{"duplicate keys", `{"a":1,"a":2}`, true},
		{"surrogate pair", `"\ud83d\ude00"`, false},
		{"lone surrogate", `"\ud800"`, false},
		{"invalid utf-8", "\"\xff\"", false},
		{"control character", "\"a\x01\"", false},
		{"trailing data", `{} {}`, false},
		{"trailing brace", `{}}`, false},
		{"trailing comma", `[1,]`, false},
		{"leading zero", `01`, false},
		{"bare minus", `-`, false},
		{"dot without digits", `1.`, false},
		{"exponent without digits", `1e`, false},
		{"unquoted key", `{a:1}`, false},
		{"unterminated", `{"a":"b`, false},
		{"bad escape", `"\x"`, false},
		{"bad literal", `nul`, false},
		{"deep", strings.Repeat("[", 300) + strings.Repeat("]", 300), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkFastJSON(t, []byte(tt.body)); got != tt.fast {
				t.Errorf("fast decoder answered %v, want %v", got, tt.fast)
			}
		})
	}
}

// TestFastJSONFixtures: every fixture body decodes the same both ways, and
// the fast decoder answers for the GitHub ones.
func TestFastJSONFixtures(t *testing.T) {
	for _, fc := range fixtureCases(t, fixturesDir(t)) {
		ok := checkFastJSON(t, fc.body)
		if fc.route == "github" && !ok {
			t.Errorf("%s: the fast decoder did not answer", fc.name)
		}
	}
}

// FuzzFastJSON: the fast decoder agrees with encoding/json on any input.
func FuzzFastJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e3,"x\u00e9\n",true,null,{}]}`, `"\ud83d\ude00"`, `12345678901234567890`, `[1,]`, " {\"a\" :\t1 } "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastJSON(t, body)
	})
}

// TestNotOnReasonMatchesSprintf: the skip reason is fmt's wording.
func TestNotOnReasonMatchesSprintf(t *testing.T) {
	for _, a := range []*action{
		{index: 0, name: "issue", on: []string{"issues.opened", "issues.closed"}},
		{index: 12, on: []string{"*"}},
		{index: 3, name: "x y", on: nil},
	} {
		for _, event := range []string{"", "push", "issues.opened", "a\"b\\c\n", "é\u2028\xff", "~ !", "\x7f"} {
			want := fmt.Sprintf("%s: event %q is not in on %v", a.label(), event, a.on)
			if got := notOnReason(a, quote(event)); got != want {
				t.Errorf("notOnReason = %q, want %q", got, want)
			}
		}
	}
}

// TestFormPrefilter: every Content-Type that parses to the form type
// passes the substring check that lets JSON bodies skip ParseMediaType.
func TestFormPrefilter(t *testing.T) {
	for _, ct := range []string{
		"application/x-www-form-urlencoded", "Application/X-WWW-Form-Urlencoded; charset=utf-8",
		" application/x-www-form-urlencoded ", "application/x-www-form-urlencoded;", "application/json",
		"", "text/plain; x=application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED",
	} {
		isForm := mediaType(ct) == "application/x-www-form-urlencoded"
		if isForm && !containsFold(ct, "x-www-form-urlencoded") {
			t.Errorf("%q is the form type but fails the prefilter", ct)
		}
	}
}

// TestNeedsEscapeTables: the ASCII tables agree with the rune tests, and
// strings mixing ASCII and other runes are judged as rune by rune.
func TestNeedsEscapeTables(t *testing.T) {
	for c := rune(0); c < 0x80; c++ {
		s := "ab" + string(c) + "cd"
		if got, want := needsEscape(s), needsEscapeRunes(s); got != want {
			t.Errorf("needsEscape(%q) = %v, want %v", s, got, want)
		}
		if got, want := needsClean(s), needsCleanRunes(s); got != want {
			t.Errorf("needsClean(%q) = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"plain", "é plain", "é *bold*", "a\u200bb", "x\u202ey", "ok 👩‍💻", "tab\tnl\n", "cr\r", "a_b"} {
		if got, want := needsEscape(s), needsEscapeRunes(s); got != want {
			t.Errorf("needsEscape(%q) = %v, want %v", s, got, want)
		}
		if got, want := needsClean(s), needsCleanRunes(s); got != want {
			t.Errorf("needsClean(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestFastRenderCapsTrailingText: text after the last action counts towards
// maxRendered on the fast path as on text/template's, so both give the same
// capped string (found in review: the fast path returned 3 bytes more).
func TestFastRenderCapsTrailingText(t *testing.T) {
	for _, markup := range []bool{false, true} {
		t.Run(fmt.Sprintf("markup=%v", markup), func(t *testing.T) {
			tm, err := compileTemplate(`{{ .payload.x }}TAIL`, markup)
			if err != nil {
				t.Fatal(err)
			}
			if tm.fast == nil {
				t.Fatal("the template does not take the fast path; the test would compare the slow path with itself")
			}
			data := map[string]any{"payload": map[string]any{"x": strings.Repeat("x", maxRendered-1)}}
			fast, ferr := tm.render(data)
			var slow string
			var serr error
			withSlowPaths(t, func() { slow, serr = tm.render(data) })
			if fast != slow || (ferr == nil) != (serr == nil) {
				t.Errorf("fast: %d bytes, %v; slow: %d bytes, %v", len(fast), ferr, len(slow), serr)
			}
			if len(fast) > maxRendered {
				t.Errorf("rendered %d bytes, over the cap of %d", len(fast), maxRendered)
			}
		})
	}
}

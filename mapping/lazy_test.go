package mapping

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

func TestValidName(t *testing.T) {
	// The pattern validName replaced; the cases must agree with it.
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"empty", "", false},
		{"one letter", "a", true},
		{"one digit", "7", true},
		{"upper and lower", "GitHub", true},
		{"dash and underscore inside", "pay-rails_2", true},
		{"ends in dash", "a-", true},
		{"starts with dash", "-a", false},
		{"starts with underscore", "_a", false},
		{"dot", "a.b", false},
		{"space", "a b", false},
		{"slash", "a/b", false},
		{"trailing newline", "abc\n", false},
		{"non-ASCII letter", "café", false},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"NUL", "a\x00", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := validName(tc.in); got != tc.want {
				t.Errorf("validName(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if got := re.MatchString(tc.in); got != tc.want {
				t.Errorf("the old pattern says %v for %q, want %v", got, tc.in, tc.want)
			}
		})
	}
}

func FuzzValidName(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	for _, s := range []string{"", "a", "-a", "a-b_c", strings.Repeat("x", 64), strings.Repeat("x", 65), "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validName(s), re.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, the old pattern says %v", s, got, want)
		}
	})
}

// TestDefaultMatchesStrictParse: the lazy Default maps every fixture exactly
// as the strictly parsed file does, also when many goroutines make the first
// use of its templates and filters at once (run with -race).
func TestDefaultMatchesStrictParse(t *testing.T) {
	dir := fixturesDir(t)
	strict, err := Parse(DefaultRoutesFile(), DefaultFilename)
	if err != nil {
		t.Fatal(err)
	}
	lazy := mustDefault(t)
	cases := fixtureCases(t, dir)
	for i := range cases {
		signFor(t, strict, cases[i].route, cases[i].headers, cases[i].body)
	}
	run := func(c *Routes, fc fixtureCase) string {
		res, err := c.Webhook(t.Context(), Request{Route: fc.route, Headers: fc.headers, Body: fc.body, Now: testNow}, lookup(testSecrets))
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		return mustJSON(t, goldenOutcome{Result: res, Error: msg})
	}
	const workers = 4
	got := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		got[w] = make([]string, len(cases))
		wg.Go(func() {
			for i, fc := range cases {
				got[w][i] = run(lazy, fc)
			}
		})
	}
	wg.Wait()
	for i, fc := range cases {
		want := run(strict, fc)
		for w := range workers {
			if got[w][i] != want {
				t.Errorf("%s: goroutine %d: lazy Default gives\n%s\nstrict Parse gives\n%s", fc.name, w, got[w][i], want)
			}
		}
	}

	conv := talkjs.Conversation{ID: "c1", Custom: map[string]string{"source": "github"}}
	for _, sr := range strict.Reminders() {
		lr, ok := lazy.Reminder(sr.Name)
		if !ok {
			t.Fatalf("Default has no reminder %s", sr.Name)
		}
		ls, lerr := lr.Selects(conv)
		ss, serr := sr.Selects(conv)
		if ls != ss || (lerr == nil) != (serr == nil) {
			t.Errorf("reminder %s: lazy Selects = %v, %v; strict = %v, %v", sr.Name, ls, lerr, ss, serr)
		}
	}
}

// A lazy file (only ever the embedded one, which the tests parse strictly)
// that holds a broken filter or template fails the event that first uses
// it, with the field named, rather than panicking or passing it.
func TestLazyErrorsSurfaceOnUse(t *testing.T) {
	src := []byte(`
routes:
  bad-when:
    verify: none
    actions:
      - when: payload.a +
        conversation: {id: x}
        message: {text: hi}
  bad-user:
    verify: none
    actions:
      - conversation: {id: x}
        users:
          '{{ .payload.id ': {name: n}
        message: {text: hi}
reminders:
  bad-select:
    select: conversation.id ==
    text: hi
`)
	if _, err := Parse(src, "test.yaml"); err == nil {
		t.Fatal("Parse accepted broken filters and templates")
	}
	c, err := parseRoutes(src, "test.yaml", true)
	if err != nil {
		t.Fatalf("lazy parse: %v", err)
	}
	cases := []struct {
		name  string
		route string
		want  string
	}{
		{"when filter", "bad-when", "action 0: when"},
		{"user id template", "bad-user", "users"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 { // the second use must fail the same way
				_, err := c.Trusted(t.Context(), Request{Route: tc.route, Headers: http.Header{}, Body: []byte(`{"a":1,"id":"u"}`), Now: testNow})
				if !errors.Is(err, ErrInvalidPayload) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %v, want ErrInvalidPayload naming %s", err, tc.want)
				}
			}
		})
	}
	t.Run("select filter", func(t *testing.T) {
		r, ok := c.Reminder("bad-select")
		if !ok {
			t.Fatal("no reminder bad-select")
		}
		for range 2 {
			if ok, err := r.Selects(talkjs.Conversation{ID: "c"}); ok || err == nil || !strings.Contains(err.Error(), "select") {
				t.Errorf("Selects = %v, %v; want false and a select error", ok, err)
			}
		}
	})
}

// compileTemplate registers only the functions a template names: every
// function must still parse and run, alone or next to others, and any other
// name must still be refused.
func TestTemplateFunctionsByName(t *testing.T) {
	calls := map[string]string{
		"default":    `{{ default "d" .payload.missing }}`,
		"truncate":   `{{ truncate 3 "abcdef" }}`,
		"join":       `{{ join "," .payload.list }}`,
		"lower":      `{{ lower "A" }}`,
		"upper":      `{{ upper "a" }}`,
		"title":      `{{ title "a b" }}`,
		"trim":       `{{ trim " a " }}`,
		"date":       `{{ date "date" .now }}`,
		"get":        `{{ get .payload "a" }}`,
		"raw":        `{{ raw "*a*" }}`,
		"json":       `{{ json .payload.list }}`,
		"slug":       `{{ slug "A B" }}`,
		"slugid":     `{{ slugid "A B" }}`,
		"money":      `{{ money .payload.amt "eur" }}`,
		"first":      `{{ first .payload.list }}`,
		"firstLine":  `{{ firstLine "a\nb" }}`,
		"_esc":       `{{ _esc "*a*" }}`,
		"_fmt":       `{{ _fmt 1 }}`,
		"replace":    `{{ replace "_" " " "a_b" }}`,
		"trimPrefix": `{{ trimPrefix "incident." "incident.x" }}`,
		"split":      `{{ index (split ":" "a:b") 1 }}`,
	}
	if len(calls) != len(funcs) {
		t.Fatalf("the test covers %d functions, funcs has %d: add the new ones", len(calls), len(funcs))
	}
	data := map[string]any{"payload": map[string]any{"a": "x", "list": []any{"p", "q"}, "missing": nil, "amt": int64(1050)}, "now": testNow}
	all := ""
	for name, src := range calls {
		t.Run(name, func(t *testing.T) {
			for _, markup := range []bool{false, true} {
				tm, err := compileTemplate(src, markup)
				if err != nil {
					t.Fatalf("markup %v: %v", markup, err)
				}
				if _, err := tm.render(data); err != nil {
					t.Errorf("markup %v: render: %v", markup, err)
				}
			}
		})
		all += src
	}
	t.Run("all together", func(t *testing.T) {
		tm, err := compileTemplate(all, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tm.render(data); err != nil {
			t.Error(err)
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		// "upperx" contains the name upper, which must not make it callable.
		for _, src := range []string{`{{ env "HOME" }}`, `{{ upperx "a" }}`, `{{ printf "%s" (getenv "x") }}`} {
			if _, err := compileTemplate(src, false); err == nil || !strings.Contains(err.Error(), "not defined") {
				t.Errorf("%s: err = %v, want function not defined", src, err)
			}
		}
	})
}

package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// rawText is what the raw function returns: a value the template author
// vouches for, printed without markup escaping.
type rawText string

// headerMap holds request headers under lower-case names, so templates and
// filters can write headers["x-github-event"] and get can look names up in
// any letter case.
type headerMap map[string]string

// maxRendered bounds the bytes one template may produce, so a hostile 1 MiB
// payload value repeated by a range cannot grow without bound. The text
// limit (in runes) is applied afterwards.
const maxRendered = 256 << 10

// tmpl is one compiled text field. A field without "{{" is a constant and
// never executes a template.
type tmpl struct {
	src    string
	t      *template.Template
	markup bool // escape inserted values so they cannot create TalkJS markup
	// fast is t without reflection (fastrender.go), nil when t uses
	// what the fast path does not do.
	fast *fastTmpl

	// lazy templates are parsed on first use (see Default).
	lazy sync.Once
	err  error
}

var errRenderTooLong = errors.New("rendered text too long")

// funcs is the curated function set templates may call; each template
// registers the ones it names (funcsFor). None has access to the
// environment, files or the network.
var funcs = template.FuncMap{
	"default":  fnDefault,
	"truncate": fnTruncate,
	"join":     fnJoin,
	"lower":    func(v any) string { return strings.ToLower(format(v)) },
	"upper":    func(v any) string { return strings.ToUpper(format(v)) },
	"title":    fnTitle,
	"trim":     func(v any) string { return strings.TrimSpace(format(v)) },
	"date":     fnDate,
	"get":      fnGet,
	"raw":      func(v any) rawText { return rawText(format(v)) },
	"json":     fnJSON,
	"slug":     fnSlug,
	"slugid":   fnSlugID,
	"money":    fnMoney,
	"first":    fnFirst,
	// replace OLD NEW V and trimPrefix P V: event names to words
	// ("incident.priority_updated" → "priority updated").
	"replace":    func(old, new string, v any) string { return strings.ReplaceAll(format(v), old, new) },
	"trimPrefix": func(p string, v any) string { return strings.TrimPrefix(format(v), p) },
	// split SEP V: a list, for index (the region of an ARN: index (split ":" .arn) 3).
	"split": func(sep string, v any) []string { return strings.Split(format(v), sep) },
	"firstLine": func(v any) string {
		line, _, _ := strings.Cut(format(v), "\n")
		return strings.TrimRight(line, "\r")
	},
	"_esc": func(v any) string { return escapeMarkup(format(v)) },
	"_fmt": func(v any) string { return format(v) },
}

// funcsFor returns the functions of funcs that src can call, plus final.
// A template can only call a function whose name it spells out, so the
// subset parses and runs exactly as the whole set would; registering all of
// them (reflection checks and two maps per template) was over half of what
// parsing a typical field cost.
func funcsFor(src, final string) template.FuncMap {
	m := template.FuncMap{final: funcs[final]}
	for name, fn := range funcs {
		if strings.Contains(src, name) {
			m[name] = fn
		}
	}
	return m
}

// compileTemplate parses src. When markup is true, every value a pipeline
// prints is escaped unless the pipeline ends in raw; otherwise values are
// only formatted (numbers exactly, null as empty, objects as JSON).
func compileTemplate(src string, markup bool) (*tmpl, error) {
	t := &tmpl{src: src, markup: markup}
	if !strings.Contains(src, "{{") {
		return t, nil
	}
	final := "_fmt"
	if markup {
		final = "_esc"
	}
	tt, err := template.New("t").Option("missingkey=error").Funcs(funcsFor(src, final)).Parse(src)
	if err != nil {
		return nil, cleanTemplateErr(err)
	}
	for _, sub := range tt.Templates() {
		if sub.Tree != nil {
			addFinal(sub.Tree, sub.Tree.Root, final)
		}
	}
	t.t = tt
	t.fast = compileFast(tt)
	return t, nil
}

// addFinal appends the formatting (or escaping) function to every pipeline
// whose value is printed, the way html/template rewrites its parse trees.
func addFinal(tree *parse.Tree, n parse.Node, final string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			addFinal(tree, c, final)
		}
	case *parse.ActionNode:
		p := n.Pipe
		if p == nil || len(p.Decl) > 0 || len(p.Cmds) == 0 {
			return
		}
		last := p.Cmds[len(p.Cmds)-1]
		if len(last.Args) > 0 {
			if id, ok := last.Args[0].(*parse.IdentifierNode); ok && id.Ident == "raw" {
				return
			}
		}
		id := parse.NewIdentifier(final).SetTree(tree).SetPos(n.Pos)
		p.Cmds = append(p.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{id}})
	case *parse.IfNode:
		addFinal(tree, n.List, final)
		addFinal(tree, n.ElseList, final)
	case *parse.RangeNode:
		addFinal(tree, n.List, final)
		addFinal(tree, n.ElseList, final)
	case *parse.WithNode:
		addFinal(tree, n.List, final)
		addFinal(tree, n.ElseList, final)
	}
}

// cleanTemplateErr drops text/template's "template: name:" prefix, which
// repeats what the LoadError already says.
func cleanTemplateErr(err error) error {
	msg := err.Error()
	if m := execErrRE().FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s: %s", m[1], m[2])
	}
	if m := parseErrRE().FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s (template line %s)", m[2], m[1])
	}
	return errors.New(strings.TrimPrefix(msg, "template: "))
}

// The error patterns are compiled on first use: only a failing template
// needs them, and compiling them at package init cost every cold start.
var (
	execErrRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)^template: t:[0-9:]+ executing "t" at (<.*?>): (.*)$`)
	})
	parseErrRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)^template: t:(\d+)(?::\d+)?: (.*)$`)
	})
)

// render executes the template over data. Errors (a missing key, a function
// given the wrong kind of value) mean the payload does not fit the route.
func (t *tmpl) render(data map[string]any) (string, error) {
	if t == nil {
		return "", nil
	}
	t.lazy.Do(func() {
		if t.t == nil && strings.Contains(t.src, "{{") {
			var c *tmpl
			if c, t.err = compileTemplate(t.src, t.markup); t.err == nil {
				t.t, t.fast = c.t, c.fast
			}
		}
	})
	if t.err != nil {
		return "", t.err
	}
	if t.t == nil {
		return t.src, nil
	}
	if t.fast != nil && !slowPathsOnly.Load() {
		if s, ok := t.fast.render(data); ok {
			return s, nil
		}
	}
	return t.execute(data)
}

// execute renders the compiled template with text/template.
func (t *tmpl) execute(data map[string]any) (string, error) {
	var w cappedWriter
	if err := t.t.Execute(&w, data); err != nil && !errors.Is(err, errRenderTooLong) {
		return "", cleanTemplateErr(err)
	}
	if w.full {
		// The cap may have split a rune.
		return strings.ToValidUTF8(w.buf.String(), ""), nil
	}
	return w.buf.String(), nil
}

// cappedWriter keeps the first maxRendered bytes and then fails the
// execution, which render treats as a complete (to-be-truncated) result.
type cappedWriter struct {
	buf  bytes.Buffer
	full bool
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.full {
		return 0, errRenderTooLong
	}
	room := maxRendered - w.buf.Len()
	if len(p) > room {
		w.buf.Write(p[:room])
		w.full = true
		return room, errRenderTooLong
	}
	return w.buf.Write(p)
}

// format prints a payload value the way a person expects: strings as they
// are, integers exactly, floats without exponent, null as nothing, and
// objects and arrays as compact JSON.
func format(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case rawText:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	case map[string]any, []any, headerMap:
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// Lookalikes replace the characters TalkJS reads as markup. A lookalike,
// unlike an invisible separator, cannot be read as markup by any parser.
var markupLookalike = map[rune]rune{
	'<': '‹', // links <url|text>, <actionbutton:...>, <actionlink:...>
	'>': '›',
	'*': '∗', // *bold*
	'_': 'ˍ', // _italic_
	'~': '∼', // ~strike~
	'`': 'ˋ', // ```code```
}

// escapeMarkup neutralises TalkJS markup in a payload value, drops control,
// bidirectional and invisible characters (see dropRune and keepJoiner), and
// normalises line ends. '*', '_'
// and '~' between two letters or digits are kept: TalkJS applies markup
// only at word boundaries, and identifiers like high_memory_load or pi_3Mt
// should read as sent.
func escapeMarkup(s string) string {
	if !needsEscape(s) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range rs {
		switch r {
		case '\r':
			if i+1 < len(rs) && rs[i+1] == '\n' {
				continue
			}
			b.WriteByte('\n')
			continue
		case '\n', '\t':
			b.WriteRune(r)
			continue
		case '*', '_', '~':
			if i > 0 && i+1 < len(rs) && isWordRune(rs[i-1]) && isWordRune(rs[i+1]) {
				b.WriteRune(r)
				continue
			}
		}
		if l, ok := markupLookalike[r]; ok {
			b.WriteRune(l)
			continue
		}
		if dropRune(r) || isJoiner(r) && !joinerKept(rs, i) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			return needsEscapeRunes(s[i:])
		} else if asciiNeedsEscape[c] {
			return true
		}
	}
	return false
}

func needsEscapeRunes(s string) bool {
	for _, r := range s {
		if runeNeedsEscape(r) {
			return true
		}
	}
	return false
}

func runeNeedsEscape(r rune) bool {
	_, ok := markupLookalike[r]
	return ok || r == '\r' || dropRune(r) || isJoiner(r)
}

// asciiNeedsEscape is runeNeedsEscape for ASCII, looked up rather than
// computed: most text is ASCII, and the map and Unicode table lookups were
// most of rendering a message's cost.
var asciiNeedsEscape = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = runeNeedsEscape(rune(c))
	}
	return t
}()

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// The zero-width joiners: they join emoji sequences (👩‍💻) and shape
// Persian and Indic words, so they are kept there, and dropped elsewhere,
// where they only make one name look like another.
const (
	zwnj = '\u200C'
	zwj  = '\u200D'
)

// dropRune reports control characters (except newline and tab), the
// bidirectional controls that can make text display in a misleading order,
// and characters that print as nothing (zero-width spaces, word joiners,
// byte-order marks, soft hyphens, Hangul fillers), which let a payload pass
// off "ad\u200Bmin" as "admin" or send a name that shows blank.
func dropRune(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	// The joiners are talkjs.IsInvisible too; cleanText keeps them where
	// they do a job (keepJoiner), so they are not dropped here.
	return unicode.IsControl(r) || talkjs.IsInvisible(r) && !isJoiner(r)
}

// keepJoiner reports whether the zero-width (non-)joiner between prev and
// next does a job: ZWJ inside an emoji sequence, ZWNJ between two letters
// of a script that uses it (not ASCII, where it only hides).
func keepJoiner(j, prev, next rune) bool {
	if j == zwj {
		return isEmojiPart(prev) && isEmojiPart(next)
	}
	return unicode.IsLetter(prev) && unicode.IsLetter(next) && prev >= utf8.RuneSelf && next >= utf8.RuneSelf
}

func isEmojiPart(r rune) bool {
	return unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || r == 0xFE0F
}

// cleanText drops what dropRune reports and the joiners that do no job
// (see keepJoiner), for payload values printed where no markup applies
// (user names and roles).
func cleanText(s string) string {
	if !needsClean(s) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		if dropRune(r) || isJoiner(r) && !joinerKept(rs, i) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func needsClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			return needsCleanRunes(s[i:])
		} else if asciiNeedsClean[c] {
			return true
		}
	}
	return false
}

func needsCleanRunes(s string) bool {
	for _, r := range s {
		if dropRune(r) || isJoiner(r) {
			return true
		}
	}
	return false
}

// asciiNeedsClean is needsClean's test for ASCII, looked up.
var asciiNeedsClean = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = dropRune(rune(c)) || isJoiner(rune(c))
	}
	return t
}()

func isJoiner(r rune) bool { return r == zwj || r == zwnj }

func joinerKept(rs []rune, i int) bool {
	return i > 0 && i+1 < len(rs) && keepJoiner(rs[i], rs[i-1], rs[i+1])
}

// capRunes cuts s to at most n runes, ending in "…" when it had to cut.
func capRunes(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return s[:i] + "…"
}

func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case rawText:
		return v == ""
	case bool:
		return !v
	case int64:
		return v == 0
	case int:
		return v == 0
	case float64:
		return v == 0
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.String:
		return rv.Len() == 0
	}
	return false
}

// default "fallback" value: value unless it is empty (null, "", 0, false,
// empty list or object).
func fnDefault(def, v any) any {
	if empty(v) {
		return def
	}
	return v
}

// truncate n value: at most n runes, ending in "…" when cut.
func fnTruncate(n int, v any) string { return capRunes(format(v), n) }

// join sep list: the formatted items of a list joined by sep.
func fnJoin(sep string, v any) (string, error) {
	switch l := v.(type) {
	case nil:
		return "", nil
	case []any:
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = format(x)
		}
		return strings.Join(parts, sep), nil
	case []string:
		return strings.Join(l, sep), nil
	}
	return "", fmt.Errorf("join: want a list, got %s", kindName(v))
}

// first list: the first item of a list, or null.
func fnFirst(v any) any {
	if l, ok := v.([]any); ok && len(l) > 0 {
		return l[0]
	}
	return nil
}

func fnTitle(v any) string {
	s := format(v)
	var b strings.Builder
	up := true
	for _, r := range s {
		if up && unicode.IsLetter(r) {
			b.WriteRune(unicode.ToUpper(r))
			up = false
			continue
		}
		b.WriteRune(r)
		up = unicode.IsSpace(r) || r == '-' || r == '_'
	}
	return b.String()
}

var dateLayouts = map[string]string{
	"rfc3339":  time.RFC3339,
	"date":     "2006-01-02",
	"datetime": "2006-01-02 15:04 MST",
	"time":     "15:04 MST",
}

// date layout value: formats a time (a time value, an RFC 3339 string, or
// Unix seconds) in UTC with a Go layout or one of rfc3339, date, datetime,
// time. Empty input gives empty output.
func fnDate(layout string, v any) (string, error) {
	if l, ok := dateLayouts[layout]; ok {
		layout = l
	}
	var t time.Time
	switch v := v.(type) {
	case nil:
		return "", nil
	case time.Time:
		t = v
	case int64:
		t = time.Unix(v, 0)
	case float64:
		t = time.Unix(int64(v), 0)
	case string:
		if v == "" {
			return "", nil
		}
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			if n, nerr := strconv.ParseInt(v, 10, 64); nerr == nil {
				t = time.Unix(n, 0)
			} else {
				return "", fmt.Errorf("date: %q is not an RFC 3339 time or Unix seconds", truncForErr(v))
			}
		}
	default:
		return "", fmt.Errorf("date: want a time, got %s", kindName(v))
	}
	return t.UTC().Format(layout), nil
}

// get value "a.b.0.c": the value at a dotted path (numbers index lists), or
// null when any step is missing. Use it for optional fields: a missing
// field written as .payload.a.b is an error.
func fnGet(v any, path string) any {
	if path == "" {
		return v
	}
	for _, step := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[step]
		case headerMap:
			s, ok := c[strings.ToLower(step)]
			if !ok {
				return nil
			}
			v = s
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// json value: compact JSON.
func fnJSON(v any) (string, error) {
	if r, ok := v.(rawText); ok {
		v = string(r)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("json: %v", err)
	}
	return string(b), nil
}

// slug value: lower case, runs of anything but letters, digits, '-' and
// '_' become one '-'. Meant for conversation and user ids.
func fnSlug(v any) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(format(v)) {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// slugid value: the slug of value, then "-" and 48 bits of the SHA-256 of
// value as given. slug alone is not injective: acme/web-app and
// acme-web/app both slug to acme-web-app, which would put two repositories
// in one conversation. The hash keeps distinct values apart (up to a 48-bit
// collision, about one in 10^14 for a pair) and the slug keeps the id
// readable. The slug part is cut to 200 bytes so the id stays within 255.
func fnSlugID(v any) string {
	s := format(v)
	sum := sha256.Sum256([]byte(s))
	slug := fnSlug(s)
	if len(slug) > 200 {
		slug = strings.TrimSuffix(slug[:200], "-")
	}
	if slug == "" {
		return hex.EncodeToString(sum[:6])
	}
	return slug + "-" + hex.EncodeToString(sum[:6])
}

// Currencies without minor units (Stripe's list of zero-decimal currencies).
var zeroDecimal = map[string]bool{
	"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true, "krw": true, "mga": true,
	"pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true,
}

// money amount currency: an amount in minor units (as Stripe sends it) as
// "12.50 EUR".
func fnMoney(amount, currency any) (string, error) {
	var n int64
	switch a := amount.(type) {
	case int64:
		n = a
	case int:
		// A literal written in the template ({{ money 1050 "eur" }}).
		n = int64(a)
	case float64:
		// Amounts are whole minor units; a float here is a number too big
		// for int64 (or not whole), which converting would garble.
		if a != math.Trunc(a) || a >= math.MaxInt64 || a <= math.MinInt64 {
			return "", fmt.Errorf("money: amount %v is not a whole number of minor units within range", a)
		}
		n = int64(a)
	case string:
		// Paddle sends amounts as strings of minor units ("3240").
		v, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
		if err != nil {
			return "", fmt.Errorf("money: amount %q is not a whole number of minor units", truncForErr(a))
		}
		n = v
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("money: want a number, got %s", kindName(amount))
	}
	if n == math.MinInt64 {
		return "", fmt.Errorf("money: amount %d is out of range", n)
	}
	cur := strings.ToLower(format(currency))
	if zeroDecimal[cur] {
		return fmt.Sprintf("%d %s", n, strings.ToUpper(cur)), nil
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return strings.TrimSpace(fmt.Sprintf("%s%d.%02d %s", sign, n/100, n%100, strings.ToUpper(cur))), nil
}

func kindName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string, rawText:
		return "a string"
	case int64, float64, int, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any, headerMap:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}

func truncForErr(s string) string { return capRunes(s, 40) }

package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// binEncoder writes what binDecoder reads (the layout is in routesbin.go).
// It lives in the tests because only `make routes-bin` runs it: the
// functions never encode.
type binEncoder struct {
	buf []byte
	// table lists the distinct templates in the order first written;
	// index finds one by source and markup.
	table []*tmpl
	index map[tmplKey]int
}

type tmplKey struct {
	src    string
	markup bool
}

func (e *binEncoder) uint(v int)    { e.buf = binary.AppendUvarint(e.buf, uint64(v)) }
func (e *binEncoder) int64(v int64) { e.buf = binary.AppendVarint(e.buf, v) }
func (e *binEncoder) str(s string)  { e.uint(len(s)); e.buf = append(e.buf, s...) }
func (e *binEncoder) count(n int)   { e.uint(n + 1) }
func (e *binEncoder) nilList()      { e.uint(0) }
func (e *binEncoder) kind(k byte)   { e.buf = append(e.buf, k) }
func (e *binEncoder) bool(b bool) {
	if b {
		e.kind(1)
	} else {
		e.kind(0)
	}
}
func (e *binEncoder) strs(s []string) {
	if s == nil {
		e.nilList()
		return
	}
	e.count(len(s))
	for _, v := range s {
		e.str(v)
	}
}

func (e *binEncoder) tmpl(t *tmpl) {
	if t == nil {
		e.uint(0)
		return
	}
	k := tmplKey{t.src, t.markup}
	i, ok := e.index[k]
	if !ok {
		if e.index == nil {
			e.index = map[tmplKey]int{}
		}
		i = len(e.table)
		e.index[k] = i
		e.table = append(e.table, t)
	}
	e.uint(i + 1)
}

func (e *binEncoder) tmplList(ts []*tmpl) {
	if ts == nil {
		e.nilList()
		return
	}
	e.count(len(ts))
	for _, t := range ts {
		e.tmpl(t)
	}
}

func (e *binEncoder) filter(f *filter) {
	if f == nil {
		e.kind(0)
		return
	}
	e.kind(map[filterEnv]byte{webhookFilter: 1, reminderFilter: 2}[f.env])
	e.str(f.src)
}

func (e *binEncoder) kvs(kvs []kv) {
	if kvs == nil {
		e.nilList()
		return
	}
	e.count(len(kvs))
	for _, p := range kvs {
		e.str(p.key)
		e.tmpl(p.val)
	}
}

func (e *binEncoder) route(r *route) {
	e.str(r.name)
	vc := r.verify
	e.str(vc.Preset)
	e.strs(vc.Secrets)
	for _, s := range []string{vc.Header, vc.Prefix, vc.Algorithm, vc.Encoding, vc.Signed, vc.TimestampHeader} {
		e.str(s)
	}
	e.int64(int64(vc.Tolerance))
	e.str(vc.Username)
	e.str(r.eventHeader)
	e.strs(r.eventHeaderAlt)
	e.str(r.eventField)
	e.tmpl(r.deliveryID)
	e.str(r.handshake)
	e.bool(r.notify != nil)
	if nt := r.notify; nt != nil {
		e.tmpl(nt.botID)
		e.tmpl(nt.botName)
		e.tmpl(nt.botPhoto)
		if nt.recipients == nil {
			e.nilList()
		} else {
			e.count(len(nt.recipients))
		}
		for _, rt := range nt.recipients {
			e.tmpl(rt.id)
			e.str(string(rt.access))
			e.str(string(rt.notify))
		}
	}
	if r.actions == nil {
		e.nilList()
	} else {
		e.count(len(r.actions))
	}
	for _, a := range r.actions {
		e.uint(a.index)
		e.str(a.name)
		e.strs(a.on)
		e.str(a.whenSrc)
		e.filter(a.when)
		e.tmpl(a.convID)
		e.tmpl(a.subject)
		e.tmpl(a.photoURL)
		e.tmplList(a.participants)
		e.kvs(a.convCustom)
		e.tmplList(a.welcome)
		e.bool(a.upsert)
		if a.users == nil {
			e.nilList()
		} else {
			e.count(len(a.users))
		}
		for _, u := range a.users {
			e.tmpl(u.id)
			e.tmpl(u.name)
			e.tmplList(u.email)
			e.tmpl(u.photoURL)
			e.tmpl(u.role)
			e.kvs(u.custom)
		}
		if a.messages == nil {
			e.nilList()
		} else {
			e.count(len(a.messages))
		}
		for _, m := range a.messages {
			e.str(string(m.typ))
			e.bool(m.typeSet)
			e.tmpl(m.sender)
			e.tmpl(m.text)
			e.kvs(m.custom)
			e.tmpl(m.refID)
		}
		e.tmpl(a.key)
	}
}

func (e *binEncoder) reminder(r *Reminder) {
	e.str(r.Name)
	e.str(r.Schedule)
	e.strs(r.ConversationIDs)
	e.str(r.Select)
	e.str(string(r.Type))
	e.str(r.Sender)
	e.filter(r.selectProg)
	e.tmpl(r.text)
	e.kvs(r.custom)
	e.uint(r.maxText)
}

// encodeRoutesBin writes c, as parseRoutes left it lazy, for yamlSrc.
func encodeRoutesBin(c *Routes, yamlSrc []byte) []byte {
	var e binEncoder
	e.uint(c.limits.MaxTextLength)
	e.uint(c.limits.MaxSubjectLength)
	e.count(len(c.order))
	for _, n := range c.order {
		e.route(c.routes[n])
	}
	e.count(len(c.remOrder))
	for _, n := range c.remOrder {
		e.reminder(c.reminders[n])
	}
	sum := sha256.Sum256(yamlSrc)
	head := binEncoder{buf: append([]byte(routesBinMagic), sum[:]...)}
	head.uint(len(e.table))
	for _, t := range e.table {
		if t.markup {
			head.kind(2)
		} else {
			head.kind(1)
		}
		head.str(t.src)
	}
	return append(head.buf, e.buf...)
}

// generateRoutesBin is what `make routes-bin` writes for a routes file: the
// lazy parse, encoded, and only for a file that passes the strict parse
// (templates and filters compiled), whose problems it returns otherwise.
func generateRoutesBin(yamlSrc []byte, filename string) ([]byte, error) {
	if _, err := Parse(yamlSrc, filename); err != nil {
		return nil, err
	}
	c, err := parseRoutes(yamlSrc, filename, true)
	if err != nil {
		return nil, err
	}
	return encodeRoutesBin(c, yamlSrc), nil
}

// TestRoutesBinIsCurrent fails while routes.bin is not what routes.yaml
// generates, so an edit of routes.yaml without `make routes-bin` fails
// `make test`. With -update (what make routes-bin and go generate run) it
// rewrites routes.bin.
func TestRoutesBinIsCurrent(t *testing.T) {
	got, err := generateRoutesBin(DefaultRoutesFile(), DefaultFilename)
	if err != nil {
		t.Fatalf("routes.yaml does not parse strictly, so routes.bin is not generated: %v", err)
	}
	if *update {
		if err := os.WriteFile("routes.bin", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("routes.bin")
	if err != nil {
		t.Fatalf("%v (make routes-bin writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("routes.bin is stale: it is not what routes.yaml generates. Run make routes-bin (or go generate ./mapping) and commit routes.bin")
	}
	if !*update && defaultRoutesBin != string(want) {
		t.Error("the embedded routes.bin differs from the file")
	}
}

// TestRoutesBinMatchesParse: what Default decodes is, field for field, what
// parsing routes.yaml lazily gives, and that file passes the strict parse.
func TestRoutesBinMatchesParse(t *testing.T) {
	if _, err := Parse(DefaultRoutesFile(), DefaultFilename); err != nil {
		t.Fatalf("strict parse: %v", err)
	}
	want, err := parseRoutes(DefaultRoutesFile(), DefaultFilename, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeDefault(defaultRoutesBin, defaultRoutes)
	if err != nil {
		t.Fatalf("Default would fall back to parsing the YAML: %v", err)
	}
	assertSameRoutes(t, got, want)
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	assertSameRoutes(t, def, want)
}

// assertSameRoutes compares two Routes deeply and names the first route,
// action or reminder that differs.
func assertSameRoutes(t *testing.T, got, want *Routes) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	if !slices.Equal(got.order, want.order) || !slices.Equal(got.remOrder, want.remOrder) {
		t.Fatalf("routes %v, reminders %v; want %v, %v", got.order, got.remOrder, want.order, want.remOrder)
	}
	if got.limits != want.limits {
		t.Errorf("limits %+v, want %+v", got.limits, want.limits)
	}
	for _, n := range want.order {
		g, w := got.routes[n], want.routes[n]
		if reflect.DeepEqual(g, w) {
			continue
		}
		if len(g.actions) == len(w.actions) {
			for i := range w.actions {
				if !reflect.DeepEqual(g.actions[i], w.actions[i]) {
					t.Errorf("route %s, action %d:\ngot  %+v\nwant %+v", n, i, *g.actions[i], *w.actions[i])
				}
			}
		}
		gc, wc := *g, *w
		gc.actions, wc.actions = nil, nil
		if !reflect.DeepEqual(gc, wc) {
			t.Errorf("route %s:\ngot  %+v\nwant %+v", n, gc, wc)
		}
	}
	for _, n := range want.remOrder {
		if g, w := got.reminders[n], want.reminders[n]; !reflect.DeepEqual(g, w) {
			t.Errorf("reminder %s:\ngot  %+v\nwant %+v", n, *g, *w)
		}
	}
	if !t.Failed() {
		t.Error("the routes differ (maps or nil against empty lists)")
	}
}

// everyFieldRoutes sets every field a routes file can, so the round trip
// covers what the embedded file leaves out.
const everyFieldRoutes = `
limits: {maxTextLength: 500, maxSubjectLength: 50}
routes:
  zoom:
    verify: {preset: zoom, secrets: [zoom-a, zoom-b], tolerance: 10m}
    handshake: zoom
    event: {header: [X-Event, X-Event-Alt], field: event}
    deliveryId: '{{ .payload.id }}'
    notify:
      bot: {id: bot, name: Bot, photoUrl: 'https://example.com/b.png'}
      recipients: [alice, {id: bob, access: Read, notify: MentionsOnly}, {id: carol, notify: false}]
    actions:
      - name: all
        on: [a.b, c]
        when: payload.x > 1
        conversation:
          id: 'z-{{ .payload.id }}'
          subject: 'S {{ .payload.s }}'
          photoUrl: 'https://example.com/p.png'
          participants: [alice, '{{ .payload.u }}']
          custom: {k: v, t: '{{ .event }}'}
          welcomeMessages: [hi, 'there {{ .route }}']
        users:
          '{{ .payload.u }}': {name: U, email: [a@example.com, '{{ .payload.e }}'], photoUrl: p, role: r, custom: {x: y}}
          alice: {name: Alice}
        messages:
          - {type: UserMessage, sender: alice, text: one, custom: {m: '1'}, referencedMessageId: '{{ .payload.ref }}'}
          - {text: two}
        idempotencyKey: 'k-{{ .payload.id }}'
      - conversation: {id: plain}
        message: {type: SystemMessage, text: plain}
  hmac:
    verify: {preset: hmac, secrets: [h], header: X-Sig, prefix: 'sha1=', algorithm: sha1, encoding: base64, signed: '{timestamp}.{body}', timestampHeader: X-Ts}
    actions:
      - conversation: {id: h}
        message: {text: h}
  basic:
    verify: {preset: basic, username: u}
    actions:
      - conversation: {id: b}
        message: {text: b}
reminders:
  r1:
    schedule: weekly
    conversations: [c1, c2]
    type: UserMessage
    sender: bot
    text: 'x {{ .conversation.id }}'
    custom: {kind: r}
  r2:
    select: conversation.custom.team == "eng"
    text: y
`

// TestRoutesBinRoundTrip: other routes files, using what the embedded one
// may not (recipients, handshakes, users with every field, several
// messages), decode to what parsing gives; a file with problems is not
// generated at all, with the strict parser's problems as the error.
func TestRoutesBinRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		src  string
		// wantErr is in the error of a file that must not be generated.
		wantErr string
	}{
		{name: "embedded", src: string(defaultRoutes)},
		{name: "unsigned route", src: unsignedRoute},
		{name: "notify", src: notifyRoutes},
		{name: "reminders", src: reminderRoutes},
		{name: "every field", src: everyFieldRoutes},
		{name: "bad template", src: "routes:\n  r:\n    verify: none\n    actions:\n      - conversation: {id: x}\n        message: {text: '{{ .x'}\n", wantErr: "template"},
		{name: "bad filter", src: "routes: {r: {verify: none, actions: [{when: 'a +', conversation: {id: x}, message: {text: t}}]}}", wantErr: "filter"},
		{name: "unknown key", src: "routes: {r: {verify: none, bogus: 1, actions: [{conversation: {id: x}, message: {text: t}}]}}", wantErr: "unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(tc.src)
			bin, err := generateRoutesBin(src, "test.yaml")
			if tc.wantErr != "" {
				_, perr := Parse(src, "test.yaml")
				if err == nil || perr == nil || err.Error() != perr.Error() || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("generate: %v; want the strict parse's error %v, naming %q", err, perr, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := parseRoutes(src, "test.yaml", true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeDefault(string(bin), src)
			if err != nil {
				t.Fatal(err)
			}
			assertSameRoutes(t, got, want)
			if again := encodeRoutesBin(got, src); !bytes.Equal(again, bin) {
				t.Error("encoding the decoded routes gives other bytes")
			}
		})
	}
}

// TestRoutesBinFieldsKnown fails when a field is added to what a routes
// file parses into, until the encoding carries it: TestRoutesBinMatchesParse
// would only notice once routes.yaml uses the field.
func TestRoutesBinFieldsKnown(t *testing.T) {
	carried := map[reflect.Type][]string{
		reflect.TypeFor[Routes]():        {"routes", "order", "reminders", "remOrder", "limits"},
		reflect.TypeFor[Limits]():        {"MaxTextLength", "MaxSubjectLength"},
		reflect.TypeFor[route]():         {"name", "verify", "eventHeader", "eventHeaderAlt", "eventField", "deliveryID", "actions", "handshake", "notify"},
		reflect.TypeFor[verify.Config](): {"Preset", "Secrets", "Header", "Prefix", "Algorithm", "Encoding", "Signed", "TimestampHeader", "Tolerance", "Username"},
		reflect.TypeFor[notifyTmpl]():    {"botID", "botName", "botPhoto", "recipients"},
		reflect.TypeFor[recipientTmpl](): {"id", "access", "notify"},
		reflect.TypeFor[action]():        {"index", "name", "on", "whenSrc", "when", "convID", "subject", "photoURL", "participants", "convCustom", "welcome", "upsert", "users", "messages", "key"},
		reflect.TypeFor[kv]():            {"key", "val"},
		reflect.TypeFor[userTmpl]():      {"id", "name", "email", "photoURL", "role", "custom"},
		reflect.TypeFor[msgTmpl]():       {"typ", "typeSet", "sender", "text", "custom", "refID"},
		reflect.TypeFor[Reminder]():      {"Name", "Schedule", "ConversationIDs", "Select", "Type", "Sender", "selectProg", "text", "custom", "maxText"},
		// What is compiled on first use is not carried.
		reflect.TypeFor[tmpl]():   {"src", "markup", "t", "fast", "lazy", "err"},
		reflect.TypeFor[filter](): {"src", "env", "prog", "lazy", "err"},
	}
	for typ, names := range carried {
		var fields []string
		for f := range typ.Fields() {
			fields = append(fields, f.Name)
		}
		slices.Sort(fields)
		names = slices.Sorted(slices.Values(names))
		if !slices.Equal(fields, names) {
			t.Errorf("%s has fields %v; routes.bin carries %v. Carry the new field in binEncoder and binDecoder, raise the version byte of routesBinMagic and run make routes-bin", typ, fields, names)
		}
	}
}

// TestDefaultFallsBack: a routes.bin made from another routes.yaml, or a
// damaged one, is not used: Default parses the YAML instead.
func TestDefaultFallsBack(t *testing.T) {
	edited := bytes.Replace(DefaultRoutesFile(), []byte("maxTextLength: 2000"), []byte("maxTextLength: 1999"), 1)
	if bytes.Equal(edited, defaultRoutes) {
		t.Fatal("the edit did not apply")
	}
	cases := []struct {
		name    string
		bin     string
		yaml    []byte
		wantErr string
	}{
		{"current", defaultRoutesBin, defaultRoutes, ""},
		{"stale", defaultRoutesBin, edited, "stale"},
		{"truncated", defaultRoutesBin[:len(defaultRoutesBin)/2], defaultRoutes, "damaged"},
		{"old format", strings.Replace(defaultRoutesBin, routesBinMagic, "TJBRroutes\x01", 1), defaultRoutes, "format version"},
		{"empty", "", defaultRoutes, "damaged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeDefault(tc.bin, tc.yaml)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "routes.bin") {
				t.Fatalf("err = %v, want one naming routes.bin and %q", err, tc.wantErr)
			}
		})
	}
	// What Default does then: it parses the YAML, so a stale routes.bin
	// never stands for an edited routes.yaml.
	for _, tc := range cases {
		t.Run("Default/"+tc.name, func(t *testing.T) {
			got, err := defaultFrom(tc.bin, tc.yaml)
			if err != nil {
				t.Fatal(err)
			}
			want, err := parseRoutes(tc.yaml, DefaultFilename, true)
			if err != nil {
				t.Fatal(err)
			}
			assertSameRoutes(t, got, want)
		})
	}
}

// TestDecodeRoutesBinErrors: damage gives an error that says where and
// what, never a panic.
func TestDecodeRoutesBinErrors(t *testing.T) {
	good := defaultRoutesBin
	header := len(routesBinMagic) + sha256.Size
	flip := func(at int, b byte) string { return good[:at] + string([]byte{b}) + good[at+1:] }
	cases := []struct {
		name string
		data string
		want []string
	}{
		{"wrong magic", "XXXX" + good[4:], []string{"header", "does not start with"}},
		{"header only", good[:header], []string{"template table", "runs past the end"}},
		{"huge template count", good[:header] + "\x80\x80\x80\x80\x04" + good[header+2:], []string{"template table", "templates cannot fit"}},
		{"cut in a route", good[:len(good)/3], []string{"routes.", "past the end"}},
		{"trailing bytes", good + "x", []string{"end", "1 bytes after the last reminder"}},
		{"no trailing reminder count", good[:len(good)-1], []string{"past the end"}},
		{"varint overflow", good[:header] + strings.Repeat("\xff", 10) + "\x7f", []string{"overflows 64 bits"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := decodeRoutesBin(tc.data)
			if err == nil {
				t.Fatalf("decoded %d routes from damaged data", len(c.order))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to name %q", err, w)
				}
			}
		})
	}
	// Truncations and bytes set to 0xff all through the file: an error or
	// routes, never a panic (the fuzz target tries much more).
	for i := 0; i < len(good); i += len(good)/1500 + 1 {
		if _, _, err := decodeRoutesBin(good[:i]); err == nil {
			t.Fatalf("the first %d bytes decoded", i)
		}
		_, _, _ = decodeRoutesBin(flip(i, 0xff))
	}
}

// FuzzDecodeRoutesBin: no input makes the decoder panic; a failure names
// routes.bin; routes it accepts encode back to the same routes, and map a
// request through every route without panicking.
func FuzzDecodeRoutesBin(f *testing.F) {
	// Small seeds: the fuzzer slows to a few runs a second on inputs the
	// size of the embedded routes.bin, which TestDecodeRoutesBinErrors cuts
	// and damages all through instead.
	for _, src := range []string{unsignedRoute, notifyRoutes, reminderRoutes, everyFieldRoutes} {
		bin, err := generateRoutesBin([]byte(src), "seed.yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bin)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := decodeRoutesBin(string(data))
		if err != nil {
			if !strings.Contains(err.Error(), "routes.bin") {
				t.Fatalf("error %v does not name routes.bin", err)
			}
			return
		}
		again, _, err := decodeRoutesBin(string(encodeRoutesBin(c, nil)))
		if err != nil {
			t.Fatalf("re-encoded routes do not decode: %v", err)
		}
		assertSameRoutes(t, again, c)
		for _, name := range c.Routes() {
			_, _ = c.Trusted(t.Context(), Request{Route: name, Headers: http.Header{"X-Github-Event": {"issues"}}, Body: []byte(`{"action":"opened","id":"x"}`), Now: testNow})
		}
		for _, r := range c.Reminders() {
			_, _ = r.Selects(talkjs.Conversation{ID: "c"})
			_, _ = r.Message(talkjs.Conversation{ID: "c"}, testNow, r.Schedule)
		}
	})
}

// BenchmarkDecodeRoutesBin is Default's work alone (ParseDefault includes
// the SHA-256 of routes.yaml), next to the YAML parse it replaces.
func BenchmarkDecodeRoutesBin(b *testing.B) {
	b.Run("bin", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodeRoutesBin(defaultRoutesBin); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("yaml", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseRoutes(defaultRoutes, DefaultFilename, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}

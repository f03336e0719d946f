package mapping

import (
	"crypto/sha256"
	_ "embed"
	"fmt"
	"slices"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// routes.bin is routes.yaml already parsed: the Routes that
// parseRoutes(routes.yaml, lazy) builds, written out field by field. Decoding
// it costs a small fraction of the YAML parse, which is what every cold
// start of every function paid for the embedded routes (3.5 ms for the 18
// routes). routes.yaml stays the source of truth: `make routes-bin` (or
// `go generate ./mapping`) rewrites routes.bin from it, only when it parses
// strictly, and TestRoutesBinIsCurrent fails while routes.bin is stale. A
// binary built from a stale or damaged routes.bin still means the same:
// the header holds routes.yaml's SHA-256, and Default parses the YAML
// whenever that or anything else in routes.bin does not check out.
//
//go:generate go test -run TestRoutesBinIsCurrent -update .
//go:embed routes.bin
var defaultRoutesBin string

// routesBinMagic starts routes.bin; its last byte is the format version,
// raised whenever the layout below changes.
const routesBinMagic = "TJBRroutes\x02"

// routesBinName names routes.bin in errors.
const routesBinName = "routes.bin (the pre-decoded embedded routes)"

// The layout, in the order written (see encodeRoutesBin in the tests):
//
//	header  magic, routes.yaml's SHA-256 (32 bytes)
//	templates count, then each: 1 (plain) or 2 (markup) and its source
//	limits  maxTextLength, maxSubjectLength
//	routes  count, then each route in name order
//	reminders count, then each reminder in name order
//
// Numbers are unsigned varints (signed for the tolerance), strings a length
// and the bytes, booleans one byte. A list is its length plus one, 0 being
// a nil list, so decoding gives back exactly the slices parsing made. A
// template is 0 (none) or 1 + its index in the template table, which holds
// each distinct template once: the fields that write the same template
// (YAML anchors, a sender repeated in every action) share one, so it is
// allocated once and compiled once, at its first use. A filter is 0
// (none), 1 (webhook when) or 2 (reminder select) and its source. Both stay
// uncompiled until first use, as parseRoutes leaves them for Default.

// decodeDefault decodes bin when it was made from exactly yamlSrc.
func decodeDefault(bin string, yamlSrc []byte) (*Routes, error) {
	c, sum, err := decodeRoutesBin(bin)
	if err != nil {
		return nil, err
	}
	if sum != sha256.Sum256(yamlSrc) {
		return nil, fmt.Errorf("mapping: %s is stale: it was made from another routes.yaml (run make routes-bin)", routesBinName)
	}
	return c, nil
}

// binDecoder reads routes.bin. The first problem sticks: every later read
// returns zero values, so the code reads straight on and checks err at
// the end (and in loops, so damaged counts cannot run long).
type binDecoder struct {
	data string
	off  int
	err  error
	// where and what name the item being read, for the error.
	where string
	what  string
	// tmpls is the template table, one allocation.
	tmpls []tmpl
}

func (d *binDecoder) fail(format string, args ...any) {
	if d.err != nil {
		return
	}
	at := d.what
	if d.where != "" {
		at = d.where + ": " + d.what
	}
	d.err = fmt.Errorf("mapping: %s is damaged at byte %d (%s): %s", routesBinName, d.off, at, fmt.Sprintf(format, args...))
	d.off = len(d.data)
}

// varint reads an unsigned varint (as encoding/binary writes it) from the
// string itself: converting to []byte for binary.Uvarint would copy.
func (d *binDecoder) varint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if d.off >= len(d.data) {
			d.fail("a number runs past the end")
			return 0
		}
		b := d.data[d.off]
		d.off++
		if shift == 63 && b > 1 {
			d.fail("a number overflows 64 bits")
			return 0
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
}

// uint reads a count, length or limit: at most 1<<31.
func (d *binDecoder) uint() int {
	v := d.varint()
	if v > 1<<31 {
		d.fail("%d is out of range", v)
		return 0
	}
	return int(v)
}

// limit reads a text or subject length limit, in the range parseLimits
// allows.
func (d *binDecoder) limit() int {
	v := d.uint()
	if d.err == nil && (v < 10 || v > 65536) {
		d.fail("limit %d is not between 10 and 65536", v)
	}
	return v
}

// int64 reads a zig-zag signed varint (binary.PutVarint's encoding).
func (d *binDecoder) int64() int64 {
	u := d.varint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *binDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.data) {
		d.fail("ends early")
		return 0
	}
	b := d.data[d.off]
	d.off++
	return b
}

func (d *binDecoder) bool() bool {
	switch b := d.byte(); b {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("want a boolean (0 or 1), got %d", b)
		return false
	}
}

// str returns the next string, sharing the embedded data's memory.
func (d *binDecoder) str() string {
	n := d.uint()
	if d.err != nil {
		return ""
	}
	if n > len(d.data)-d.off {
		d.fail("a string of %d bytes runs past the end (%d left)", n, len(d.data)-d.off)
		return ""
	}
	s := d.data[d.off : d.off+n]
	d.off += n
	return s
}

// count reads a list length, returning -1 for a nil list. Every element
// takes at least one byte, so a count beyond what is left is damage, found
// before anything is allocated for it.
func (d *binDecoder) count() int {
	n := d.uint() - 1
	if n > len(d.data)-d.off {
		d.fail("a list of %d items is longer than what is left (%d bytes)", n, len(d.data)-d.off)
		return -1
	}
	return n
}

func (d *binDecoder) strs() []string {
	n := d.count()
	if n < 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// tmpl reads a reference into the template table.
func (d *binDecoder) tmpl() *tmpl {
	i := d.uint()
	if i == 0 || d.err != nil {
		return nil
	}
	if i > len(d.tmpls) {
		d.fail("template %d of a table of %d", i-1, len(d.tmpls))
		return nil
	}
	return &d.tmpls[i-1]
}

// tmplTable reads the template table.
func (d *binDecoder) tmplTable() {
	d.what = "template table"
	n := d.uint()
	// Each template takes at least two bytes.
	if d.err != nil || n > (len(d.data)-d.off)/2 {
		d.fail("%d templates cannot fit in %d bytes", n, len(d.data)-d.off)
		return
	}
	d.tmpls = make([]tmpl, n)
	for i := range d.tmpls {
		t := &d.tmpls[i]
		switch kind := d.byte(); kind {
		case 1:
		case 2:
			t.markup = true
		default:
			d.fail("template %d: want a kind (1 or 2), got %d", i, kind)
			return
		}
		t.src = d.str()
	}
}

func (d *binDecoder) tmplList() []*tmpl {
	n := d.count()
	if n < 0 {
		return nil
	}
	out := make([]*tmpl, n)
	for i := range out {
		out[i] = d.tmpl()
	}
	return out
}

func (d *binDecoder) filter() *filter {
	kind := d.byte()
	if kind == 0 || d.err != nil {
		return nil
	}
	var env filterEnv
	switch kind {
	case 1:
		env = webhookFilter
	case 2:
		env = reminderFilter
	default:
		d.fail("want a filter kind (0, 1 or 2), got %d", kind)
		return nil
	}
	return &filter{src: d.str(), env: env}
}

func (d *binDecoder) kvs() []kv {
	n := d.count()
	if n < 0 {
		return nil
	}
	out := make([]kv, n)
	for i := range out {
		out[i] = kv{key: d.str(), val: d.tmpl()}
	}
	return out
}

// name reads a route or reminder name, which must be valid and sort after
// prev: the names are written sorted, so a repeat is damage too.
func (d *binDecoder) name(prev string) string {
	s := d.str()
	if d.err == nil && (!validName(s) || (prev != "" && s <= prev)) {
		d.fail("%q is not a valid name in order after %q", s, prev)
	}
	return s
}

// decodeRoutesBin decodes routes.bin and returns the SHA-256 of the
// routes.yaml it was made from. It never panics; a damaged or truncated
// input gives an error that says where and what.
func decodeRoutesBin(data string) (*Routes, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	d := &binDecoder{data: data, what: "header"}
	if len(data) < len(routesBinMagic)+len(sum) || data[:len(routesBinMagic)] != routesBinMagic {
		d.fail("does not start with %q (format version %d)", routesBinMagic, routesBinMagic[len(routesBinMagic)-1])
		return nil, sum, d.err
	}
	d.off = len(routesBinMagic)
	copy(sum[:], data[d.off:])
	d.off += len(sum)
	d.tmplTable()

	c := &Routes{}
	d.what = "limits"
	c.limits = Limits{MaxTextLength: d.limit(), MaxSubjectLength: d.limit()}
	d.what = "route count"
	// Parsing makes both maps, and the name lists as it appends (nil
	// when empty).
	n := d.count()
	c.routes = make(map[string]*route, max(n, 0))
	if n > 0 {
		c.order = make([]string, 0, n)
		prev := ""
		for range n {
			d.what, d.where = "route name", ""
			r := d.route(prev)
			if d.err != nil {
				break
			}
			c.routes[r.name] = r
			c.order = append(c.order, r.name)
			prev = r.name
		}
	}
	d.what, d.where = "reminder count", ""
	n = d.count()
	c.reminders = make(map[string]*Reminder, max(n, 0))
	if n > 0 {
		c.remOrder = make([]string, 0, n)
		prev := ""
		for range n {
			d.what, d.where = "reminder name", ""
			r := d.reminder(prev)
			if d.err != nil {
				break
			}
			c.reminders[r.Name] = r
			c.remOrder = append(c.remOrder, r.Name)
			prev = r.Name
		}
	}
	if d.err == nil && d.off != len(data) {
		d.what, d.where = "end", ""
		d.fail("%d bytes after the last reminder", len(data)-d.off)
	}
	if d.err != nil {
		return nil, sum, d.err
	}
	return c, sum, nil
}

func (d *binDecoder) route(prev string) *route {
	r := &route{name: d.name(prev)}
	d.where = "routes." + r.name
	d.what = "verify"
	r.verify = d.verifyConfig()
	d.what = "event"
	r.eventHeader = d.str()
	r.eventHeaderAlt = d.strs()
	r.eventField = d.str()
	d.what = "deliveryId"
	r.deliveryID = d.tmpl()
	d.what = "handshake"
	r.handshake = d.str()
	if d.err == nil && r.handshake != "" && !slices.Contains(Handshakes(), r.handshake) {
		d.fail("unknown handshake %q", r.handshake)
	}
	d.what = "notify"
	if d.bool() {
		r.notify = d.notify()
	}
	d.what = "actions"
	if n := d.count(); n >= 0 {
		r.actions = make([]*action, n)
		acts := make([]action, n)
		for i := range acts {
			r.actions[i] = &acts[i]
			d.action(&acts[i])
			if d.err != nil {
				break
			}
		}
	}
	return r
}

func (d *binDecoder) verifyConfig() verify.Config {
	vc := verify.Config{
		Preset:          d.str(),
		Secrets:         d.strs(),
		Header:          d.str(),
		Prefix:          d.str(),
		Algorithm:       d.str(),
		Encoding:        d.str(),
		Signed:          d.str(),
		TimestampHeader: d.str(),
		Tolerance:       time.Duration(d.int64()),
		Username:        d.str(),
	}
	if d.err == nil {
		if err := vc.Validate(); err != nil {
			d.fail("%v", err)
		}
	}
	return vc
}

func (d *binDecoder) notify() *notifyTmpl {
	nt := &notifyTmpl{botID: d.tmpl(), botName: d.tmpl(), botPhoto: d.tmpl()}
	n := d.count()
	if n < 0 {
		return nt
	}
	nt.recipients = make([]recipientTmpl, n)
	for i := range nt.recipients {
		rt := &nt.recipients[i]
		rt.id = d.tmpl()
		rt.access = talkjs.Access(d.str())
		rt.notify = talkjs.Notify(d.str())
		if d.err != nil {
			break
		}
		switch rt.access {
		case "", talkjs.AccessReadWrite, talkjs.AccessRead:
		default:
			d.fail("recipient %d: unknown access %q", i, rt.access)
		}
		switch rt.notify {
		case "", talkjs.NotifyOn, talkjs.NotifyOff, talkjs.NotifyMentionsOnly:
		default:
			d.fail("recipient %d: unknown notify %q", i, rt.notify)
		}
	}
	return nt
}

func (d *binDecoder) action(a *action) {
	d.what = "action"
	a.index = d.uint()
	a.name = d.str()
	a.on = d.strs()
	a.whenSrc = d.str()
	a.when = d.filter()
	d.what = "action conversation"
	a.convID = d.tmpl()
	a.subject = d.tmpl()
	a.photoURL = d.tmpl()
	a.participants = d.tmplList()
	a.convCustom = d.kvs()
	a.welcome = d.tmplList()
	a.upsert = d.bool()
	d.what = "action users"
	if n := d.count(); n >= 0 {
		a.users = make([]userTmpl, n)
		for i := range a.users {
			u := &a.users[i]
			u.id = d.tmpl()
			u.name = d.tmpl()
			u.email = d.tmplList()
			u.photoURL = d.tmpl()
			u.role = d.tmpl()
			u.custom = d.kvs()
			if d.err != nil {
				return
			}
		}
	}
	d.what = "action messages"
	if n := d.count(); n >= 0 {
		a.messages = make([]msgTmpl, n)
		for i := range a.messages {
			m := &a.messages[i]
			m.typ = d.messageType()
			m.typeSet = d.bool()
			m.sender = d.tmpl()
			m.text = d.tmpl()
			m.custom = d.kvs()
			m.refID = d.tmpl()
			if d.err != nil {
				return
			}
		}
	}
	d.what = "action idempotencyKey"
	a.key = d.tmpl()
}

func (d *binDecoder) messageType() talkjs.MessageType {
	t := talkjs.MessageType(d.str())
	if d.err == nil && t != talkjs.SystemMessage && t != talkjs.UserMessage {
		d.fail("unknown message type %q", t)
	}
	return t
}

func (d *binDecoder) reminder(prev string) *Reminder {
	r := &Reminder{Name: d.name(prev)}
	d.where = "reminders." + r.Name
	d.what = "reminder"
	r.Schedule = d.str()
	r.ConversationIDs = d.strs()
	r.Select = d.str()
	r.Type = d.messageType()
	r.Sender = d.str()
	r.selectProg = d.filter()
	r.text = d.tmpl()
	r.custom = d.kvs()
	r.maxText = d.limit()
	return r
}

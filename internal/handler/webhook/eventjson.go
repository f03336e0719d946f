package webhook

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/talkjs-bridge/talkjs-bridge/internal/jsonstring"
)

// This file decodes an API Gateway or function URL event into gatewayEvent
// without encoding/json's reflection, skipping the fields the webhook does
// not read (most of requestContext). It decodes only what it is sure
// encoding/json decodes the same way: exact field names, each at most once,
// values of the field's type or null, strings without surrogate escapes or
// invalid UTF-8, and valid JSON throughout. Anything else (a field name in
// another letter case, which encoding/json also matches; a duplicate field;
// a number where a string belongs; bad syntax) reports !ok, and ParseEvent
// runs encoding/json, so its results and errors stay encoding/json's.
// Decoding P9's REST API event this way took about a third of the time.

// maxEventDepth bounds the nesting of skipped values the fast decoder
// follows; deeper events go to encoding/json.
const maxEventDepth = 64

// decodeEventFast decodes raw into ev; false means encoding/json must.
func decodeEventFast(raw []byte, ev *gatewayEvent) bool {
	d := eventDecoder{b: raw}
	d.space()
	if !d.object(func(key []byte) bool { return d.topField(key, ev) }) {
		return false
	}
	d.space()
	return d.i == len(d.b)
}

type eventDecoder struct {
	b    []byte
	i    int
	seen uint32 // fields already decoded, by bit
}

var topFields = []string{"version", "rawPath", "path", "httpMethod", "headers", "multiValueHeaders",
	"pathParameters", "rawQueryString", "queryStringParameters", "multiValueQueryStringParameters",
	"body", "isBase64Encoded", "requestContext"}

var contextFields = []string{"http", "domainName", "path", "stage"}

// fieldIndex is the index of key in names; -1 for a key encoding/json
// would not match to any of them; -2 for one it might match without being
// equal (another letter case). lower holds names in lower case.
func fieldIndex(names, lower []string, key []byte) int {
	for i, n := range names {
		if n == string(key) {
			return i
		}
	}
	var buf [32]byte
	if len(key) <= len(buf) {
		ascii := true
		for i, c := range key {
			if c >= utf8.RuneSelf {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if ascii {
			// An ASCII key folds to a name exactly when their lower
			// cases are equal.
			for _, n := range lower {
				if n == string(buf[:len(key)]) {
					return -2
				}
			}
			return -1
		}
	}
	for _, n := range names {
		// Case folding keeps ASCII lengths; the only longer folds (K, ſ)
		// are 2 and 3 bytes for 1, so a key can match a name of at most
		// its length and at least a third of it.
		if len(n) <= len(key) && 3*len(n) >= len(key) && bytes.EqualFold([]byte(n), key) {
			return -2
		}
	}
	return -1
}

func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}

var (
	topFieldsLower     = lowerAll(topFields)
	contextFieldsLower = lowerAll(contextFields)
)

// once marks field bit as seen; false when it was already.
func (d *eventDecoder) once(bit int) bool {
	if d.seen&(1<<bit) != 0 {
		return false
	}
	d.seen |= 1 << bit
	return true
}

func (d *eventDecoder) topField(key []byte, ev *gatewayEvent) bool {
	i := fieldIndex(topFields, topFieldsLower, key)
	switch {
	case i == -1:
		return d.skip(0)
	case i == -2 || !d.once(i):
		return false
	}
	switch topFields[i] {
	case "version":
		return d.stringInto(&ev.Version)
	case "rawPath":
		return d.stringInto(&ev.RawPath)
	case "path":
		return d.stringInto(&ev.Path)
	case "httpMethod":
		return d.stringInto(&ev.HTTPMethod)
	case "headers":
		return d.stringMap(&ev.Headers)
	case "multiValueHeaders":
		return d.listMap(&ev.MultiValueHeaders)
	case "pathParameters":
		return d.stringMap(&ev.PathParameters)
	case "rawQueryString":
		return d.stringInto(&ev.RawQueryString)
	case "queryStringParameters":
		return d.stringMap(&ev.QueryParameters)
	case "multiValueQueryStringParameters":
		return d.listMap(&ev.MultiValueQuery)
	case "body":
		return d.stringInto(&ev.Body)
	case "isBase64Encoded":
		switch {
		case d.lit("true"):
			ev.IsBase64Encoded = true
		case d.lit("false"), d.lit("null"):
		default:
			return false
		}
		return true
	case "requestContext":
		if d.lit("null") {
			return true
		}
		var seen uint32
		rc := &ev.RequestContext
		return d.object(func(key []byte) bool {
			i := fieldIndex(contextFields, contextFieldsLower, key)
			switch {
			case i == -1:
				return d.skip(1)
			case i == -2 || seen&(1<<i) != 0:
				return false
			}
			seen |= 1 << i
			switch contextFields[i] {
			case "http":
				if d.lit("null") {
					return true
				}
				methodSeen := false
				return d.object(func(key []byte) bool {
					switch {
					case string(key) == "method" && !methodSeen:
						methodSeen = true
						return d.stringInto(&rc.HTTP.Method)
					case bytes.EqualFold(key, []byte("method")):
						return false
					}
					return d.skip(2)
				})
			case "domainName":
				return d.stringInto(&rc.DomainName)
			case "path":
				return d.stringInto(&rc.Path)
			case "stage":
				return d.stringInto(&rc.Stage)
			}
			return false
		})
	}
	return false
}

func (d *eventDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// lit consumes s (true, false, null) when it is next.
func (d *eventDecoder) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// object reads an object, calling field for each key with the decoder at
// the key's value, which field must consume.
func (d *eventDecoder) object(field func(key []byte) bool) bool {
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		k, ok := d.strBytes()
		if !ok {
			return false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.space()
		if !field(k) {
			return false
		}
		d.space()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// stringInto reads a string into dst; null leaves dst as it is, as
// encoding/json does.
func (d *eventDecoder) stringInto(dst *string) bool {
	if d.lit("null") {
		return true
	}
	s, ok := d.str()
	if ok {
		*dst = s
	}
	return ok
}

// stringMap reads an object of strings; null is a nil map. A null value
// inside is left to encoding/json.
func (d *eventDecoder) stringMap(dst *map[string]string) bool {
	if d.lit("null") {
		return true
	}
	m := make(map[string]string)
	ok := d.object(func(key []byte) bool {
		v, ok := d.str()
		m[string(key)] = v
		return ok
	})
	*dst = m
	return ok
}

// listMap reads an object of lists of strings; null is a nil map.
func (d *eventDecoder) listMap(dst *map[string][]string) bool {
	if d.lit("null") {
		return true
	}
	m := make(map[string][]string)
	ok := d.object(func(key []byte) bool {
		if d.i >= len(d.b) || d.b[d.i] != '[' {
			return false
		}
		d.i++
		l := []string{}
		d.space()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			m[string(key)] = l
			return true
		}
		for {
			s, ok := d.str()
			if !ok {
				return false
			}
			l = append(l, s)
			d.space()
			if d.i >= len(d.b) {
				return false
			}
			switch d.b[d.i] {
			case ',':
				d.i++
				d.space()
			case ']':
				d.i++
				m[string(key)] = l
				return true
			default:
				return false
			}
		}
	})
	*dst = m
	return ok
}

// str reads a string.
func (d *eventDecoder) str() (string, bool) {
	b, ok := d.strBytes()
	return string(b), ok
}

// strBytes reads a string: a slice of the event when it has no escapes,
// else a new buffer.
func (d *eventDecoder) strBytes() ([]byte, bool) {
	s, next, ok := jsonstring.Read(d.b, d.i)
	d.i = next
	return s, ok
}

// skip consumes one valid JSON value the webhook does not read.
func (d *eventDecoder) skip(depth int) bool {
	if d.i >= len(d.b) || depth > maxEventDepth {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(func([]byte) bool { return d.skip(depth + 1) })
	case c == '[':
		d.i++
		d.space()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			d.space()
			if d.i >= len(d.b) {
				return false
			}
			switch d.b[d.i] {
			case ',':
				d.i++
				d.space()
			case ']':
				d.i++
				return true
			default:
				return false
			}
		}
	case c == '"':
		_, ok := d.strBytes()
		return ok
	case c == 't':
		return d.lit("true")
	case c == 'f':
		return d.lit("false")
	case c == 'n':
		return d.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return false
}

// number consumes a number of JSON's grammar.
func (d *eventDecoder) number() bool {
	if d.b[d.i] == '-' {
		d.i++
	}
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '0':
		d.i++
	case c >= '1' && c <= '9':
		d.digits()
	default:
		return false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			return false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return false
		}
	}
	return true
}

func (d *eventDecoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

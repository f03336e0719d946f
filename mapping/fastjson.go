package mapping

import (
	"strconv"

	"github.com/talkjs-bridge/talkjs-bridge/internal/jsonstring"
)

// This file decodes a webhook body without encoding/json's reflection:
// objects into map[string]any, arrays into []any, strings, booleans, null,
// and numbers as int64 when whole and in range, else float64, else their
// text (what decodeJSON's general path, encoding/json with UseNumber and
// then numbers, gives). It decodes only what it is sure of: on anything
// else (a syntax error, a surrogate escape, invalid UTF-8, nesting deeper
// than maxFastDepth) it reports !ok and decodeJSON runs encoding/json, so
// errors keep encoding/json's wording. Decoding a GitHub delivery this way
// took about two fifths of the time.

// maxFastDepth bounds the fast decoder's recursion, far below
// encoding/json's own limit (10,000), which decides deeper bodies.
const maxFastDepth = 200

// decodeJSONFast decodes one JSON value filling body, surrounded by
// whitespace only.
func decodeJSONFast(body []byte) (any, bool) {
	d := fastDecoder{b: body}
	d.space()
	v, ok := d.value(0)
	if !ok {
		return nil, false
	}
	d.space()
	return v, d.i == len(d.b)
}

type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) value(depth int) (any, bool) {
	if d.i >= len(d.b) || depth > maxFastDepth {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

func (d *fastDecoder) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

func (d *fastDecoder) object(depth int) (any, bool) {
	d.i++ // {
	m := make(map[string]any)
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[k.(string)] = v // the last of duplicate keys wins, as in encoding/json
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

func (d *fastDecoder) array(depth int) (any, bool) {
	d.i++ // [
	l := []any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return l, true
	}
	for {
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		l = append(l, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			return l, true
		default:
			return nil, false
		}
	}
}

// str decodes a string; the value is a string (an any, to save a
// conversion at the callers that store it).
func (d *fastDecoder) str() (any, bool) {
	s, next, ok := jsonstring.Read(d.b, d.i)
	d.i = next
	if !ok {
		return nil, false
	}
	return string(s), true
}

// number decodes a number of JSON's grammar as numbers does a json.Number.
func (d *fastDecoder) number() (any, bool) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '0':
		d.i++
	case c >= '1' && c <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, false
		}
	}
	if n := d.b[start:d.i]; len(n) <= 18 && !d.fraction(n) {
		// Up to 18 digits always fit int64: no string, no ParseInt.
		var i int64
		for _, c := range n {
			if c != '-' {
				i = i*10 + int64(c-'0')
			}
		}
		if n[0] == '-' {
			i = -i
		}
		return i, true
	}
	s := string(d.b[start:d.i])
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, true
	}
	return s, true
}

// digits skips one or more digits; false when there is none.
func (d *fastDecoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// fraction reports whether number text n has a fraction or an exponent.
func (d *fastDecoder) fraction(n []byte) bool {
	for _, c := range n {
		if c == '.' || c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}

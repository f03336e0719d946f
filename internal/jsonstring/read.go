package jsonstring

import "unicode/utf8"

// Read decodes the JSON string that starts at b[i] (its opening quote) and
// returns its value and the index just past its closing quote. The value is
// a slice of b when the string has no escapes, else a new buffer. ok is
// false for anything that is not a string encoding/json would decode to the
// same bytes: a missing quote, a control character, invalid UTF-8 (which
// encoding/json replaces with U+FFFD), an unknown escape and any \u escape of
// a surrogate (pairs and lone ones are left to encoding/json). Callers fall
// back to encoding/json then. It never panics, whatever b and i are.
func Read(b []byte, i int) (s []byte, next int, ok bool) {
	if i < 0 || i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	i++
	start := i
	ascii := true
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			s := b[start:i]
			if !ascii && !utf8.Valid(s) {
				return nil, i, false
			}
			return s, i + 1, true
		case c == '\\':
			return readEscaped(b, start, i)
		case c < 0x20:
			return nil, i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		i++
	}
	return nil, i, false
}

// readEscaped finishes a string that has escapes; b[start:i] holds none.
func readEscaped(b []byte, start, i int) ([]byte, int, bool) {
	buf := make([]byte, 0, i-start+64)
	buf = append(buf, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return nil, i, false
			}
			return buf, i + 1, true
		case c < 0x20:
			return nil, i, false
		case c != '\\':
			// Copy the run up to the next quote or backslash at once.
			j := i + 1
			for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
				j++
			}
			buf = append(buf, b[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(b) {
			return nil, i, false
		}
		e := b[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(b, i)
			if !ok || r >= 0xD800 && r <= 0xDFFF {
				return nil, i, false
			}
			i += 4
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, i, false
		}
	}
	return nil, i, false
}

// hex4 reads the four hex digits of a \u escape at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

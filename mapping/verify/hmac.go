package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"time"
)

// hmacScheme is one header carrying an HMAC of a signed string built from the
// body and, optionally, a timestamp header and other headers. Most presets
// are fixed instances of it (hmacpresets.go); preset hmac builds one from
// the Config.
type hmacScheme struct {
	header string
	// alt are other spellings of header, tried in order when it is absent
	// (Shopify's newer Shopify-Hmac-Sha256, Sentry's legacy header).
	alt     []string
	prefix  string
	newHash func() hash.Hash
	size    int
	base64  bool
	// upper: Sign writes uppercase hex (TalkJS); either case verifies.
	upper    bool
	parts    []part
	tsHeader string
	tsUnit   timeUnit
	// untimed, when set, is what the sender signs when it sends no
	// tsHeader at all (Grafana without a timestamp header configured).
	untimed []part
}

// part is one piece of a signed string: a literal, the timestamp header's
// raw value, another header's value (literal names it), or the body.
type part struct {
	kind    partKind
	literal string
}

type partKind int

const (
	literalPart partKind = iota
	timestampPart
	bodyPart
	headerPart
)

var bodyOnly = []part{{kind: bodyPart}}

func (c Config) genericHMAC() (*hmacScheme, error) {
	s := &hmacScheme{header: strings.TrimSpace(c.Header), prefix: c.Prefix, tsHeader: strings.TrimSpace(c.TimestampHeader), tsUnit: secondsOrMS}
	if err := checkHeaderNames(c); err != nil {
		return nil, err
	}
	if s.header == "" {
		return nil, configErr("header", ErrInvalidConfig, "required for preset hmac")
	}
	switch strings.ToLower(c.Algorithm) {
	case "sha1":
		s.newHash, s.size = sha1.New, sha1.Size
	case "", "sha256":
		s.newHash, s.size = sha256.New, sha256.Size
	case "sha512":
		s.newHash, s.size = sha512.New, sha512.Size
	default:
		return nil, configErr("algorithm", ErrInvalidConfig, "unknown algorithm %q (sha1, sha256 or sha512)", c.Algorithm)
	}
	switch strings.ToLower(c.Encoding) {
	case "", "hex":
	case "base64":
		s.base64 = true
	default:
		return nil, configErr("encoding", ErrInvalidConfig, "unknown encoding %q (hex or base64)", c.Encoding)
	}
	parts, err := parseSigned(c.Signed)
	if err != nil {
		return nil, err
	}
	s.parts = parts
	usesTimestamp := false
	for _, p := range parts {
		usesTimestamp = usesTimestamp || p.kind == timestampPart
	}
	switch {
	case usesTimestamp && s.tsHeader == "":
		return nil, configErr("timestampHeader", ErrInvalidConfig, "required when signed uses {timestamp}")
	case !usesTimestamp && s.tsHeader != "":
		// An unsigned timestamp proves nothing about freshness.
		return nil, configErr("signed", ErrInvalidConfig, "must use {timestamp} when timestampHeader is set")
	}
	if c.Tolerance < 0 {
		return nil, configErr("tolerance", ErrInvalidConfig, "must not be negative")
	}
	if c.Tolerance != 0 && s.tsHeader == "" {
		return nil, configErr("tolerance", ErrInvalidConfig, "needs timestampHeader")
	}
	if c.Username != "" {
		return nil, configErr("username", ErrInvalidConfig, "applies only to preset basic, not hmac")
	}
	return s, nil
}

// parseSigned compiles a signed-string template. It must sign the body
// exactly once; {timestamp} is optional.
func parseSigned(tmpl string) ([]part, error) {
	if tmpl == "" {
		return bodyOnly, nil
	}
	var parts []part
	bodies := 0
	rest := tmpl
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			parts = append(parts, part{literal: rest})
			break
		}
		if i > 0 {
			parts = append(parts, part{literal: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, configErr("signed", ErrInvalidConfig, "unclosed { in %q", tmpl)
		}
		switch name := rest[i+1 : i+j]; name {
		case "body":
			parts = append(parts, part{kind: bodyPart})
			bodies++
		case "timestamp":
			parts = append(parts, part{kind: timestampPart})
		default:
			return nil, configErr("signed", ErrInvalidConfig, "unknown placeholder {%s} (use {timestamp} and {body})", name)
		}
		rest = rest[i+j+1:]
	}
	if bodies != 1 {
		return nil, configErr("signed", ErrInvalidConfig, "must contain {body} exactly once")
	}
	// Merge adjacent literals so signing writes fewer pieces.
	merged := parts[:0]
	for _, p := range parts {
		if n := len(merged); n > 0 && p.kind == literalPart && merged[n-1].kind == literalPart {
			merged[n-1].literal += p.literal
			continue
		}
		merged = append(merged, p)
	}
	return merged, nil
}

// checkHeaderNames checks the header overrides a Config may carry.
func checkHeaderNames(c Config) error {
	if h := strings.TrimSpace(c.Header); h != "" && !validHeaderName(h) {
		return configErr("header", ErrInvalidConfig, "%q is not a valid header name", h)
	}
	if h := strings.TrimSpace(c.TimestampHeader); h != "" && !validHeaderName(h) {
		return configErr("timestampHeader", ErrInvalidConfig, "%q is not a valid header name", h)
	}
	return nil
}

func validHeaderName(name string) bool {
	for _, r := range name {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return name != ""
}

func (s *hmacScheme) check(keys [][]byte) checkFunc {
	return func(v *Verifier, r *Request) error {
		name, raw := s.header, header(r.Header, s.header)
		for _, alt := range s.alt {
			if raw != "" {
				break
			}
			name, raw = alt, header(r.Header, alt)
		}
		if raw == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, s.names())
		}
		parts := s.parts
		var ts string
		var at time.Time
		if s.tsHeader != "" {
			ts = header(r.Header, s.tsHeader)
			switch {
			case ts == "" && s.untimed != nil:
				parts = s.untimed
			case ts == "":
				return fmt.Errorf("%w: no %s header", ErrMissingTimestamp, s.tsHeader)
			default:
				var err error
				if at, err = parseTimestamp(s.tsHeader, ts, s.tsUnit); err != nil {
					return err
				}
			}
		}
		if len(raw) < len(s.prefix) || !strings.EqualFold(raw[:len(s.prefix)], s.prefix) {
			return fmt.Errorf("%w: %s does not start with %q", ErrMalformedSignature, name, s.prefix)
		}
		sig, ok := s.decode(raw[len(s.prefix):])
		if !ok {
			return fmt.Errorf("%w: %s is not a %s", ErrMalformedSignature, name, s.describe())
		}
		msg, err := s.message(parts, r.Header, ts, r.Body)
		if err != nil {
			return err
		}
		if !macMatches(s.newHash, keys, [][]byte{sig}, msg...) {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, name)
		}
		if ts != "" {
			// Checked after the signature, so a stale error means a genuine
			// but late (or replayed) request, or a skewed clock.
			return v.checkTime(s.tsHeader, at)
		}
		return nil
	}
}

// names lists the accepted signature header spellings for messages.
func (s *hmacScheme) names() string {
	if len(s.alt) == 0 {
		return s.header
	}
	return s.header + " (or " + strings.Join(s.alt, ", ") + ")"
}

// message lists the parts the scheme signs, in order. A signed header
// other than the timestamp must be present: signing its absence would let a
// request drop it.
func (s *hmacScheme) message(parts []part, h http.Header, ts string, body []byte) ([][]byte, error) {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		switch p.kind {
		case literalPart:
			out[i] = []byte(p.literal)
		case timestampPart:
			out[i] = []byte(ts)
		case bodyPart:
			out[i] = body
		case headerPart:
			val := header(h, p.literal)
			if val == "" {
				return nil, fmt.Errorf("%w: no %s header", ErrMissingSignature, p.literal)
			}
			out[i] = []byte(val)
		}
	}
	return out, nil
}

func (s *hmacScheme) decode(enc string) ([]byte, bool) {
	var sig []byte
	var err error
	if s.base64 {
		sig, err = base64.StdEncoding.DecodeString(enc)
	} else {
		sig, err = hex.DecodeString(enc)
	}
	return sig, err == nil && len(sig) == s.size
}

func (s *hmacScheme) describe() string {
	enc := "hex"
	if s.base64 {
		enc = "base64"
	}
	return fmt.Sprintf("%d-byte %s HMAC", s.size, enc)
}

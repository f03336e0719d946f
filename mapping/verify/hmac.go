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
// body and, optionally, a timestamp header. github, shopify, slack and talkjs
// are fixed instances of it; preset hmac builds one from the Config.
type hmacScheme struct {
	header   string
	prefix   string
	newHash  func() hash.Hash
	size     int
	base64   bool
	parts    []part
	tsHeader string
	tsUnit   timeUnit
}

// part is one piece of a signed string: a literal, the timestamp header's
// raw value, or the body.
type part struct {
	kind    partKind
	literal string
}

type partKind int

const (
	literalPart partKind = iota
	timestampPart
	bodyPart
)

var bodyOnly = []part{{kind: bodyPart}}

func (c Config) hmacScheme() (*hmacScheme, error) {
	switch c.Preset {
	case PresetGitHub:
		// X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>.
		return &hmacScheme{header: "X-Hub-Signature-256", prefix: "sha256=", newHash: sha256.New, size: sha256.Size, parts: bodyOnly}, nil
	case PresetShopify:
		// X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>.
		return &hmacScheme{header: "X-Shopify-Hmac-Sha256", newHash: sha256.New, size: sha256.Size, base64: true, parts: bodyOnly}, nil
	case PresetSlack:
		// X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">.
		return &hmacScheme{
			header: "X-Slack-Signature", prefix: "v0=", newHash: sha256.New, size: sha256.Size,
			parts:    []part{{literal: "v0:"}, {kind: timestampPart}, {literal: ":"}, {kind: bodyPart}},
			tsHeader: "X-Slack-Request-Timestamp", tsUnit: seconds,
		}, nil
	case PresetTalkJS:
		// X-TalkJS-Signature: <uppercase hex HMAC-SHA256 of "<timestamp>.<body>">.
		// TalkJS's docs do not state the timestamp's unit, so both seconds
		// and milliseconds are read.
		return &hmacScheme{
			header: "X-TalkJS-Signature", newHash: sha256.New, size: sha256.Size,
			parts:    []part{{kind: timestampPart}, {literal: "."}, {kind: bodyPart}},
			tsHeader: "X-TalkJS-Timestamp", tsUnit: secondsOrMS,
		}, nil
	}
	return c.genericHMAC()
}

func (c Config) genericHMAC() (*hmacScheme, error) {
	s := &hmacScheme{header: strings.TrimSpace(c.Header), prefix: c.Prefix, tsHeader: strings.TrimSpace(c.TimestampHeader), tsUnit: secondsOrMS}
	if s.header == "" {
		return nil, configErr("header", ErrInvalidConfig, "required for preset hmac")
	}
	if !validHeaderName(s.header) {
		return nil, configErr("header", ErrInvalidConfig, "%q is not a valid header name", s.header)
	}
	if s.tsHeader != "" && !validHeaderName(s.tsHeader) {
		return nil, configErr("timestampHeader", ErrInvalidConfig, "%q is not a valid header name", s.tsHeader)
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

func validHeaderName(name string) bool {
	for _, r := range name {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return name != ""
}

func (s *hmacScheme) check(keys [][]byte) func(*Verifier, http.Header, []byte) error {
	return func(v *Verifier, h http.Header, body []byte) error {
		raw := header(h, s.header)
		if raw == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, s.header)
		}
		var ts string
		var at time.Time
		if s.tsHeader != "" {
			ts = header(h, s.tsHeader)
			if ts == "" {
				return fmt.Errorf("%w: no %s header", ErrMissingTimestamp, s.tsHeader)
			}
			var err error
			if at, err = parseTimestamp(s.tsHeader, ts, s.tsUnit); err != nil {
				return err
			}
		}
		if len(raw) < len(s.prefix) || !strings.EqualFold(raw[:len(s.prefix)], s.prefix) {
			return fmt.Errorf("%w: %s does not start with %q", ErrMalformedSignature, s.header, s.prefix)
		}
		sig, ok := s.decode(raw[len(s.prefix):])
		if !ok {
			return fmt.Errorf("%w: %s is not a %s", ErrMalformedSignature, s.header, s.describe())
		}
		if !macMatches(s.newHash, keys, [][]byte{sig}, s.message(ts, body)...) {
			return fmt.Errorf("%w: %s matches no secret", ErrSignatureMismatch, s.header)
		}
		if s.tsHeader != "" {
			// Checked after the signature, so a stale error means a genuine
			// but late (or replayed) request, or a skewed clock.
			return v.checkTime(s.tsHeader, at)
		}
		return nil
	}
}

// message lists the parts the scheme signs, in order.
func (s *hmacScheme) message(ts string, body []byte) [][]byte {
	parts := make([][]byte, len(s.parts))
	for i, p := range s.parts {
		switch p.kind {
		case literalPart:
			parts[i] = []byte(p.literal)
		case timestampPart:
			parts[i] = []byte(ts)
		case bodyPart:
			parts[i] = body
		}
	}
	return parts
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

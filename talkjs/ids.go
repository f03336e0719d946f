package talkjs

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxIDBytes is the longest user, conversation or message id the client
// accepts, in bytes. TalkJS does not document a maximum; 255 is the bridge's
// rule (a DynamoDB-, S3- and log-friendly bound no real id comes near).
const MaxIDBytes = 255

// IDKind names what an id identifies, for error messages.
type IDKind string

// The kinds of ids in a TalkJS request path.
const (
	KindUser         IDKind = "user"
	KindConversation IDKind = "conversation"
	KindMessage      IDKind = "message"
)

// ErrInvalidID is wrapped (along with ErrInvalidRequest) by the error
// ValidateID returns.
var ErrInvalidID = errors.New("talkjs: invalid id")

// ValidateID is the one rule for user, conversation and message ids, applied
// by every client method before any request and meant to be called by
// whoever makes ids from input (webhook mappings, queue records, schedule
// inputs), so that an id accepted anywhere is accepted everywhere. It
// refuses:
//
//   - "" and ids longer than MaxIDBytes bytes;
//   - "." and "..", which a URL resolver or proxy may collapse, so that
//     /conversations/../messages would name another resource;
//   - "/", which would split one path segment into two wherever an escaped
//     slash is decoded before routing;
//   - invalid UTF-8, control characters (NUL, newlines, tabs, C1), and the
//     invisible format characters that make two ids look alike or reorder
//     text in logs (bidirectional controls, zero-width spaces and joiners,
//     the byte-order mark).
//
// The error wraps ErrInvalidID and ErrInvalidRequest and names the kind and
// the problem, not the whole id (which may be long or hold controls). It is
// pure and safe to call from any goroutine.
func ValidateID(kind IDKind, id string) error {
	reason := idProblem(id)
	if reason == "" {
		return nil
	}
	return &idError{kind: kind, reason: reason}
}

// idError reads "invalid id: conversation id holds '/' at byte 1" and
// matches both ErrInvalidID and ErrInvalidRequest, without spelling out
// both sentinels in every message that wraps it.
type idError struct {
	kind   IDKind
	reason string
}

func (e *idError) Error() string { return "invalid id: " + string(e.kind) + " id " + e.reason }

func (e *idError) Is(target error) bool { return target == ErrInvalidID || target == ErrInvalidRequest }

func idProblem(id string) string {
	switch {
	case id == "":
		return "is empty"
	case len(id) > MaxIDBytes:
		return fmt.Sprintf("is %d bytes, at most %d allowed", len(id), MaxIDBytes)
	case id == "." || id == "..":
		return fmt.Sprintf("is %q, a relative path segment", id)
	case !utf8.ValidString(id):
		return "is not valid UTF-8"
	}
	for i, r := range id {
		switch {
		case r == '/':
			return fmt.Sprintf("holds '/' at byte %d", i)
		case unicode.IsControl(r):
			return fmt.Sprintf("holds control character %U at byte %d", r, i)
		case IsInvisible(r):
			return fmt.Sprintf("holds invisible character %U at byte %d", r, i)
		}
	}
	return ""
}

// IsInvisible reports the characters that print as nothing or reorder text:
// bidirectional controls, zero-width spaces and joiners, word joiners, the
// BOM, soft hyphens and Hangul fillers. ValidateID refuses them in ids, and
// mapping drops them from payload text, so both use this one list. It is
// pure.
func IsInvisible(r rune) bool {
	switch {
	case r >= 0x200B && r <= 0x200F, // zero-width space, non-joiner, joiner, LRM, RLM
		r >= 0x202A && r <= 0x202E,            // bidi embeddings and overrides
		r >= 0x2060 && r <= 0x2064,            // word joiner, invisible operators
		r >= 0x2066 && r <= 0x2069,            // bidi isolates
		r == 0xFEFF,                           // byte-order mark, zero-width no-break space
		r == 0x061C,                           // Arabic letter mark, a bidi control
		r == 0x180E, r == 0x00AD, r == 0x034F, // Mongolian vowel separator, soft hyphen, combining grapheme joiner
		r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0: // Hangul fillers, which print as blanks
		return true
	}
	return false
}

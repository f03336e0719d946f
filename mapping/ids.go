package mapping

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest user or conversation id accepted, in bytes.
const MaxIDLength = 255

// ErrInvalidID is wrapped by every ValidateID error.
var ErrInvalidID = errors.New("invalid id")

// ValidateID is the one rule for TalkJS user and conversation ids, applied
// by every inbound path (webhook templates, queue commands, inline
// schedules, reminders) before any request is made: not empty, at most
// MaxIDLength bytes, valid UTF-8, not "." or ".." (a URL path would read
// them as a directory: /conversations/../messages), and without '/',
// control characters (NUL included), bidirectional controls or invisible
// characters (which make one id look like another). The error names what is
// wrong, quoting at most the first 40 characters. It is a pure function.
//
// The TalkJS client is to get the same rule (issue 14.7); when it does, this
// function should call it so that there is one definition.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrInvalidID)
	case len(id) > MaxIDLength:
		return fmt.Errorf("%w: %d bytes, ids are at most %d", ErrInvalidID, len(id), MaxIDLength)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidID)
	case id == "." || id == "..":
		return fmt.Errorf("%w: %q is a path segment, not an id", ErrInvalidID, id)
	}
	for _, r := range id {
		if r == '/' || unicode.IsControl(r) || dropRune(r) || r == zwj || r == zwnj {
			return fmt.Errorf("%w: %q holds '/', a control or an invisible character", ErrInvalidID, truncForErr(id))
		}
	}
	return nil
}

package talkjs

import "strings"

// RedactFragmentLen is the shortest piece of a secret that error texts are
// scrubbed of. Any run of at least this many bytes that also occurs in the
// secret key (or the app token made from it) is replaced, so that a key cut
// by a length limit, split across lines or partly echoed still does not
// reach logs, queues or traces. 8 bytes: short enough that what may remain
// (at most 7 bytes of a key's 24 random characters) does not help guess it,
// and below internal/secretscan.FragmentLen (12), so the test-output scanner
// never finds a fragment the client let through. The cost is that innocent
// text sharing 8 bytes with a key (its "sk_test_" prefix, say) is redacted too.
const RedactFragmentLen = 8

const redactedMark = "[redacted]"

// scrub replaces in text every occurrence of each secret, and every run of
// at least RedactFragmentLen bytes that occurs in a secret, with
// "[redacted]". Secrets shorter than twice the fragment length are only
// replaced whole. It is a pure function; it allocates only when it replaces.
func scrub(text string, secrets ...string) string {
	var covered []bool
	mark := func(from, to int) {
		if covered == nil {
			covered = make([]bool, len(text))
		}
		for i := from; i < to; i++ {
			covered[i] = true
		}
	}
	for _, s := range secrets {
		switch {
		case s == "":
			continue
		case len(s) < 2*RedactFragmentLen:
			for off := 0; ; {
				i := strings.Index(text[off:], s)
				if i < 0 {
					break
				}
				mark(off+i, off+i+len(s))
				off += i + 1
			}
		default:
			pieces := make(map[string]struct{}, len(s)-RedactFragmentLen+1)
			for i := 0; i+RedactFragmentLen <= len(s); i++ {
				pieces[s[i:i+RedactFragmentLen]] = struct{}{}
			}
			for i := 0; i+RedactFragmentLen <= len(text); i++ {
				if _, ok := pieces[text[i:i+RedactFragmentLen]]; ok {
					mark(i, i+RedactFragmentLen)
				}
			}
		}
	}
	if covered == nil {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		if !covered[i] {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteString(redactedMark)
		for i < len(text) && covered[i] {
			i++
		}
	}
	return b.String()
}

// redact keeps the secrets out of transport errors (some wrap request
// details, such as a URL or a proxy's answer).
func redact(err error, secrets ...string) error {
	msg := err.Error()
	if scrub(msg, secrets...) == msg {
		return err
	}
	return redactedError{err: err, secrets: secrets}
}

type redactedError struct {
	err     error
	secrets []string
}

func (e redactedError) Error() string { return scrub(e.err.Error(), e.secrets...) }
func (e redactedError) Unwrap() error { return e.err }

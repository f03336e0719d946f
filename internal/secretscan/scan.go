package secretscan

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// FragmentLen is the length of the pieces of a secret Scan also looks for,
// so that a secret cut short or wrapped differently is still found. Secrets
// shorter than twice this are only looked for whole.
const FragmentLen = 12

// publicPrefixes are the parts of a secret that say what it is, not what it
// is: a fragment made only of them proves nothing.
var publicPrefixes = []string{"sk_test_", "sk_live_", "whsec_"}

// Leak is one place a secret showed up. It names the secret by its label and
// never holds its value, so a failing test does not print the secret.
type Leak struct {
	Where  string // the haystack's name, e.g. "logs"
	Secret string // the secret's label, e.g. "talkjs key"
	Form   string // plain, base64, base64url, json, url or fragment
	Offset int    // byte offset in the haystack
}

// String describes the leak without showing the secret.
func (l Leak) String() string {
	return fmt.Sprintf("%s: %s (%s) at byte %d", l.Where, l.Secret, l.Form, l.Offset)
}

// Scan looks for each secret (label -> value) in each haystack (name ->
// content): the value as is, base64- and URL-encoded, JSON-escaped, and
// any FragmentLen-byte piece of it outside its public prefix. Empty values
// are skipped. The result is sorted by haystack, offset and secret. It is a
// pure function.
func Scan(secrets map[string]string, haystacks map[string][]byte) []Leak {
	var leaks []Leak
	for where, hay := range haystacks {
		for label, value := range secrets {
			if value == "" {
				continue
			}
			if l, ok := find(hay, forms(value)); ok {
				l.Where, l.Secret = where, label
				leaks = append(leaks, l)
			}
		}
	}
	sort.Slice(leaks, func(i, j int) bool {
		a, b := leaks[i], leaks[j]
		if a.Where != b.Where {
			return a.Where < b.Where
		}
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		return a.Secret < b.Secret
	})
	return leaks
}

type form struct{ name, text string }

func forms(v string) []form {
	out := []form{
		{"plain", v},
		{"base64", base64.StdEncoding.EncodeToString([]byte(v))},
		{"base64url", base64.RawURLEncoding.EncodeToString([]byte(v))},
		{"url", url.QueryEscape(v)},
	}
	if b, err := json.Marshal(v); err == nil {
		out = append(out, form{"json", string(b[1 : len(b)-1])})
	}
	body := v
	for _, p := range publicPrefixes {
		body = strings.TrimPrefix(body, p)
	}
	if len(body) >= 2*FragmentLen {
		for i := 0; i+FragmentLen <= len(body); i++ {
			out = append(out, form{"fragment", body[i : i+FragmentLen]})
		}
	}
	return out
}

// find returns the first (lowest offset) match of any form.
func find(hay []byte, fs []form) (Leak, bool) {
	best := Leak{Offset: -1}
	for _, f := range fs {
		if f.text == "" {
			continue
		}
		if i := bytes.Index(hay, []byte(f.text)); i >= 0 && (best.Offset < 0 || i < best.Offset) {
			best = Leak{Form: f.name, Offset: i}
		}
	}
	return best, best.Offset >= 0
}

// Buffer is an io.Writer safe for concurrent use that collects what a test
// wants to scan (logs, metrics, trace documents).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Reset empties the buffer.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}

// Bytes returns a copy of everything written so far.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

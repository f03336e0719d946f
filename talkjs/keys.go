package talkjs

import (
	"context"
	"errors"
	"strings"
)

// IsSecretKey reports whether s has the shape of a TalkJS secret key:
// sk_test_ or sk_live_ and more, without spaces or quotes. Start-up checks
// use it to refuse a value that cannot be a key, which TalkJS would
// otherwise answer with a 401 on every call.
func IsSecretKey(s string) bool {
	return (strings.HasPrefix(s, "sk_test_") || strings.HasPrefix(s, "sk_live_")) && len(s) > len("sk_test_") &&
		!strings.ContainsAny(s, " \t\r\n\"")
}

// KeySource yields the TalkJS secret key to use for a request. Implementations
// must be safe for concurrent use.
type KeySource interface {
	// Key returns the secret key to use now. An error that wraps
	// ErrKeyUnavailable is treated as temporary.
	Key(ctx context.Context) (string, error)
	// Refused tells the source that TalkJS answered 401 to key, so the next
	// Key call should fetch a fresh one (if key is still the current one).
	Refused(ctx context.Context, key string)
}

// ErrKeyUnavailable is wrapped by key sources that cannot produce a key right
// now (for example the secret store is unreachable). Retryable reports true for it.
var ErrKeyUnavailable = errors.New("talkjs: secret key unavailable")

// errEmptyStaticKey is permanent: retrying cannot make an empty key appear.
var errEmptyStaticKey = errors.New("talkjs: static secret key is empty")

// StaticKey returns a KeySource that always yields key. Meant for local runs
// and tests; Refused is a no-op because there is nothing to refresh. An empty
// key makes every call fail with a permanent error.
func StaticKey(key string) KeySource { return staticKey(key) }

type staticKey string

func (k staticKey) Key(context.Context) (string, error) {
	if k == "" {
		return "", errEmptyStaticKey
	}
	return string(k), nil
}

func (staticKey) Refused(context.Context, string) {}

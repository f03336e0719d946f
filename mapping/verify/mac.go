package verify

import (
	"crypto/hmac"
	"hash"
)

// dot separates the parts of the timestamped schemes' signed messages.
var dot = []byte{'.'}

// macMatches reports whether the HMAC of the concatenated parts under any of
// keys equals any of sigs. Every key and every signature is tried whatever
// matched first, and compared in constant time, so timing tells neither
// which secret matched nor where a signature differs. Each scheme builds its
// signed message from its own parts; this is the one place that keys it.
func macMatches(newHash func() hash.Hash, keys, sigs [][]byte, parts ...[]byte) bool {
	matched := false
	for _, key := range keys {
		sum := sumMAC(newHash, key, parts...)
		for _, sig := range sigs {
			matched = hmac.Equal(sum, sig) || matched
		}
	}
	return matched
}

// sumMAC is the HMAC of the concatenated parts under key: what Sign writes and
// macMatches compares.
func sumMAC(newHash func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(newHash, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// macEqual compares two digests in constant time.
func macEqual(a, b []byte) bool { return hmac.Equal(a, b) }

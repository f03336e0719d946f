// Package tlsroots verifies TLS servers against the root certificates
// compiled into the binary (Mozilla's set, from
// golang.org/x/crypto/x509roots/fallback/bundle) instead of the host's CA
// bundle, so an outdated or missing bundle on the host cannot break calls to
// TalkJS or AWS.
//
// It differs from importing golang.org/x/crypto/x509roots/fallback with
// GODEBUG=x509usefallbackroots=1 in cost, not in trust: that package parses
// every root at program start, and the standard library still reads and
// parses the host's whole bundle at the first verification before replacing
// it. Here the embedded roots are parsed once, at the first verification,
// and the host's files are never read.
package tlsroots

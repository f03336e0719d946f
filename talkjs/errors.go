package talkjs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrNotFound matches (with errors.Is) an *APIError whose status is 404.
var ErrNotFound = errors.New("talkjs: not found")

// ErrInvalidRequest is wrapped by errors the client returns before sending
// anything, because an argument is not acceptable to TalkJS (empty id, limit
// out of range, too many messages, ...). Such errors are never retryable.
var ErrInvalidRequest = errors.New("talkjs: invalid request")

// ErrRateLimited matches (with errors.Is) an *APIError whose status is 429,
// and wraps the error of a call the client's own pacing after 429 answers
// did not send because its next slot was past the context deadline. Either
// way TalkJS did not act on the call, and it is retryable later.
var ErrRateLimited = errors.New("talkjs: rate limited")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, args...)...)
}

// APIError is a non-2xx answer from TalkJS. Body holds at most the configured
// maximum error-body size (see WithMaxErrorBody) and never the secret key.
type APIError struct {
	StatusCode int
	Method     string
	Path       string
	Body       string
	// RetryAfter is the wait TalkJS asked for with a Retry-After header, or 0.
	RetryAfter time.Duration
}

// Error returns one line: method, path, status and the bounded body.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "talkjs: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if body := oneLine(e.Body); body != "" {
		b.WriteString(": ")
		b.WriteString(body)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for a 404 and
// errors.Is(err, ErrRateLimited) true for a 429.
func (e *APIError) Is(target error) bool {
	return (target == ErrNotFound && e.StatusCode == http.StatusNotFound) ||
		(target == ErrRateLimited && e.StatusCode == http.StatusTooManyRequests)
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// Retryable reports whether err is temporary, so that the same call may succeed
// later: TalkJS 5xx and 429, connection errors, timeouts, ErrKeyUnavailable
// and ErrRateLimited.
// Every other TalkJS 4xx, invalid arguments, TLS certificate failures and
// context.Canceled are permanent. It is a pure function of err.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrInvalidRequest) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500 || apiErr.StatusCode == http.StatusTooManyRequests
	}
	if errors.Is(err, ErrKeyUnavailable) || errors.Is(err, ErrRateLimited) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var (
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) {
		return false
	}
	// *url.Error is itself a net.Error; judge what it wraps.
	var urlErr *url.Error
	inTransport := errors.As(err, &urlErr)
	if inTransport {
		if strings.Contains(urlErr.Err.Error(), "unsupported protocol scheme") {
			return false
		}
		err = urlErr.Err
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true // timeouts, refused and reset connections
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) {
		return true
	}
	// What else fails inside the transport (connection closed, malformed
	// answer) may not have reached TalkJS: worth another try.
	return inTransport
}

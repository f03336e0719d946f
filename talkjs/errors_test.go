package talkjs

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestRetryable(t *testing.T) {
	urlErr := func(err error) error { return &url.Error{Op: "Post", URL: "https://api.talkjs.com/v1/a/x", Err: err} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "500", err: &APIError{StatusCode: 500}, want: true},
		{name: "502", err: &APIError{StatusCode: 502}, want: true},
		{name: "503", err: &APIError{StatusCode: 503}, want: true},
		{name: "504", err: &APIError{StatusCode: 504}, want: true},
		{name: "429", err: &APIError{StatusCode: 429}, want: true},
		{name: "400", err: &APIError{StatusCode: 400}, want: false},
		{name: "401", err: &APIError{StatusCode: 401}, want: false},
		{name: "403", err: &APIError{StatusCode: 403}, want: false},
		{name: "404", err: &APIError{StatusCode: 404}, want: false},
		{name: "409", err: &APIError{StatusCode: 409}, want: false},
		{name: "413", err: &APIError{StatusCode: 413}, want: false},
		{name: "wrapped 503", err: fmt.Errorf("sending: %w", &APIError{StatusCode: 503}), want: true},
		{name: "wrapped 400", err: fmt.Errorf("sending: %w", &APIError{StatusCode: 400}), want: false},
		{name: "context canceled", err: context.Canceled, want: false},
		{name: "canceled inside url error", err: urlErr(context.Canceled), want: false},
		{name: "deadline exceeded", err: fmt.Errorf("x: %w", context.DeadlineExceeded), want: true},
		{name: "key unavailable", err: fmt.Errorf("secrets: %w", ErrKeyUnavailable), want: true},
		{name: "invalid request", err: invalidf("limit 0"), want: false},
		{name: "connection refused", err: urlErr(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), want: true},
		{name: "connection reset", err: fmt.Errorf("x: %w", syscall.ECONNRESET), want: true},
		{name: "timeout", err: urlErr(timeoutErr{}), want: true},
		{name: "unexpected EOF", err: urlErr(io.ErrUnexpectedEOF), want: true},
		{name: "EOF", err: urlErr(io.EOF), want: true},
		{name: "unknown CA", err: urlErr(x509.UnknownAuthorityError{}), want: false},
		{name: "wrong host certificate", err: urlErr(x509.HostnameError{Host: "x"}), want: false},
		{name: "unsupported scheme", err: urlErr(errors.New(`unsupported protocol scheme "ftp"`)), want: false},
		{name: "plain error", err: errors.New("something"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Retryable(tt.err); got != tt.want {
				t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestAPIErrorMatching(t *testing.T) {
	tests := []struct {
		name         string
		err          error
		wantNotFound bool
	}{
		{name: "404", err: &APIError{StatusCode: 404, Method: "GET", Path: "/v1/a/users/x"}, wantNotFound: true},
		{name: "wrapped twice 404", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", &APIError{StatusCode: 404})), wantNotFound: true},
		{name: "400", err: fmt.Errorf("a: %w", &APIError{StatusCode: 400})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var apiErr *APIError
			if !errors.As(tt.err, &apiErr) {
				t.Fatalf("errors.As found no APIError in %v", tt.err)
			}
			if got := errors.Is(tt.err, ErrNotFound); got != tt.wantNotFound {
				t.Errorf("errors.Is(ErrNotFound) = %v, want %v", got, tt.wantNotFound)
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *APIError
		want string
	}{
		{
			name: "with body",
			err:  &APIError{StatusCode: 400, Method: "POST", Path: "/v1/a/conversations/c/messages", Body: "{\n  \"reasons\": [\"sender\"]\n}"},
			want: `talkjs: POST /v1/a/conversations/c/messages: 400 Bad Request: { "reasons": ["sender"] }`,
		},
		{
			name: "empty body",
			err:  &APIError{StatusCode: 503, Method: "GET", Path: "/v1/a/users/u"},
			want: "talkjs: GET /v1/a/users/u: 503 Service Unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.err.Error()
			if got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("Error() is not one line")
			}
		})
	}
}

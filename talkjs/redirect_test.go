package talkjs

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRedirectsAreNotFollowed checks that a 3xx is an error carrying its
// status, sent once, and that nothing (the key above all) reaches the
// redirect target, on another port of the same host or on another host.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		answer(w, 200, `[{"id":"msg_stolen"}]`)
	}))
	t.Cleanup(target.Close)
	otherHost := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)

	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, where := range []struct{ name, url string }{{"same host, other port", target.URL}, {"other host", otherHost}} {
			for _, mode := range []struct {
				name string
				opts []Option
			}{{"secret key", nil}, {"app tokens", []Option{WithAppTokens(0)}}} {
				t.Run(http.StatusText(status)+"/"+where.name+"/"+mode.name, func(t *testing.T) {
					reached.Store(0)
					srv, rec := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
						http.Redirect(w, r, where.url+r.URL.Path, status)
					})
					// A client whose own CheckRedirect would follow: the
					// talkjs client must override it.
					h := srv.Client()
					h.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
					c := newTestClient(t, srv, append([]Option{WithHTTPClient(h)}, mode.opts...)...)
					ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
					defer cancel()
					_, err := c.SendMessages(ctx, "c1", NewMessage{Type: SystemMessage, Text: "x", IdempotencyKey: "k1"})
					var apiErr *APIError
					if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
						t.Fatalf("err = %v, want an APIError with status %d", err, status)
					}
					if Retryable(err) {
						t.Errorf("a %d is retryable", status)
					}
					if n := rec.count(); n != 1 {
						t.Errorf("%d requests to the API, want 1 (a redirect is not retried)", n)
					}
					if n := reached.Load(); n != 0 {
						t.Errorf("%d requests reached the redirect target", n)
					}
					if strings.Contains(err.Error(), testKey) {
						t.Error("the error holds the key")
					}
				})
			}
		}
	}
}

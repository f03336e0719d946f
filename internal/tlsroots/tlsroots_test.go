package tlsroots

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

func TestPoolHoldsTheBundle(t *testing.T) {
	n := 0
	for range bundle.Roots() {
		n++
	}
	p := Pool()
	//lint:ignore SA1019 the pool is built here, not by the system: Subjects is exact for it.
	if got := len(p.Subjects()); got != n || n < 100 {
		t.Errorf("pool holds %d roots, bundle has %d; want all of a bundle of 100 or more", got, n)
	}
	if Pool() != p {
		t.Error("second Pool call built a new pool")
	}
}

// client returns an HTTP client whose every connection goes to srv,
// whatever host the URL names, so certificates can be checked against names.
func client(t *testing.T, srv *httptest.Server, cfg *tls.Config) *http.Client {
	t.Helper()
	addr := srv.Listener.Addr().String()
	tr := &http.Transport{
		TLSClientConfig: cfg,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func get(t *testing.T, c *http.Client, url string) error {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return nil
}

func TestVerification(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	// httptest's certificate names example.com and the loopback addresses.
	trusted := func() *x509.CertPool { return srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs }

	tests := []struct {
		name  string
		cfg   *tls.Config
		url   string
		check func(error) bool // nil: the request must succeed
	}{
		{name: "embedded roots refuse a private CA", cfg: Config(), url: "https://example.com/",
			check: func(err error) bool {
				var certErr *tls.CertificateVerificationError
				var unknown x509.UnknownAuthorityError
				return errors.As(err, &certErr) && errors.As(err, &unknown)
			}},
		{name: "trusted root and matching name", cfg: config(trusted), url: "https://example.com/"},
		{name: "trusted root and another name", cfg: config(trusted), url: "https://other.example/",
			check: func(err error) bool {
				var host x509.HostnameError
				return errors.As(err, &host)
			}},
		{name: "no name to check: an IP address", cfg: config(trusted), url: "https://127.0.0.1/",
			check: func(err error) bool { return errors.Is(err, ErrNoServerName) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := get(t, client(t, srv, tt.cfg), tt.url)
			switch {
			case tt.check == nil && err != nil:
				t.Fatalf("GET %s: %v", tt.url, err)
			case tt.check != nil && err == nil:
				t.Fatalf("GET %s succeeded; want a verification error", tt.url)
			case tt.check != nil && !tt.check(err):
				t.Fatalf("GET %s: %v; not the error wanted", tt.url, err)
			}
		})
	}
}

func TestRootsParsedOnFirstHandshake(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	var calls atomic.Int32
	cfg := config(func() *x509.CertPool {
		calls.Add(1)
		return srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	})
	if n := calls.Load(); n != 0 {
		t.Fatalf("roots asked for %d times before any connection", n)
	}
	c := client(t, srv, cfg)
	for range 3 {
		if err := get(t, c, "https://example.com/"); err != nil {
			t.Fatal(err)
		}
	}
	// One kept-alive connection: one handshake, one verification.
	if n := calls.Load(); n != 1 {
		t.Errorf("roots asked for %d times over 3 requests on one connection; want 1", n)
	}
}

// TestPublicChain verifies a real chain (www.google.com in February 2023,
// taken from Go's crypto/x509 tests) against the embedded roots.
func TestPublicChain(t *testing.T) {
	data, err := os.ReadFile("testdata/www.google.com.pem")
	if err != nil {
		t.Fatal(err)
	}
	var chain []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	issued := time.Unix(1677615892, 0)
	tests := []struct {
		name     string
		host     string
		at       time.Time
		leafOnly bool // the server leaves out its intermediate
		check    func(error) bool
	}{
		{name: "valid", host: "www.google.com", at: issued},
		{name: "other host", host: "www.example.com", at: issued,
			check: func(err error) bool { var e x509.HostnameError; return errors.As(err, &e) }},
		{name: "expired", host: "www.google.com", at: issued.AddDate(2, 0, 0),
			check: func(err error) bool { var e x509.CertificateInvalidError; return errors.As(err, &e) }},
		{name: "no intermediate", host: "www.google.com", at: issued, leafOnly: true,
			check: func(err error) bool { var e x509.UnknownAuthorityError; return errors.As(err, &e) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certs := chain
			if tt.leafOnly {
				certs = chain[:1]
			}
			err := verify(tls.ConnectionState{ServerName: tt.host, PeerCertificates: certs}, Pool(), tt.at)
			switch {
			case tt.check == nil && err != nil:
				t.Fatal(err)
			case tt.check != nil && (err == nil || !tt.check(err)):
				t.Fatalf("verify = %v; not the error wanted", err)
			}
		})
	}
}

package tlsroots

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// ErrNoServerName is returned (wrapped) for a connection made without a
// host name to check the certificate against, such as one to an IP address.
var ErrNoServerName = errors.New("tlsroots: no server name to verify the certificate against")

// Pool returns the embedded roots as a certificate pool, parsing them on the
// first call. It is safe for concurrent use; every call returns the same pool,
// which must not be modified.
func Pool() *x509.CertPool { return pool() }

var pool = sync.OnceValue(func() *x509.CertPool {
	p := x509.NewCertPool()
	for c := range bundle.Roots() {
		cert, err := x509.ParseCertificate(c.Certificate)
		if err != nil {
			// The bundle is generated and tested upstream; a root that does
			// not parse is left out rather than taking the process down.
			continue
		}
		p.AddCertWithConstraint(cert, c.Constraint)
	}
	return p
})

// Config returns a new TLS client configuration (TLS 1.2 or later) that
// verifies the server's chain and host name against Pool. Use it as an
// http.Transport's TLSClientConfig; the transport sets the server name of
// each connection.
func Config() *tls.Config {
	return config(Pool)
}

func config(roots func() *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// RootCAs would need the pool before the first connection exists;
		// VerifyConnection does the same verification with the pool built
		// on first use. It runs on every handshake, resumed ones included.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verify(cs, roots(), time.Time{})
		},
	}
}

// verify checks cs at now (the zero time: the current time).
func verify(cs tls.ConnectionState, roots *x509.CertPool, now time.Time) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tlsroots: the server sent no certificate")
	}
	// An empty name would make Verify skip the host name check.
	if cs.ServerName == "" {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: ErrNoServerName}
	}
	opts := x509.VerifyOptions{
		DNSName:       cs.ServerName,
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: fmt.Errorf("verify %s against the embedded roots: %w", cs.ServerName, err)}
	}
	return nil
}

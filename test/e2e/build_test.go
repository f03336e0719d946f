package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
)

// TestBootstrapsTrustOnlyTheirOwnRoots points the real schedule bootstrap
// at an HTTPS "TalkJS", then an HTTPS "Secrets Manager", whose certificate
// a CA in the host's bundle (SSL_CERT_FILE) signed. A binary trusting the
// host's bundle would call them; the bridge verifies against the roots
// compiled into it (package tlsroots) and must refuse the server before any
// request reaches it.
func TestBootstrapsTrustOnlyTheirOwnRoots(t *testing.T) {
	dir := t.TempDir()
	caFile, leaf := localCA(t, dir)
	var requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	url := "https://localhost:" + port

	// Control: a client trusting the CA file trusts the server.
	pool := x509.NewCertPool()
	pemCA, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(pemCA)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("control client trusting the CA file: %v", err)
	}
	resp.Body.Close()

	for _, env := range []string{"TALKJS_API_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
		t.Run(env, func(t *testing.T) {
			before := requests.Load()
			s, err := localrun.Start(t.Context(), localrun.Options{
				BuildDir:  buildDir,
				Prebuilt:  true,
				Functions: []string{localrun.Schedule},
				Env:       []string{env + "=" + url, "SSL_CERT_FILE=" + caFile, "SSL_CERT_DIR=" + dir},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			out, _ := s.Invoke(t.Context(), localrun.Schedule, loadEvent(t, "schedule-inline.json"))
			if n := requests.Load() - before; n != 0 {
				t.Errorf("the function made %d requests to a server its roots do not trust", n)
			}
			logs := s.Logs(localrun.Schedule)
			if !strings.Contains(logs, "certificate signed by unknown authority") || !strings.Contains(logs, "embedded roots") {
				t.Errorf("logs do not show the refused certificate; answer %s\n%s", out, tail(logs, 20))
			}
		})
	}
}

// localCA writes a new CA's certificate to dir/ca.pem and returns its path
// and a certificate for localhost that the CA signed.
func localCA(t *testing.T, dir string) (string, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "talkjs-bridge test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}
}

package setup

import (
	"bytes"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/tlsroots"
)

// TestAWSRoots checks which roots the AWS clients verify against: the
// embedded ones (package tlsroots), unless AWS_CA_BUNDLE names others.
func TestAWSRoots(t *testing.T) {
	aws := awstest.New()
	aws.SetSecret("bridge/talkjs", `{"appId":"tRoots","secretKey":"sk_test_roots_0123456789"}`)
	srv := httptest.NewUnstartedServer(aws)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		caBundle string
		wantErr  error // nil: the app id is read from the secret
	}{
		// The endpoint is an IP address, which the embedded verifier
		// refuses before looking at roots: proof that it, and not the
		// standard verifier, checked the connection.
		{name: "embedded roots", wantErr: tlsroots.ErrNoServerName},
		{name: "AWS_CA_BUNDLE", caBundle: bundle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_CA_BUNDLE", tt.caBundle)
			t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
			t.Setenv("AWS_REGION", awstest.Region)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSETUPSETUPSETUP")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "setup-fake-secret-access-key")
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
			calls := aws.Calls("GetSecretValue")
			env := map[string]string{"TALKJS_SECRET_ID": "bridge/talkjs", "TALKJS_API_URL": "http://127.0.0.1:1"}
			d, err := From(t.Context(), func(k string) string { return env[k] }, "queue", &bytes.Buffer{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("From = %v; want an error wrapping %v", err, tt.wantErr)
				}
				if n := aws.Calls("GetSecretValue") - calls; n != 0 {
					t.Errorf("%d GetSecretValue calls reached an endpoint the roots do not trust", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id := d.TalkJS.AppID(); id != "tRoots" {
				t.Errorf("app id %q, want the secret's", id)
			}
		})
	}
}

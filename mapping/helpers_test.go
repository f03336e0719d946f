package mapping

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testNow is the clock every golden test runs at.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testSecrets are the webhook secrets the tests sign with, by name.
var testSecrets = map[string]string{
	"github":           "gh-test-secret",
	"stripe":           "whsec_stripe_test_secret",
	"alertmanager":     "am-test-token",
	"shopify":          "shopify-test-secret",
	"generic":          "whsec_" + base64.StdEncoding.EncodeToString([]byte("generic-test-key-0123456789abcdef")),
	"slack":            "slack-test-signing",
	"gitlab":           "whsec_" + base64.StdEncoding.EncodeToString([]byte("gitlab-test-signing-token-012345")),
	"bitbucket":        "bitbucket-test-secret",
	"circleci":         "circleci-test-secret",
	"sentry":           "sentry-test-client-secret",
	"pagerduty":        "pagerduty-test-secret",
	"grafana":          "grafana-test-secret",
	"uptime-kuma":      "uptime-kuma-test-token",
	"paddle":           "paddle-test-secret",
	"postmark":         "postmark-test-password",
	"twilio":           "twilio-test-token",
	"talkjs":           "talkjs-test-webhook-key",
	"cloudwatch-alarm": "cloudwatch-test-token",
}

func lookup(secrets map[string]string) SecretLookup {
	return func(_ context.Context, name string) (string, error) {
		s, ok := secrets[name]
		if !ok {
			return "", errors.New("no such secret")
		}
		return s, nil
	}
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func hexMAC(key, msg []byte) string { return hex.EncodeToString(mac(key, msg)) }

// sign adds the headers the given preset checks, as the real sender would.
func sign(t *testing.T, preset, secret string, h http.Header, body []byte, now time.Time) {
	t.Helper()
	ts := strconv.FormatInt(now.Unix(), 10)
	switch preset {
	case "github":
		h.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac([]byte(secret), body)))
	case "stripe":
		h.Set("Stripe-Signature", "t="+ts+",v1="+hex.EncodeToString(mac([]byte(secret), append([]byte(ts+"."), body...))))
	case "standard-webhooks":
		key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
		if err != nil {
			t.Fatal(err)
		}
		id := h.Get("Webhook-Id")
		if id == "" {
			id = "msg_test"
			h.Set("Webhook-Id", id)
		}
		h.Set("Webhook-Timestamp", ts)
		h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac(key, []byte(id+"."+ts+"."+string(body)))))
	case "bearer":
		h.Set("Authorization", "Bearer "+secret)
	case "shopify":
		h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac([]byte(secret), body)))
	case "none":
	default:
		t.Fatalf("sign: no signer for preset %q", preset)
	}
}

// testPublicURL is the URL a sender is configured to post to, for the
// schemes that sign it (Twilio).
func testPublicURL(route string) string {
	return "https://hooks.example.com/prod/webhooks/" + route
}

// signWith signs body for a verify block with verify.Sign, for the presets
// and hmac configurations sign does not spell out.
func signWith(t *testing.T, vc verify.Config, secret string, h http.Header, body []byte, now time.Time) {
	t.Helper()
	sh, err := verify.Sign(vc, []byte(secret), h.Get("Webhook-Id"), now, body)
	if err != nil {
		t.Fatalf("verify.Sign: %v", err)
	}
	for k, vs := range sh {
		h[k] = vs
	}
}

// signFor signs body for route r of c with the test secret.
func signFor(t *testing.T, c *Routes, routeName string, h http.Header, body []byte) {
	t.Helper()
	vc, ok := c.VerifyConfig(routeName)
	if !ok {
		t.Fatalf("no route %q", routeName)
	}
	secret := ""
	if len(vc.Secrets) > 0 {
		secret = testSecrets[vc.Secrets[0]]
	}
	switch vc.Preset {
	case "github", "stripe", "standard-webhooks", "bearer", "shopify", "none":
		sign(t, vc.Preset, secret, h, body, testNow)
	case verify.PresetTwilio:
		sh, err := verify.SignTwilio([]byte(secret), testPublicURL(routeName), body)
		if err != nil {
			t.Fatal(err)
		}
		h.Set("X-Twilio-Signature", sh.Get("X-Twilio-Signature"))
	default:
		signWith(t, vc, secret, h, body, testNow)
	}
}

// fixturesDir is the repository's testdata folder, found relative to this
// file; a missing folder fails the test, since the inputs ship with the code.
func fixturesDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("test inputs not found at %s: %v", dir, err)
	}
	return dir
}

func mustDefault(t testing.TB) *Routes {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return c
}

func mustParse(t testing.TB, src string) *Routes {
	t.Helper()
	c, err := Parse([]byte(src), "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

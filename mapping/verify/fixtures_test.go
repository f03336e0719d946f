package verify

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixtures is the repository's folder of real senders' payloads (see its
// SOURCES.md).
const fixtures = "../../testdata"

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixtures carry no signatures of their own (see SOURCES.md), so each is
// signed here with a test secret: this checks real payload bytes (unicode,
// escapes, large bodies) go through each preset untouched, and that flipping
// any one byte is caught.
func TestFixturesSignAndVerify(t *testing.T) {
	for _, tc := range []struct {
		preset string
		glob   string
	}{
		{PresetGitHub, "github/*/*.json"},
		{PresetSlack, "other/slack/*.json"},
		{PresetStandardWebhooks, "other/standard-webhooks/*.json"},
		{PresetHMAC, "other/alertmanager/*.json"},
		{PresetBearer, "other/alertmanager/*.json"},
		{PresetBitbucket, "senders/bitbucket/*.json"},
		{PresetGitLabSigning, "senders/gitlab/*.json"},
		{PresetGitLab, "senders/gitlab/*.json"},
		{PresetPaddle, "senders/paddle/*.json"},
		{PresetPagerDuty, "senders/pagerduty/*.json"},
		{PresetGrafana, "senders/alertmanager/*.json"},
		{PresetTwilio, "senders/twilio/*.form"},
	} {
		files, err := filepath.Glob(filepath.Join(fixtures, tc.glob))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no test inputs match %s", tc.glob)
		}
		p := presets[tc.preset]
		v := newVerifier(t, p, oldKey, currentKey)
		for _, file := range files {
			rel, _ := filepath.Rel(fixtures, file)
			t.Run(tc.preset+"/"+rel, func(t *testing.T) {
				body := readFixture(t, rel)
				h := p.sign(currentKey, body, testNow)
				if err := v.VerifyRequest(p.request(h, body)); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !p.bodyBound {
					return
				}
				for _, i := range []int{0, len(body) / 2, len(body) - 1} {
					tampered := []byte(string(body))
					tampered[i] ^= 0x01
					r := p.request(h, tampered)
					if p.url != nil {
						r.URL = p.url(body) // the URL the sender signed
					}
					if err := v.VerifyRequest(r); !errors.Is(err, ErrSignatureMismatch) {
						t.Fatalf("byte %d flipped: %v, want ErrSignatureMismatch", i, err)
					}
				}
			})
		}
	}
}

// captured is the wrapper hookdeck's samples use: the delivery's real headers
// and the body as parsed JSON.
type captured struct {
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func readCaptured(t *testing.T, rel string) (http.Header, []byte) {
	t.Helper()
	var c captured
	if err := json.Unmarshal(readFixture(t, rel), &c); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	// Lower-case keys, as written: the hand-built map case of header lookup.
	h := http.Header{}
	for k, v := range c.Headers {
		h[k] = []string{v}
	}
	return h, c.Body
}

// The Stripe and Shopify fixtures keep the captured signature headers, but the
// secret is unknown and the body was re-encoded, so they cannot verify. What
// they do prove is that real headers parse: the answer is a mismatch, not a
// malformed header. Signing the body with our own secret then verifies.
func TestCapturedStripeHeader(t *testing.T) {
	h, body := readCaptured(t, "stripe/hookdeck-webhook-samples/customer.subscription.created.json")
	sig := h.Get("Stripe-Signature")
	if sig == "" {
		sig = h["stripe-signature"][0]
	}
	tsText, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		t.Fatalf("captured header %q: %v", sig, err)
	}
	p := presets[PresetStripe]
	v := newVerifier(t, p, []byte("whsec_test_secret"))
	v.Now = func() time.Time { return time.Unix(ts, 0) }
	if err := v.Verify(h, body); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("captured Stripe-Signature: %v, want ErrSignatureMismatch", err)
	}
	if err := v.Verify(p.sign([]byte("whsec_test_secret"), body, time.Unix(ts, 0)), body); err != nil {
		t.Fatalf("re-signed Stripe fixture: %v", err)
	}
}

func TestCapturedShopifyHeader(t *testing.T) {
	h, body := readCaptured(t, "other/shopify/orders.create.json")
	p := presets[PresetShopify]
	v := newVerifier(t, p, []byte("shpss_test_secret"))
	if err := v.Verify(h, body); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("captured X-Shopify-Hmac-Sha256: %v, want ErrSignatureMismatch", err)
	}
	if err := v.Verify(p.sign([]byte("shpss_test_secret"), body, testNow), body); err != nil {
		t.Fatalf("re-signed Shopify fixture: %v", err)
	}
}

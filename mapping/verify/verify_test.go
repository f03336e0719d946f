package verify

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	currentKey = []byte("current-secret-0123456789")
	oldKey     = []byte("old-secret-9876543210")
	otherKey   = []byte("someone-elses-secret")
)

func TestVerify(t *testing.T) {
	body := []byte(`{"action":"opened","issue":{"title":"hello \u00e9 <b>"}}`)
	for _, name := range Presets() {
		if name == PresetNone {
			continue
		}
		p, ok := presets[name]
		if !ok {
			t.Fatalf("no test preset for %s", name)
		}
		t.Run(name, func(t *testing.T) {
			tol := DefaultTolerance
			if d := DefaultToleranceFor(name); d > 0 {
				tol = d
			}
			garbageWant := p.garbageWant
			if garbageWant == nil {
				garbageWant = ErrMalformedSignature
			}
			type tc struct {
				name  string
				keys  [][]byte // the verifier's secrets
				sign  []byte   // the sender's secret
				at    time.Time
				body  []byte
				edit  func(h http.Header)
				want  error
				skip  bool
				lower bool
			}
			cases := []tc{
				{name: "valid", keys: [][]byte{currentKey}, sign: currentKey},
				{name: "lower-case header keys", keys: [][]byte{currentKey}, sign: currentKey, lower: true},
				{name: "rotated: second secret matches", keys: [][]byte{oldKey, currentKey}, sign: currentKey},
				{name: "rotated: first secret matches", keys: [][]byte{oldKey, currentKey}, sign: oldKey},
				{name: "wrong secret", keys: [][]byte{currentKey}, sign: otherKey, want: ErrSignatureMismatch},
				{name: "wrong secret among rotated", keys: [][]byte{oldKey, currentKey}, sign: otherKey, want: ErrSignatureMismatch},
				{name: "missing header", keys: [][]byte{currentKey}, sign: currentKey, want: ErrMissingSignature,
					edit: func(h http.Header) { h.Del(p.sigHeader) }},
				{name: "empty header", keys: [][]byte{currentKey}, sign: currentKey, want: ErrMissingSignature,
					edit: func(h http.Header) { h.Set(p.sigHeader, "  ") }},
				{name: "malformed header", keys: [][]byte{currentKey}, sign: currentKey, want: garbageWant,
					edit: func(h http.Header) { h.Set(p.sigHeader, p.garbage) }},
				{name: "tampered body", keys: [][]byte{currentKey}, sign: currentKey, want: ErrSignatureMismatch,
					body: append(slices.Clone(body), ' '), skip: !p.bodyBound},
				{name: "stale", keys: [][]byte{currentKey}, sign: currentKey, at: testNow.Add(-tol - time.Second),
					want: ErrTimestampTooOld, skip: !p.timed},
				{name: "future", keys: [][]byte{currentKey}, sign: currentKey, at: testNow.Add(tol + time.Second),
					want: ErrTimestampInFuture, skip: !p.timed},
				{name: "at the old edge of the tolerance", keys: [][]byte{currentKey}, sign: currentKey, at: testNow.Add(-tol), skip: !p.timed},
				{name: "at the future edge of the tolerance", keys: [][]byte{currentKey}, sign: currentKey, at: testNow.Add(tol), skip: !p.timed},
				{name: "stale and wrong secret is a mismatch", keys: [][]byte{currentKey}, sign: otherKey, at: testNow.Add(-time.Hour),
					want: ErrSignatureMismatch, skip: !p.timed},
				{name: "missing timestamp", keys: [][]byte{currentKey}, sign: currentKey, want: ErrMissingTimestamp, skip: !p.timed,
					edit: func(h http.Header) {
						if p.dropTS != nil { // stripe: t= inside the signature header
							p.dropTS(h)
							return
						}
						h.Del(p.tsHeader)
					}},
				{name: "malformed timestamp", keys: [][]byte{currentKey}, sign: currentKey, want: ErrMalformedSignature, skip: !p.timed,
					edit: func(h http.Header) {
						if p.breakTS != nil {
							p.breakTS(h)
							return
						}
						h.Set(p.tsHeader, "12:00")
					}},
			}
			for _, c := range cases {
				if c.skip {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					v := newVerifier(t, p, c.keys...)
					at := c.at
					if at.IsZero() {
						at = testNow
					}
					h := p.sign(c.sign, body, at)
					if c.edit != nil {
						c.edit(h)
					}
					if c.lower {
						h = lowerKeys(h)
					}
					got := body
					if c.body != nil {
						got = c.body
					}
					err := v.VerifyRequest(p.request(h, got))
					if c.want == nil {
						if err != nil {
							t.Fatalf("Verify: %v, want nil", err)
						}
						return
					}
					if !errors.Is(err, c.want) {
						t.Fatalf("Verify: %v, want %v", err, c.want)
					}
					if !errors.Is(err, ErrUnverified) {
						t.Fatalf("Verify: %v does not wrap ErrUnverified", err)
					}
					assertNoLeak(t, err, h, c.keys...)
				})
			}
		})
	}
}

// assertNoLeak fails when an error message carries a secret or a signature.
func assertNoLeak(t *testing.T, err error, h http.Header, keys ...[]byte) {
	t.Helper()
	msg := err.Error()
	for _, k := range keys {
		if strings.Contains(msg, string(k)) {
			t.Errorf("error %q contains a secret", msg)
		}
	}
	for _, vs := range h {
		for _, v := range vs {
			for _, field := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '=' }) {
				if len(field) >= 16 && strings.Contains(msg, field) {
					t.Errorf("error %q echoes header content %q", msg, field)
				}
			}
		}
	}
}

func TestVerifyNone(t *testing.T) {
	v, err := New(Config{Preset: PresetNone}, nil)
	if err != nil {
		t.Fatalf("New(none): %v", err)
	}
	if err := v.Verify(http.Header{}, []byte("anything")); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, err := New(Config{Preset: PresetNone}, [][]byte{[]byte("x")}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New(none, secret): %v, want ErrInvalidConfig", err)
	}
}

func TestZeroVerifierRefuses(t *testing.T) {
	var v Verifier
	if err := v.Verify(http.Header{}, nil); !errors.Is(err, ErrUnverified) {
		t.Fatalf("zero Verifier: %v, want ErrUnverified", err)
	}
	var nilV *Verifier
	if err := nilV.Verify(http.Header{}, nil); !errors.Is(err, ErrUnverified) {
		t.Fatalf("nil Verifier: %v, want ErrUnverified", err)
	}
}

func TestSentinels(t *testing.T) {
	for _, err := range []error{ErrMissingSignature, ErrMalformedSignature, ErrSignatureMismatch,
		ErrTimestampTooOld, ErrTimestampInFuture, ErrMissingTimestamp} {
		if !errors.Is(err, ErrUnverified) {
			t.Errorf("%v does not wrap ErrUnverified", err)
		}
	}
	for _, err := range []error{ErrEmptySecret, ErrUnknownPreset, ErrInvalidConfig} {
		if errors.Is(err, ErrUnverified) {
			t.Errorf("%v wraps ErrUnverified; it is a configuration error", err)
		}
	}
	// Distinct sentinels must not match each other.
	if errors.Is(ErrSignatureMismatch, ErrMissingSignature) {
		t.Error("ErrSignatureMismatch matches ErrMissingSignature")
	}
}

func TestToleranceFromConfig(t *testing.T) {
	p := presets[PresetSlack]
	p.cfg.Tolerance = time.Minute
	v := newVerifier(t, p, currentKey)
	if v.Tolerance != time.Minute {
		t.Fatalf("Tolerance = %s, want 1m", v.Tolerance)
	}
	body := []byte("x")
	if err := v.Verify(p.sign(currentKey, body, testNow.Add(-2*time.Minute)), body); !errors.Is(err, ErrTimestampTooOld) {
		t.Fatalf("2m old with 1m tolerance: %v, want ErrTimestampTooOld", err)
	}
	// The field on the struct wins over the config once set.
	v.Tolerance = 3 * time.Minute
	if err := v.Verify(p.sign(currentKey, body, testNow.Add(-2*time.Minute)), body); err != nil {
		t.Fatalf("2m old with 3m tolerance: %v", err)
	}
}

func TestTalkJSTimestampUnits(t *testing.T) {
	p := presets[PresetTalkJS]
	v := newVerifier(t, p, currentKey)
	body := []byte(`{"type":"message.sent"}`)
	for _, tc := range []struct {
		name string
		ts   string
		want error
	}{
		{"milliseconds", "1795608000000", nil}, // testNow in ms
		{"seconds", "1795608000", nil},
		{"milliseconds, an hour old", "1795604400000", ErrTimestampTooOld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := strings.ToUpper(hexMAC(currentKey, tc.ts+"."+string(body)))
			h := http.Header{"X-TalkJS-Signature": {sig}, "X-TalkJS-Timestamp": {tc.ts}}
			if err := v.Verify(h, body); !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyConcurrent(t *testing.T) {
	p := presets[PresetStripe]
	v := newVerifier(t, p, oldKey, currentKey)
	body := []byte(`{"id":"evt_1"}`)
	good := p.sign(currentKey, body, testNow)
	bad := p.sign(otherKey, body, testNow)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for range 50 {
				if err := v.Verify(good, body); err != nil {
					t.Errorf("goroutine %d: %v", i, err)
					return
				}
				if err := v.Verify(bad, body); !errors.Is(err, ErrSignatureMismatch) {
					t.Errorf("goroutine %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNewCopiesSecrets(t *testing.T) {
	key := []byte("mutable-secret")
	p := presets[PresetGitHub]
	v := newVerifier(t, p, key)
	body := []byte("b")
	h := p.sign([]byte("mutable-secret"), body, testNow)
	copy(key, "XXXXXXXXXXXXXX")
	if err := v.Verify(h, body); err != nil {
		t.Fatalf("secret changed under a live verifier: %v", err)
	}
}

func TestStripeTooManySignatures(t *testing.T) {
	v := newVerifier(t, presets[PresetStripe], currentKey)
	h := http.Header{"Stripe-Signature": {"t=1795608000" + strings.Repeat(",v1="+strings.Repeat("00", 32), maxSignatures+1)}}
	if err := v.Verify(h, nil); !errors.Is(err, ErrMalformedSignature) {
		t.Fatalf("Verify: %v, want ErrMalformedSignature", err)
	}
}

func TestStandardWebhooksSvixNames(t *testing.T) {
	p := presets[PresetStandardWebhooks]
	v := newVerifier(t, p, currentKey)
	body := []byte(`{"type":"contact.created"}`)
	h := p.sign(currentKey, body, testNow)
	svix := http.Header{}
	for k, vs := range h {
		svix[strings.Replace(k, "Webhook-", "Svix-", 1)] = vs
	}
	if err := v.Verify(svix, body); err != nil {
		t.Fatalf("svix- headers: %v", err)
	}
	if err := v.Verify(lowerKeys(svix), body); err != nil {
		t.Fatalf("lower-case svix- headers: %v", err)
	}
	svix.Del("Svix-Id")
	if err := v.Verify(svix, body); !errors.Is(err, ErrMissingSignature) {
		t.Fatalf("no svix-id: %v, want ErrMissingSignature", err)
	}
}

func TestStandardWebhooksRawSecret(t *testing.T) {
	// A secret without the whsec_ prefix that is not base64 is used as raw bytes.
	p := presets[PresetStandardWebhooks]
	p.secret = rawSecret
	v := newVerifier(t, p, currentKey)
	body := []byte("{}")
	if err := v.Verify(p.sign(currentKey, body, testNow), body); err != nil {
		t.Fatalf("raw secret: %v", err)
	}
}

func TestBearerSecretWithSpaceRefused(t *testing.T) {
	// A trailing newline pasted into a secret can never match a header value;
	// refusing it at load time beats a route that rejects everything.
	_, err := New(Config{Preset: PresetBearer}, [][]byte{[]byte("s3cr3t-value\n")})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New: %v, want ErrInvalidConfig", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error %q contains the secret", err)
	}
}

func TestHeaderMultipleValues(t *testing.T) {
	// Two different copies of the signature header are refused, whichever
	// comes first and however their names are spelled (an API Gateway event
	// can hold both X-Hub-Signature-256 and x-hub-signature-256 as keys).
	// Taking the first made the answer depend on map order, and let an added
	// copy decide which value is checked. Equal copies are one value.
	p := presets[PresetGitHub]
	v := newVerifier(t, p, currentKey)
	body := []byte("b")
	good := p.sign(currentKey, body, testNow).Get("X-Hub-Signature-256")
	zero := "sha256=" + strings.Repeat("00", 32)
	tests := []struct {
		name string
		h    http.Header
		want error
	}{
		{"bad copy first", http.Header{"X-Hub-Signature-256": {zero, good}}, ErrMalformedSignature},
		{"bad copy last", http.Header{"X-Hub-Signature-256": {good, zero}}, ErrMalformedSignature},
		{"two spellings", http.Header{"X-Hub-Signature-256": {good}, "x-hub-signature-256": {zero}}, ErrMalformedSignature},
		{"two spellings, equal", http.Header{"X-Hub-Signature-256": {good}, "x-hub-signature-256": {good}}, nil},
		{"repeated, equal", http.Header{"X-Hub-Signature-256": {good, good}}, nil},
		{"empty copy", http.Header{"X-Hub-Signature-256": {"", good}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Map order varies from run to run: the answer must not.
			for range 20 {
				err := v.Verify(tt.h, body)
				if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
					t.Fatalf("Verify: %v, want %v", err, tt.want)
				}
			}
		})
	}
}

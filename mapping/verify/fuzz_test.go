package verify

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// fuzzPresets is the order a fuzz input's first byte picks from.
var fuzzPresets = []string{
	PresetGitHub, PresetShopify, PresetSlack, PresetTalkJS, PresetStripe,
	PresetStandardWebhooks, PresetBasic, PresetBearer, PresetHMAC,
}

// FuzzVerify checks that hostile headers and bodies never panic and only ever
// fail with ErrUnverified, and that a correctly signed request always
// verifies, also when the fuzzed string is the secret. Seeds live in
// testdata/fuzz/FuzzVerify and run with every go test.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "", "", []byte("Hello, World!"))
	f.Add(uint8(4), "t=1795608000,v1=zz,v1=,=,,", "1795608000", "", []byte(`{"id":"evt_1"}`))
	f.Add(uint8(5), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1a,x", "1614265330", "msg_p5jXN8AQM9LWM0D4loKWxJek", []byte(`{"test": 2432232314}`))
	f.Fuzz(func(t *testing.T, which uint8, sig, ts, id string, body []byte) {
		p := presets[fuzzPresets[int(which)%len(fuzzPresets)]]
		v := newVerifier(t, p, currentKey)

		// Hostile: the fuzzed strings in every header the preset reads, under
		// both canonical and lower-case names.
		h := http.Header{}
		h.Set(p.sigHeader, sig)
		if p.tsHeader != "" && p.tsHeader != p.sigHeader {
			h.Set(p.tsHeader, ts)
		}
		h.Set("Webhook-Id", id)
		h.Set("Svix-Signature", sig)
		h.Set("Svix-Timestamp", ts)
		h.Set("Svix-Id", id)
		for _, hh := range []http.Header{h, lowerKeys(h)} {
			if err := v.Verify(hh, body); err != nil && !errors.Is(err, ErrUnverified) {
				t.Fatalf("Verify error %v does not wrap ErrUnverified", err)
			}
		}

		// Valid: a request signed with the configured secret verifies.
		if err := v.Verify(p.sign(currentKey, body, testNow), body); err != nil {
			t.Fatalf("valid %s request: %v", p.cfg.Preset, err)
		}

		// Valid with the fuzzed string as a rotated-in secret, when New accepts it.
		key := []byte(sig)
		if len(key) == 0 || strings.HasPrefix(sig, swSecretPrefix) {
			return
		}
		secret := p.secret(key)
		vr, err := New(p.cfg, [][]byte{p.secret(currentKey), secret})
		if err != nil {
			if errors.Is(err, ErrInvalidConfig) {
				return // e.g. a bearer token with a space
			}
			t.Fatalf("New with fuzzed secret: %v", err)
		}
		vr.Now = fixedClock
		if err := vr.Verify(p.sign(key, body, testNow), body); err != nil {
			t.Fatalf("valid %s request with fuzzed secret: %v", p.cfg.Preset, err)
		}
		signed, err := Sign(p.cfg, secret, "", testNow, body)
		if err != nil {
			t.Fatalf("Sign with a secret New accepted: %v", err)
		}
		if err := vr.Verify(signed, body); err != nil {
			t.Fatalf("Verify(Sign(...)) %s with fuzzed secret: %v", p.cfg.Preset, err)
		}
	})
}

package verify

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// fuzzPresets is the order a fuzz input's first byte picks from.
// New presets are appended so the seed corpus keeps its meaning.
var fuzzPresets = []string{
	PresetGitHub, PresetShopify, PresetSlack, PresetTalkJS, PresetStripe,
	PresetStandardWebhooks, PresetBasic, PresetBearer, PresetHMAC,
	PresetGitLab, PresetGitLabSigning, PresetBitbucket, PresetCircleCI, PresetSentry,
	PresetPagerDuty, PresetGrafana, PresetPaddle, PresetTwilio, PresetZoom,
	PresetTwitch, PresetJira, PresetLinear, PresetZendesk, PresetCalendly,
	PresetTypeform, PresetIntercom, PresetVercel,
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
		h.Set("Twitch-Eventsub-Message-Id", id)
		h.Set("Svix-Signature", sig)
		h.Set("Svix-Timestamp", ts)
		h.Set("Svix-Id", id)
		for _, hh := range []http.Header{h, lowerKeys(h)} {
			for _, u := range []string{"", id, "https://h.example/" + ts} {
				r := Request{Header: hh, Body: body, URL: u}
				if err := v.VerifyRequest(r); err != nil && !errors.Is(err, ErrUnverified) {
					t.Fatalf("Verify error %v does not wrap ErrUnverified", err)
				}
			}
		}

		if p.cfg.Preset == PresetLinear && linearBodyTimestamp(body) {
			return // freshness then comes from the fuzzed body, not the clock
		}
		// Valid: a request signed with the configured secret verifies.
		if err := v.VerifyRequest(p.request(p.sign(currentKey, body, testNow), body)); err != nil {
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
		if err := vr.VerifyRequest(p.request(p.sign(key, body, testNow), body)); err != nil {
			t.Fatalf("valid %s request with fuzzed secret: %v", p.cfg.Preset, err)
		}
		signed, err := signWith(p, secret, "", testNow, body)
		if err != nil {
			t.Fatalf("Sign with a secret New accepted: %v", err)
		}
		if err := vr.VerifyRequest(p.request(signed, body)); err != nil {
			t.Fatalf("Verify(Sign(...)) %s with fuzzed secret: %v", p.cfg.Preset, err)
		}
	})
}

// linearBodyTimestamp reports whether body carries Linear's signed
// webhookTimestamp, which the linear preset prefers to its header.
func linearBodyTimestamp(body []byte) bool {
	var b struct {
		WebhookTimestamp json.Number `json:"webhookTimestamp"`
	}
	return json.Unmarshal(body, &b) == nil && b.WebhookTimestamp != ""
}

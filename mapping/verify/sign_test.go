package verify

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSignVectors(t *testing.T) {
	h, err := Sign(Config{Preset: PresetGitHub}, []byte("It's a Secret to Everybody"), "", time.Time{}, []byte("Hello, World!"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("X-Hub-Signature-256"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; got != want {
		t.Errorf("github: %s, want %s", got, want)
	}
	h, err = Sign(Config{Preset: PresetSlack}, []byte(slackDocSecret), "", time.Unix(slackDocTimestamp, 0), []byte(slackDocBody))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("X-Slack-Signature"); got != slackDocSignature {
		t.Errorf("slack: %s, want %s", got, slackDocSignature)
	}
	h, err = Sign(Config{Preset: PresetStandardWebhooks}, []byte(swDocSecret), swDocID, time.Unix(1614265330, 0), []byte(swDocBody))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("webhook-signature"); got != swDocSignature {
		t.Errorf("standard-webhooks: %s, want %s", got, swDocSignature)
	}
	h, err = Sign(Config{Preset: PresetTalkJS}, []byte("sk_test_example"), "", testNow, []byte(`{"type":"message.sent"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("X-TalkJS-Signature"); got != talkjsExampleSignature {
		t.Errorf("talkjs: %s, want %s", got, talkjsExampleSignature)
	}
}

func TestSignRoundTrip(t *testing.T) {
	body := []byte(`{"round":"trip"}`)
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			p, ok := presets[name]
			if name == PresetNone {
				p = preset{cfg: Config{Preset: PresetNone}, secret: rawSecret}
			} else if !ok {
				t.Fatalf("no test preset for %s", name)
			}
			secret := p.secret(currentKey)
			var secrets [][]byte
			if name != PresetNone {
				secrets = [][]byte{secret}
			}
			v, err := New(p.cfg, secrets)
			if err != nil {
				t.Fatal(err)
			}
			v.Now = fixedClock
			h, err := signWith(p, secret, "", testNow, body)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if err := v.VerifyRequest(p.request(h, body)); err != nil {
				t.Fatalf("Verify(Sign(...)): %v", err)
			}
			if name == PresetNone {
				return
			}
			// And the other way: Sign agrees with the independent test signer.
			if err := v.VerifyRequest(p.request(p.sign(currentKey, body, testNow), body)); err != nil {
				t.Fatalf("Verify(test signer): %v", err)
			}
			if p.bodyBound {
				tampered := append(slices.Clone(body), '!')
				r := p.request(h, tampered)
				if p.url != nil {
					r.URL = p.url(body) // the URL Twilio signed
				}
				if err := v.VerifyRequest(r); !errors.Is(err, ErrSignatureMismatch) {
					t.Fatalf("tampered: %v, want ErrSignatureMismatch", err)
				}
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		secret []byte
		want   error
	}{
		{"empty secret", Config{Preset: PresetGitHub}, nil, ErrEmptySecret},
		{"unknown preset", Config{Preset: "x"}, []byte("s"), ErrUnknownPreset},
		{"bad whsec", Config{Preset: PresetStandardWebhooks}, []byte("whsec_!!"), ErrInvalidConfig},
		{"bearer with space", Config{Preset: PresetBearer}, []byte("a b"), ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Sign(tc.cfg, tc.secret, "", testNow, nil); !errors.Is(err, tc.want) {
				t.Fatalf("Sign: %v, want %v", err, tc.want)
			}
		})
	}
}

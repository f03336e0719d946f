package verify

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	one := []string{"main"}
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string // "" means valid
		want  error
	}{
		{"github", Config{Preset: PresetGitHub, Secrets: one}, "", nil},
		{"stripe with tolerance", Config{Preset: PresetStripe, Secrets: one, Tolerance: time.Minute}, "", nil},
		{"standard-webhooks, rotation", Config{Preset: PresetStandardWebhooks, Secrets: []string{"a", "b"}}, "", nil},
		{"basic", Config{Preset: PresetBasic, Secrets: one, Username: "am"}, "", nil},
		{"none", Config{Preset: PresetNone}, "", nil},
		{"hmac minimal", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig"}, "", nil},
		{"hmac full", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Prefix: "sha1=", Algorithm: "SHA1",
			Encoding: "base64", Signed: "v1:{timestamp}:{body}", TimestampHeader: "X-Ts", Tolerance: time.Minute}, "", nil},

		{"no preset", Config{Secrets: one}, "preset", ErrUnknownPreset},
		{"unknown preset", Config{Preset: "gitlub", Secrets: one}, "preset", ErrUnknownPreset},
		{"grafana with its header names", Config{Preset: PresetGrafana, Secrets: one, Header: "X-Sig", TimestampHeader: "X-Ts", Tolerance: time.Minute}, "", nil},
		{"grafana with a prefix", Config{Preset: PresetGrafana, Secrets: one, Prefix: "sha256="}, "prefix", ErrInvalidConfig},
		{"grafana bad header name", Config{Preset: PresetGrafana, Secrets: one, Header: "X Sig"}, "header", ErrInvalidConfig},
		{"header on twitch", Config{Preset: PresetTwitch, Secrets: one, Header: "X-Other"}, "header", ErrInvalidConfig},
		{"paddle with tolerance", Config{Preset: PresetPaddle, Secrets: one, Tolerance: time.Minute}, "", nil},
		{"tolerance on twilio", Config{Preset: PresetTwilio, Secrets: one, Tolerance: time.Minute}, "tolerance", ErrInvalidConfig},
		{"no secrets", Config{Preset: PresetGitHub}, "secrets", ErrEmptySecret},
		{"empty secret name", Config{Preset: PresetGitHub, Secrets: []string{"a", " "}}, "secrets[1]", ErrEmptySecret},
		{"none with secrets", Config{Preset: PresetNone, Secrets: one}, "secrets", ErrInvalidConfig},
		{"header on a preset", Config{Preset: PresetGitHub, Secrets: one, Header: "X-Other"}, "header", ErrInvalidConfig},
		{"algorithm on a preset", Config{Preset: PresetShopify, Secrets: one, Algorithm: "sha1"}, "algorithm", ErrInvalidConfig},
		{"tolerance on an untimed preset", Config{Preset: PresetGitHub, Secrets: one, Tolerance: time.Minute}, "tolerance", ErrInvalidConfig},
		{"negative tolerance", Config{Preset: PresetSlack, Secrets: one, Tolerance: -time.Second}, "tolerance", ErrInvalidConfig},
		{"basic without username", Config{Preset: PresetBasic, Secrets: one}, "username", ErrInvalidConfig},
		{"basic username with colon", Config{Preset: PresetBasic, Secrets: one, Username: "a:b"}, "username", ErrInvalidConfig},
		{"username on bearer", Config{Preset: PresetBearer, Secrets: one, Username: "a"}, "username", ErrInvalidConfig},
		{"hmac without header", Config{Preset: PresetHMAC, Secrets: one}, "header", ErrInvalidConfig},
		{"hmac bad header name", Config{Preset: PresetHMAC, Secrets: one, Header: "X Sig"}, "header", ErrInvalidConfig},
		{"hmac md5", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Algorithm: "md5"}, "algorithm", ErrInvalidConfig},
		{"hmac base32", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Encoding: "base32"}, "encoding", ErrInvalidConfig},
		{"hmac signed without body", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Signed: "{timestamp}", TimestampHeader: "X-Ts"}, "signed", ErrInvalidConfig},
		{"hmac signed body twice", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Signed: "{body}{body}"}, "signed", ErrInvalidConfig},
		{"hmac unknown placeholder", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Signed: "{id}.{body}"}, "signed", ErrInvalidConfig},
		{"hmac unclosed brace", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Signed: "{body"}, "signed", ErrInvalidConfig},
		{"hmac timestamp without header", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Signed: "{timestamp}.{body}"}, "timestampHeader", ErrInvalidConfig},
		{"hmac unsigned timestamp", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", TimestampHeader: "X-Ts"}, "signed", ErrInvalidConfig},
		{"hmac tolerance without timestamp", Config{Preset: PresetHMAC, Secrets: one, Header: "X-Sig", Tolerance: time.Minute}, "tolerance", ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate: %v, want %v", err, tc.want)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("Validate: %v, want a ConfigError on field %q", err, tc.field)
			}
			if !strings.HasPrefix(err.Error(), "verify."+tc.field+": ") {
				t.Fatalf("message %q does not name verify.%s", err, tc.field)
			}
			if errors.Is(err, ErrUnverified) {
				t.Fatalf("config error %v wraps ErrUnverified", err)
			}
		})
	}
}

func TestNewFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		secrets [][]byte
		want    error
	}{
		{"no secrets", Config{Preset: PresetGitHub}, nil, ErrEmptySecret},
		{"empty secret", Config{Preset: PresetGitHub}, [][]byte{[]byte("ok"), {}}, ErrEmptySecret},
		{"empty secret, basic", Config{Preset: PresetBasic, Username: "u"}, [][]byte{nil}, ErrEmptySecret},
		{"whsec_ not base64", Config{Preset: PresetStandardWebhooks}, [][]byte{[]byte("whsec_!!not-base64!!")}, ErrInvalidConfig},
		{"whsec_ decodes to nothing", Config{Preset: PresetStandardWebhooks}, [][]byte{[]byte("whsec_")}, ErrEmptySecret},
		{"gitlab-signing whsec_ not base64", Config{Preset: PresetGitLabSigning}, [][]byte{[]byte("whsec_!!not-base64!!")}, ErrInvalidConfig},
		{"gitlab token with a newline", Config{Preset: PresetGitLab}, [][]byte{[]byte("gl-token-value\n")}, ErrInvalidConfig},
		{"gitlab token with a leading space", Config{Preset: PresetGitLab}, [][]byte{[]byte(" gl-token-value")}, ErrInvalidConfig},
		{"unknown preset", Config{Preset: "nope"}, [][]byte{[]byte("x")}, ErrUnknownPreset},
		{"missing preset", Config{}, nil, ErrUnknownPreset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := New(tc.cfg, tc.secrets)
			if !errors.Is(err, tc.want) || v != nil {
				t.Fatalf("New: (%v, %v), want (nil, %v)", v, err, tc.want)
			}
			for _, s := range tc.secrets {
				if len(s) > 6 && strings.Contains(err.Error(), string(s)) {
					t.Fatalf("error %q contains the secret", err)
				}
			}
		})
	}
}

func TestNewWithoutSecretNames(t *testing.T) {
	// New needs values, not names: a caller may build a Config in code.
	if _, err := New(Config{Preset: PresetGitHub}, [][]byte{[]byte("s")}); err != nil {
		t.Fatalf("New: %v", err)
	}
}

func TestPresets(t *testing.T) {
	got := Presets()
	want := []string{"basic", "bearer", "bitbucket", "calendly", "circleci", "github", "gitlab", "gitlab-signing",
		"grafana", "hmac", "intercom", "jira", "linear", "none", "paddle", "pagerduty", "sentry", "shopify", "slack",
		"standard-webhooks", "stripe", "talkjs", "twilio", "twitch", "typeform", "vercel", "zendesk", "zoom"}
	if !slices.Equal(got, want) {
		t.Fatalf("Presets() = %v, want %v", got, want)
	}
	for _, name := range got {
		cfg := Config{Preset: name, Secrets: []string{"s"}}
		switch name {
		case PresetNone:
			cfg.Secrets = nil
		case PresetBasic:
			cfg.Username = "u"
		case PresetHMAC:
			cfg.Header = "X-Sig"
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("preset %s: Validate: %v", name, err)
		}
	}
}

func TestUnmarshalText(t *testing.T) {
	var c Config
	if err := c.UnmarshalText([]byte(" none ")); err != nil {
		t.Fatal(err)
	}
	if c.Preset != PresetNone || c.Validate() != nil {
		t.Fatalf("verify: none decoded to %+v (Validate: %v)", c, c.Validate())
	}
	c = Config{}
	if err := c.UnmarshalText([]byte("github")); err != nil {
		t.Fatal(err)
	}
	// A bare preset name without secrets still fails validation: fail closed.
	if err := c.Validate(); !errors.Is(err, ErrEmptySecret) {
		t.Fatalf("verify: github without secrets: %v, want ErrEmptySecret", err)
	}
}

func TestUnmarshalJSON(t *testing.T) {
	var r struct{ A, B Config }
	err := json.Unmarshal([]byte(`{"A":"none","B":{"preset":"stripe","secrets":["s"],"tolerance":"2m","timestampHeader":"X"}}`), &r)
	if err != nil {
		t.Fatal(err)
	}
	if r.A.Preset != PresetNone || r.B.Preset != PresetStripe || r.B.Tolerance != 2*time.Minute ||
		r.B.TimestampHeader != "X" || !slices.Equal(r.B.Secrets, []string{"s"}) {
		t.Fatalf("decoded %+v", r)
	}
	var c Config
	if err := json.Unmarshal([]byte(`{"preset":"slack","tolerance":"soon"}`), &c); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad tolerance: %v, want ErrInvalidConfig", err)
	}
}

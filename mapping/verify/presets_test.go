package verify

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The reference libraries' edge cases, one test per sender.

// The reference library's TestWebhookPrefix: the same secret with and
// without whsec_ verifies the same request.
func TestStandardWebhooksBareSecret(t *testing.T) {
	bare := strings.TrimPrefix(swDocSecret, swSecretPrefix)
	for form, secret := range map[string]string{"prefixed": swDocSecret, "bare": bare} {
		for _, preset := range []string{PresetStandardWebhooks, PresetGitLabSigning} {
			t.Run(preset+"/"+form, func(t *testing.T) {
				v := verifier(t, preset, time.Unix(1614265330, 0), secret)
				h := http.Header{"Webhook-Id": {swDocID}, "Webhook-Timestamp": {swDocTimestamp}, "Webhook-Signature": {swDocSignature}}
				wantErr(t, "doc vector", v.Verify(h, []byte(swDocBody)), nil)
				wantErr(t, "tampered", v.Verify(h, []byte(swDocBody+" ")), ErrSignatureMismatch)
			})
		}
	}
	// Sign keys a bare secret the way the reference signs it.
	h, err := Sign(Config{Preset: PresetStandardWebhooks}, []byte(bare), swDocID, time.Unix(1614265330, 0), []byte(swDocBody))
	if err != nil || h.Get("Webhook-Signature") != swDocSignature {
		t.Fatalf("Sign with a bare secret: %q, %v", h.Get("Webhook-Signature"), err)
	}
}

// A bare secret that happens to be base64 still verifies a sender that
// keyed with its raw bytes (the reference library's NewWebhookRaw).
func TestStandardWebhooksBareBase64SecretUsedRaw(t *testing.T) {
	secret := []byte("c2VjcmV0LWtleS0xMjM0NTY=")
	body := []byte(`{"type":"ping"}`)
	ts := strconv.FormatInt(testNow.Unix(), 10)
	h := http.Header{"Webhook-Id": {"msg_raw"}, "Webhook-Timestamp": {ts},
		"Webhook-Signature": {"v1," + base64.StdEncoding.EncodeToString(mac(sha256.New, secret, "msg_raw.", ts, ".", string(body)))}}
	wantErr(t, "raw-keyed", verifier(t, PresetStandardWebhooks, testNow, string(secret)).Verify(h, body), nil)
	wantErr(t, "raw key, whsec_ secret", verifier(t, PresetStandardWebhooks, testNow, "whsec_"+string(secret)).Verify(h, body), ErrSignatureMismatch)
}

func TestStandardWebhooksTokens(t *testing.T) {
	v := verifier(t, PresetStandardWebhooks, time.Unix(1614265330, 0), swDocSecret)
	for _, tc := range []struct {
		name, sig string
		want      error
	}{
		{"a token without a comma is skipped", "garbage " + swDocSignature, nil},
		{"after the valid one too", swDocSignature + " v1", nil},
		{"an unknown version and a comma-less token", "v2,abc nocomma " + swDocSignature, nil},
		{"only comma-less tokens", "nocomma alsonocomma", ErrMalformedSignature},
		{"only other versions", "v1a,c29tZQ== v2,abc", ErrMissingSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Webhook-Id": {swDocID}, "Webhook-Timestamp": {swDocTimestamp}, "Webhook-Signature": {tc.sig}}
			wantErr(t, tc.sig, v.Verify(h, []byte(swDocBody)), tc.want)
		})
	}
}

func TestGitLabSigningNoSvixNames(t *testing.T) {
	p := presets[PresetGitLabSigning]
	v := newVerifier(t, p, currentKey)
	body := []byte(`{"object_kind":"push"}`)
	svix := http.Header{}
	for k, vs := range p.sign(currentKey, body, testNow) {
		svix[strings.Replace(k, "Webhook-", "Svix-", 1)] = vs
	}
	wantErr(t, "svix- names", v.Verify(svix, body), ErrMissingSignature)
}

// stripe-go refuses only timestamps older than its tolerance; this preset
// also refuses those further ahead than it, and accepts any within.
func TestStripeTimestampAhead(t *testing.T) {
	p := presets[PresetStripe]
	v := newVerifier(t, p, currentKey)
	body := []byte(`{"id":"evt_1"}`)
	for _, tc := range []struct {
		ahead time.Duration
		want  error
	}{
		{time.Second, nil},
		{4 * time.Minute, nil},
		{5 * time.Minute, nil},
		{5*time.Minute + time.Second, ErrTimestampInFuture},
		{24 * time.Hour, ErrTimestampInFuture},
	} {
		wantErr(t, tc.ahead.String()+" ahead", v.Verify(p.sign(currentKey, body, testNow.Add(tc.ahead)), body), tc.want)
	}
}

func TestShopifyBothSpellings(t *testing.T) {
	body := []byte(`{"id":820982911946154508}`)
	sig := base64.StdEncoding.EncodeToString(mac(sha256.New, currentKey, string(body)))
	v := newVerifier(t, presets[PresetShopify], oldKey, currentKey)
	for _, name := range []string{"X-Shopify-Hmac-Sha256", "Shopify-Hmac-Sha256", "shopify-hmac-sha256"} {
		t.Run(name, func(t *testing.T) {
			h := http.Header{name: {sig}}
			wantErr(t, name, v.Verify(h, body), nil)
			wantErr(t, name+" tampered", v.Verify(h, append(body, ' ')), ErrSignatureMismatch)
		})
	}
	// The older spelling wins when both are present.
	h := http.Header{"X-Shopify-Hmac-Sha256": {strings.Repeat("A", 43) + "="}, "Shopify-Hmac-Sha256": {sig}}
	wantErr(t, "both, X- wrong", v.Verify(h, body), ErrSignatureMismatch)
}

func TestSentryLegacyHeader(t *testing.T) {
	body := []byte(`{"action":"triggered"}`)
	v := newVerifier(t, presets[PresetSentry], currentKey)
	h := http.Header{"Sentry-App-Signature": {hexMAC(currentKey, string(body))}}
	wantErr(t, "legacy header", v.Verify(h, body), nil)
	wantErr(t, "empty body", v.Verify(http.Header{"Sentry-Hook-Signature": {hexMAC(currentKey, "")}}, nil), nil)
}

func TestCircleCILatestVersionOnly(t *testing.T) {
	body := []byte(`{"type":"workflow-completed"}`)
	good := "v1=" + hexMAC(currentKey, string(body))
	v := newVerifier(t, presets[PresetCircleCI], currentKey)
	for _, tc := range []struct {
		name, header string
		want         error
	}{
		{"v1 alone", good, nil},
		{"two v1, the second good", "v1=" + strings.Repeat("00", 32) + "," + good, nil},
		{"a newer version beside a good v1 is not downgraded", good + ",v2=" + strings.Repeat("ab", 32), ErrMalformedSignature},
		{"newer version first", "v2=" + strings.Repeat("ab", 32) + "," + good, ErrMalformedSignature},
		{"not versioned", "sha256=" + hexMAC(currentKey, string(body)), ErrMalformedSignature},
		{"v0", "v0=abcd", ErrMalformedSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.header, v.Verify(http.Header{"Circleci-Signature": {tc.header}}, body), tc.want)
		})
	}
}

// Grafana sends a timestamp only when configured to; a route without
// timestampHeader reads the default header when present.
func TestGrafanaOptionalTimestamp(t *testing.T) {
	body := []byte(`{"status":"firing"}`)
	ts := strconv.FormatInt(testNow.Unix(), 10)
	v := verifier(t, PresetGrafana, testNow, string(currentKey))
	timed := hexMAC(currentKey, ts+":"+string(body))
	for _, tc := range []struct {
		name string
		h    http.Header
		want error
	}{
		{"body only", http.Header{"X-Grafana-Alerting-Signature": {hexMAC(currentKey, string(body))}}, nil},
		{"with timestamp", http.Header{"X-Grafana-Alerting-Signature": {timed}, "X-Grafana-Alerting-Timestamp": {ts}}, nil},
		{"timestamp dropped", http.Header{"X-Grafana-Alerting-Signature": {timed}}, ErrSignatureMismatch},
		{"stale", http.Header{
			"X-Grafana-Alerting-Signature": {hexMAC(currentKey, "1700000000:"+string(body))},
			"X-Grafana-Alerting-Timestamp": {"1700000000"},
		}, ErrTimestampTooOld},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, v.Verify(tc.h, body), tc.want) })
	}
	// Custom header names from the route.
	c := Config{Preset: PresetGrafana, Header: "X-Sig", TimestampHeader: "X-Ts"}
	vc, err := New(c, [][]byte{currentKey})
	if err != nil {
		t.Fatal(err)
	}
	vc.Now = fixedClock
	wantErr(t, "custom names", vc.Verify(http.Header{"X-Sig": {timed}, "X-Ts": {ts}}, body), nil)
	wantErr(t, "custom timestamp required", vc.Verify(http.Header{"X-Sig": {hexMAC(currentKey, string(body))}}, body), ErrMissingTimestamp)
}

func TestTwitchMessageIDAndTolerance(t *testing.T) {
	p := presets[PresetTwitch]
	v := newVerifier(t, p, currentKey)
	body := []byte(`{"subscription":{"type":"stream.online"}}`)
	h := p.sign(currentKey, body, testNow)
	h.Set(twitchMessageID, "another-id")
	wantErr(t, "other id", v.Verify(h, body), ErrSignatureMismatch)
	h.Del(twitchMessageID)
	wantErr(t, "no id", v.Verify(h, body), ErrMissingSignature)
	wantErr(t, "9 minutes old", v.Verify(p.sign(currentKey, body, testNow.Add(-9*time.Minute)), body), nil)
	wantErr(t, "11 minutes old", v.Verify(p.sign(currentKey, body, testNow.Add(-11*time.Minute)), body), ErrTimestampTooOld)
	unix := p.sign(currentKey, body, testNow)
	unix.Set("Twitch-Eventsub-Message-Timestamp", strconv.FormatInt(testNow.Unix(), 10))
	wantErr(t, "Unix timestamp", v.Verify(unix, body), ErrMalformedSignature)
}

// Linear signs the body only; its webhookTimestamp is what proves age.
func TestLinearBodyTimestamp(t *testing.T) {
	v := newVerifier(t, presets[PresetLinear], currentKey)
	for _, tc := range []struct {
		name   string
		bodyTS time.Time
		header time.Time
		want   error
	}{
		{"fresh body, no header", testNow.Add(-30 * time.Second), time.Time{}, nil},
		{"stale body, fresh header", testNow.Add(-2 * time.Minute), testNow, ErrTimestampTooOld},
		{"body 61 s ahead", testNow.Add(61 * time.Second), time.Time{}, ErrTimestampInFuture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(`{"action":"create","webhookTimestamp":` + strconv.FormatInt(tc.bodyTS.UnixMilli(), 10) + `}`)
			h := http.Header{"Linear-Signature": {hexMAC(currentKey, string(body))}}
			if !tc.header.IsZero() {
				h.Set("Linear-Timestamp", strconv.FormatInt(tc.header.UnixMilli(), 10))
			}
			wantErr(t, tc.name, v.Verify(h, body), tc.want)
		})
	}
	body := []byte(`{"action":"create"}`)
	wantErr(t, "no timestamp anywhere", v.Verify(http.Header{"Linear-Signature": {hexMAC(currentKey, string(body))}}, body), ErrMissingTimestamp)
}

func TestZendeskTimestampForms(t *testing.T) {
	v := newVerifier(t, presets[PresetZendesk], currentKey)
	body := []byte(`{"type":"zen:event-type:ticket.created"}`)
	for _, ts := range []string{testNow.Format(time.RFC3339), strconv.FormatInt(testNow.Unix(), 10)} {
		h := http.Header{
			"X-Zendesk-Webhook-Signature":           {base64.StdEncoding.EncodeToString(mac(sha256.New, currentKey, ts, string(body)))},
			"X-Zendesk-Webhook-Signature-Timestamp": {ts},
		}
		wantErr(t, ts, v.Verify(h, body), nil)
	}
	// An empty body (Zendesk's GET and DELETE requests) signs the timestamp alone.
	ts := testNow.Format(time.RFC3339)
	h := http.Header{
		"X-Zendesk-Webhook-Signature":           {base64.StdEncoding.EncodeToString(mac(sha256.New, currentKey, ts))},
		"X-Zendesk-Webhook-Signature-Timestamp": {ts},
	}
	wantErr(t, "empty body", v.Verify(h, nil), nil)
}

func TestZoomURLValidation(t *testing.T) {
	p := presets[PresetZoom]
	v := newVerifier(t, p, oldKey, currentKey)
	body := []byte(`{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`)
	want := hex.EncodeToString(mac(sha256.New, currentKey, "qgg8vlvZRS6UYooatFL8Aw"))
	got, err := v.ZoomEncryptedToken(Request{Header: p.sign(currentKey, body, testNow), Body: body}, "qgg8vlvZRS6UYooatFL8Aw")
	if err != nil || got != want {
		t.Fatalf("encryptedToken %q, %v; want the HMAC under the secret that signed", got, err)
	}
	if ZoomEncryptedToken(currentKey, "qgg8vlvZRS6UYooatFL8Aw") != want {
		t.Fatal("ZoomEncryptedToken disagrees with the independent HMAC")
	}
	if _, err := v.ZoomEncryptedToken(Request{Header: p.sign(otherKey, body, testNow), Body: body}, "x"); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("unsigned handshake: %v, want ErrSignatureMismatch", err)
	}
	gh := newVerifier(t, presets[PresetGitHub], currentKey)
	if _, err := gh.ZoomEncryptedToken(Request{}, "x"); !errors.Is(err, ErrNotZoom) {
		t.Fatalf("github verifier: %v, want ErrNotZoom", err)
	}
}

// Twilio's SMS form body from the fixtures, signed as Twilio signs it.
func TestTwilioFormFixture(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(senders, "twilio", "sms-received.form"))
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.TrimSpace(string(body)))
	const public = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/webhook/twilio"
	h, err := SignTwilio(currentKey, public, body)
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, presets[PresetTwilio], currentKey)
	wantErr(t, "fixture", v.VerifyRequest(Request{Header: h, Body: body, URL: public}), nil)
	wantErr(t, "with :443", v.VerifyRequest(Request{Header: h, Body: body, URL: strings.Replace(public, ".com/", ".com:443/", 1)}), nil)
	wantErr(t, "another stage", v.VerifyRequest(Request{Header: h, Body: body, URL: strings.Replace(public, "/prod/", "/dev/", 1)}), ErrSignatureMismatch)
	wantErr(t, "relative URL", v.VerifyRequest(Request{Header: h, Body: body, URL: "/prod/webhook/twilio"}), ErrMissingURL)
	tampered := []byte(strings.Replace(string(body), "Body=twilio-go", "Body=twilio-no", 1))
	wantErr(t, "tampered", v.VerifyRequest(Request{Header: h, Body: tampered, URL: public}), ErrSignatureMismatch)
}

func TestGitLabTokenFixtureHeaders(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(senders, "gitlab", "push.headers"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for line := range strings.Lines(string(raw)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
			h.Add(k, v)
		}
	}
	// GitLab's docs redact the token; the real header is parsed and refused.
	v := newVerifier(t, presets[PresetGitLab], currentKey)
	wantErr(t, "redacted token", v.Verify(h, nil), ErrSignatureMismatch)
	h.Set("X-Gitlab-Token", string(currentKey))
	wantErr(t, "the token", v.Verify(h, nil), nil)
}

func TestDeliveryID(t *testing.T) {
	for _, tc := range []struct {
		preset, header string
	}{
		{PresetStandardWebhooks, "webhook-id"},
		{PresetGitLabSigning, "webhook-id"},
		{PresetTwitch, "Twitch-Eventsub-Message-Id"},
		{PresetGitHub, ""}, {PresetStripe, ""}, {PresetPaddle, ""}, {PresetShopify, ""},
		{PresetGitLab, ""}, {PresetPagerDuty, ""}, {PresetZoom, ""}, {PresetNone, ""},
	} {
		if got := (Config{Preset: tc.preset}).DeliveryIDHeader(); got != tc.header {
			t.Errorf("%s: DeliveryIDHeader %q, want %q", tc.preset, got, tc.header)
		}
	}
	// Every preset naming one signs it: changing the header's value breaks
	// the signature.
	body := []byte(`{"k":"v"}`)
	for _, name := range Presets() {
		c := Config{Preset: name}
		if c.DeliveryIDHeader() == "" {
			continue
		}
		p := presets[name]
		v := newVerifier(t, p, currentKey)
		h := p.sign(currentKey, body, testNow)
		if c.SignedDeliveryID(h) == "" {
			t.Fatalf("%s: no delivery id in a signed request", name)
		}
		h.Set(c.DeliveryIDHeader(), "replayed-under-a-new-id")
		wantErr(t, name+" with another id", v.Verify(h, body), ErrSignatureMismatch)
	}
	// svix- names: the id comes from svix-id.
	c := Config{Preset: PresetStandardWebhooks}
	if got := c.SignedDeliveryID(http.Header{"Svix-Id": {"msg_svix"}, "Svix-Signature": {"v1,x"}}); got != "msg_svix" {
		t.Fatalf("svix: %q", got)
	}
	if got := c.SignedDeliveryID(http.Header{"Webhook-Id": {"msg_std"}, "Webhook-Signature": {"v1,x"}, "Svix-Id": {"msg_svix"}}); got != "msg_std" {
		t.Fatalf("webhook- names win: %q", got)
	}
	if (Config{Preset: PresetGitHub}).SignedDeliveryID(http.Header{"X-Github-Delivery": {"d"}}) != "" {
		t.Fatal("github signs no delivery id")
	}
}

func TestNeedsURLAndSignsTimestamp(t *testing.T) {
	for _, name := range Presets() {
		c := Config{Preset: name}
		if got := c.NeedsURL(); got != (name == PresetTwilio) {
			t.Errorf("%s: NeedsURL %v", name, got)
		}
		p, ok := presets[name]
		if !ok {
			continue
		}
		if got := p.cfg.SignsTimestamp(); got != p.timed {
			t.Errorf("%s: SignsTimestamp %v, test preset says %v", name, got, p.timed)
		}
	}
	if (Config{Preset: PresetGrafana}).SignsTimestamp() {
		t.Error("grafana without timestampHeader: SignsTimestamp true")
	}
}

// TestSignAgreesWithSignsTimestamp: what Sign writes must match what
// SignsTimestamp says, or a tool that re-signs only timestamped events
// (localrun) leaves a stale timestamp in place and the event answers 401.
// Grafana sends a timestamp only when one is configured.
func TestSignAgreesWithSignsTimestamp(t *testing.T) {
	body := []byte(`{"status":"firing"}`)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"grafana default", Config{Preset: PresetGrafana}},
		{"grafana with a timestamp header", Config{Preset: PresetGrafana, TimestampHeader: "X-Grafana-Alerting-Timestamp"}},
		{"talkjs", Config{Preset: PresetTalkJS}},
		{"github", Config{Preset: PresetGitHub}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Sign(tc.cfg, []byte("grafana-test-key"), "", testNow, body)
			if err != nil {
				t.Fatal(err)
			}
			stamped := false
			for k := range h {
				if strings.Contains(strings.ToLower(k), "timestamp") {
					stamped = true
				}
			}
			if stamped != tc.cfg.SignsTimestamp() {
				t.Fatalf("Sign wrote a timestamp: %v; SignsTimestamp: %v (headers %v)", stamped, tc.cfg.SignsTimestamp(), h)
			}
			v, err := New(tc.cfg, [][]byte{[]byte("grafana-test-key")})
			if err != nil {
				t.Fatal(err)
			}
			v.Now = fixedClock
			if err := v.Verify(h, body); err != nil {
				t.Fatalf("Verify of what Sign wrote: %v", err)
			}
		})
	}
}

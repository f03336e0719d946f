package verify

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test signers below are written from each sender's documentation,
// independently of the verifiers, so a shared mistake cannot pass silently.

func mac(h func() hash.Hash, key []byte, pieces ...string) []byte {
	m := hmac.New(h, key)
	for _, p := range pieces {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// preset describes how to sign a valid request for one preset and which
// headers to break in the table tests.
type preset struct {
	cfg Config
	// secret turns a raw key into the secret value the user would store.
	secret func(key []byte) []byte
	// sign returns headers that authenticate body at time at with key.
	sign func(key, body []byte, at time.Time) http.Header
	// sigHeader is removed for "missing header" and set to garbage for "malformed".
	sigHeader string
	garbage   string
	// tsHeader is removed for "missing timestamp"; "" when the scheme signs no
	// timestamp. stripe keeps it in the signature header (see stripNoT).
	tsHeader  string
	timed     bool
	bodyBound bool
	// garbageWant is what the garbage header fails with; nil means
	// ErrMalformedSignature (a plain token cannot be malformed).
	garbageWant error
	// dropTS and breakTS remove or spoil the timestamp when it lives inside
	// the signature header (stripe, calendly, paddle); nil means tsHeader.
	dropTS, breakTS func(h http.Header)
	// url is the public URL the request was posted to (twilio only).
	url func(body []byte) string
}

// request is what p's verifier is given for headers h and body.
func (p preset) request(h http.Header, body []byte) Request {
	r := Request{Header: h, Body: body}
	if p.url != nil {
		r.URL = p.url(body)
	}
	return r
}

// signWith signs through the package's Sign (or SignTwilio) for p.
func signWith(p preset, secret []byte, id string, at time.Time, body []byte) (http.Header, error) {
	if p.cfg.Preset == PresetTwilio {
		return SignTwilio(secret, p.url(body), body)
	}
	return Sign(p.cfg, secret, id, at, body)
}

// inHeader rewrites the timestamp item of a key=value list header.
func inHeader(name string, re *regexp.Regexp, repl string) func(h http.Header) {
	return func(h http.Header) { h.Set(name, re.ReplaceAllString(h.Get(name), repl)) }
}

func rawSecret(key []byte) []byte { return key }

const swID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"

var presets = map[string]preset{
	PresetGitHub: {
		cfg: Config{Preset: PresetGitHub}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac(sha256.New, key, string(body)))}}
		},
		sigHeader: "X-Hub-Signature-256", garbage: "sha256=not-hex", bodyBound: true,
	},
	PresetShopify: {
		cfg: Config{Preset: PresetShopify}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"X-Shopify-Hmac-Sha256": {base64.StdEncoding.EncodeToString(mac(sha256.New, key, string(body)))}}
		},
		sigHeader: "X-Shopify-Hmac-Sha256", garbage: "%%%not base64", bodyBound: true,
	},
	PresetSlack: {
		cfg: Config{Preset: PresetSlack}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			return http.Header{
				"X-Slack-Signature":         {"v0=" + hex.EncodeToString(mac(sha256.New, key, "v0:", ts, ":", string(body)))},
				"X-Slack-Request-Timestamp": {ts},
			}
		},
		sigHeader: "X-Slack-Signature", garbage: "v1=abcd", tsHeader: "X-Slack-Request-Timestamp", timed: true, bodyBound: true,
	},
	PresetTalkJS: {
		cfg: Config{Preset: PresetTalkJS}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.UnixMilli(), 10)
			return http.Header{
				"X-Talkjs-Signature": {strings.ToUpper(hex.EncodeToString(mac(sha256.New, key, ts, ".", string(body))))},
				"X-Talkjs-Timestamp": {ts},
			}
		},
		sigHeader: "X-TalkJS-Signature", garbage: "ZZZZ", tsHeader: "X-TalkJS-Timestamp", timed: true, bodyBound: true,
	},
	PresetStripe: {
		cfg: Config{Preset: PresetStripe}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			sig := hex.EncodeToString(mac(sha256.New, key, ts, ".", string(body)))
			// A v0 entry and a second, unrelated v1 as Stripe sends while rolling.
			return http.Header{"Stripe-Signature": {fmt.Sprintf("t=%s,v1=%s,v1=%s,v0=%s", ts, strings.Repeat("ab", 32), sig, strings.Repeat("cd", 32))}}
		},
		sigHeader: "Stripe-Signature", garbage: "t=1,v1", tsHeader: "Stripe-Signature", timed: true, bodyBound: true,
		dropTS:  inHeader("Stripe-Signature", regexp.MustCompile(`t=\d+,`), ""),
		breakTS: inHeader("Stripe-Signature", regexp.MustCompile(`t=\d+`), "t=-12"),
	},
	PresetStandardWebhooks: {
		cfg: Config{Preset: PresetStandardWebhooks},
		secret: func(key []byte) []byte {
			return []byte("whsec_" + base64.StdEncoding.EncodeToString(key))
		},
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			sig := base64.StdEncoding.EncodeToString(mac(sha256.New, key, swID, ".", ts, ".", string(body)))
			return http.Header{
				"Webhook-Id":        {swID},
				"Webhook-Timestamp": {ts},
				"Webhook-Signature": {"v1a,c29tZXRoaW5nIGVsc2U= v1," + base64.StdEncoding.EncodeToString(make([]byte, 32)) + " v1," + sig},
			}
		},
		sigHeader: "Webhook-Signature", garbage: "v1;AAAA", tsHeader: "Webhook-Timestamp", timed: true, bodyBound: true,
	},
	PresetBasic: {
		cfg: Config{Preset: PresetBasic, Username: "alertmanager"}, secret: rawSecret,
		sign: func(key, _ []byte, _ time.Time) http.Header {
			return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("alertmanager:"+string(key)))}}
		},
		sigHeader: "Authorization", garbage: "Basic !!!",
	},
	PresetBearer: {
		cfg: Config{Preset: PresetBearer}, secret: rawSecret,
		sign: func(key, _ []byte, _ time.Time) http.Header {
			return http.Header{"Authorization": {"Bearer " + string(key)}}
		},
		sigHeader: "Authorization", garbage: "Token abc",
	},
	PresetHMAC: {
		cfg: Config{
			Preset: PresetHMAC, Header: "X-Signature", Prefix: "sha512=", Algorithm: "sha512",
			Encoding: "base64", Signed: "{timestamp}:{body}", TimestampHeader: "X-Timestamp",
		},
		secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			return http.Header{
				"X-Signature": {"sha512=" + base64.StdEncoding.EncodeToString(mac(sha512.New, key, ts, ":", string(body)))},
				"X-Timestamp": {ts},
			}
		},
		sigHeader: "X-Signature", garbage: "sha512=AAAA", tsHeader: "X-Timestamp", timed: true, bodyBound: true,
	},
	PresetGitLab: {
		cfg: Config{Preset: PresetGitLab}, secret: rawSecret,
		sign: func(key, _ []byte, _ time.Time) http.Header {
			return http.Header{"X-Gitlab-Token": {string(key)}}
		},
		sigHeader: "X-Gitlab-Token", garbage: "not-the-token", garbageWant: ErrSignatureMismatch,
	},
	PresetGitLabSigning: {
		cfg: Config{Preset: PresetGitLabSigning},
		secret: func(key []byte) []byte {
			return []byte("whsec_" + base64.StdEncoding.EncodeToString(key))
		},
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			return http.Header{
				"Webhook-Id":        {"3d8e1a5c-idem"},
				"Webhook-Timestamp": {ts},
				"Webhook-Signature": {"v1," + base64.StdEncoding.EncodeToString(mac(sha256.New, key, "3d8e1a5c-idem.", ts, ".", string(body)))},
			}
		},
		sigHeader: "Webhook-Signature", garbage: "v1;AAAA", tsHeader: "Webhook-Timestamp", timed: true, bodyBound: true,
	},
	PresetBitbucket: {
		cfg: Config{Preset: PresetBitbucket}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"X-Hub-Signature": {"sha256=" + hex.EncodeToString(mac(sha256.New, key, string(body)))}}
		},
		sigHeader: "X-Hub-Signature", garbage: "sha256=not-hex", bodyBound: true,
	},
	PresetJira: {
		cfg: Config{Preset: PresetJira}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"X-Hub-Signature": {"sha256=" + hex.EncodeToString(mac(sha256.New, key, string(body)))}}
		},
		sigHeader: "X-Hub-Signature", garbage: "sha1=abcd", bodyBound: true,
	},
	PresetIntercom: {
		cfg: Config{Preset: PresetIntercom}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"X-Hub-Signature": {"sha1=" + hex.EncodeToString(mac(sha1.New, key, string(body)))}}
		},
		sigHeader: "X-Hub-Signature", garbage: "sha1=" + strings.Repeat("ab", 32), bodyBound: true,
	},
	PresetTypeform: {
		cfg: Config{Preset: PresetTypeform}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"Typeform-Signature": {"sha256=" + base64.StdEncoding.EncodeToString(mac(sha256.New, key, string(body)))}}
		},
		sigHeader: "Typeform-Signature", garbage: "sha256=" + strings.Repeat("ab", 32), bodyBound: true,
	},
	PresetVercel: {
		cfg: Config{Preset: PresetVercel}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"X-Vercel-Signature": {hex.EncodeToString(mac(sha1.New, key, string(body)))}}
		},
		sigHeader: "X-Vercel-Signature", garbage: strings.Repeat("ab", 32), bodyBound: true,
	},
	PresetSentry: {
		cfg: Config{Preset: PresetSentry}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"Sentry-Hook-Signature": {hex.EncodeToString(mac(sha256.New, key, string(body)))}}
		},
		sigHeader: "Sentry-Hook-Signature", garbage: "sha256=abcd", bodyBound: true,
	},
	PresetCircleCI: {
		cfg: Config{Preset: PresetCircleCI}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			return http.Header{"Circleci-Signature": {"v1=" + hex.EncodeToString(mac(sha256.New, key, string(body)))}}
		},
		sigHeader: "Circleci-Signature", garbage: "v1", bodyBound: true,
	},
	PresetPagerDuty: {
		cfg: Config{Preset: PresetPagerDuty}, secret: rawSecret,
		sign: func(key, body []byte, _ time.Time) http.Header {
			// An unrelated v1 first, as during a rotation.
			return http.Header{"X-Pagerduty-Signature": {"v1=" + strings.Repeat("cd", 32) + ",v1=" + hex.EncodeToString(mac(sha256.New, key, string(body)))}}
		},
		sigHeader: "X-PagerDuty-Signature", garbage: "v1=zz", bodyBound: true,
	},
	PresetGrafana: {
		cfg: Config{Preset: PresetGrafana, TimestampHeader: "X-Grafana-Alerting-Timestamp"}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			return http.Header{
				"X-Grafana-Alerting-Signature": {hex.EncodeToString(mac(sha256.New, key, ts, ":", string(body)))},
				"X-Grafana-Alerting-Timestamp": {ts},
			}
		},
		sigHeader: "X-Grafana-Alerting-Signature", garbage: "abcd", tsHeader: "X-Grafana-Alerting-Timestamp", timed: true, bodyBound: true,
	},
	PresetPaddle: {
		cfg: Config{Preset: PresetPaddle}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			return http.Header{"Paddle-Signature": {"ts=" + ts + ";h1=" + strings.Repeat("0", 64) + ";h1=" + hex.EncodeToString(mac(sha256.New, key, ts, ":", string(body)))}}
		},
		sigHeader: "Paddle-Signature", garbage: "ts=1;h1", tsHeader: "Paddle-Signature", timed: true, bodyBound: true,
		dropTS:  inHeader("Paddle-Signature", regexp.MustCompile(`ts=\d+;`), ""),
		breakTS: inHeader("Paddle-Signature", regexp.MustCompile(`ts=\d+`), "ts=1e9"),
	},
	PresetCalendly: {
		cfg: Config{Preset: PresetCalendly}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			return http.Header{"Calendly-Webhook-Signature": {"t=" + ts + ",v1=" + hex.EncodeToString(mac(sha256.New, key, ts, ".", string(body)))}}
		},
		sigHeader: "Calendly-Webhook-Signature", garbage: "t=1,v1", tsHeader: "Calendly-Webhook-Signature", timed: true, bodyBound: true,
		dropTS:  inHeader("Calendly-Webhook-Signature", regexp.MustCompile(`t=\d+,`), ""),
		breakTS: inHeader("Calendly-Webhook-Signature", regexp.MustCompile(`t=\d+`), "t=soon"),
	},
	PresetTwilio: {
		cfg: Config{Preset: PresetTwilio}, secret: rawSecret,
		// The JSON-body form: any body can be signed, through bodySHA256.
		url: func(body []byte) string {
			sum := sha256.Sum256(body)
			return "https://bridge.example.com/prod/webhook/twilio?bodySHA256=" + hex.EncodeToString(sum[:])
		},
		sign: func(key, body []byte, _ time.Time) http.Header {
			sum := sha256.Sum256(body)
			u := "https://bridge.example.com/prod/webhook/twilio?bodySHA256=" + hex.EncodeToString(sum[:])
			return http.Header{"X-Twilio-Signature": {base64.StdEncoding.EncodeToString(mac(sha1.New, key, u))}}
		},
		sigHeader: "X-Twilio-Signature", garbage: "not base64!", bodyBound: true,
	},
	PresetZoom: {
		cfg: Config{Preset: PresetZoom}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := strconv.FormatInt(at.Unix(), 10)
			return http.Header{
				"X-Zm-Signature":         {"v0=" + hex.EncodeToString(mac(sha256.New, key, "v0:", ts, ":", string(body)))},
				"X-Zm-Request-Timestamp": {ts},
			}
		},
		sigHeader: "x-zm-signature", garbage: "v1=abcd", tsHeader: "x-zm-request-timestamp", timed: true, bodyBound: true,
	},
	PresetTwitch: {
		cfg: Config{Preset: PresetTwitch}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := at.UTC().Format("2006-01-02T15:04:05.000000000Z")
			id := "befa7b53-d79d-478f-86b9-120f112b044e"
			return http.Header{
				"Twitch-Eventsub-Message-Id":        {id},
				"Twitch-Eventsub-Message-Timestamp": {ts},
				"Twitch-Eventsub-Message-Signature": {"sha256=" + hex.EncodeToString(mac(sha256.New, key, id, ts, string(body)))},
			}
		},
		sigHeader: "Twitch-Eventsub-Message-Signature", garbage: "sha256=zz", tsHeader: "Twitch-Eventsub-Message-Timestamp", timed: true, bodyBound: true,
	},
	PresetLinear: {
		cfg: Config{Preset: PresetLinear}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			return http.Header{
				"Linear-Signature": {hex.EncodeToString(mac(sha256.New, key, string(body)))},
				"Linear-Timestamp": {strconv.FormatInt(at.UnixMilli(), 10)},
			}
		},
		sigHeader: "linear-signature", garbage: "zz", tsHeader: "linear-timestamp", timed: true, bodyBound: true,
	},
	PresetZendesk: {
		cfg: Config{Preset: PresetZendesk}, secret: rawSecret,
		sign: func(key, body []byte, at time.Time) http.Header {
			ts := at.UTC().Format(time.RFC3339)
			return http.Header{
				"X-Zendesk-Webhook-Signature":           {base64.StdEncoding.EncodeToString(mac(sha256.New, key, ts, string(body)))},
				"X-Zendesk-Webhook-Signature-Timestamp": {ts},
			}
		},
		sigHeader: "X-Zendesk-Webhook-Signature", garbage: "%%%", tsHeader: "X-Zendesk-Webhook-Signature-Timestamp", timed: true, bodyBound: true,
	},
}

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// newVerifier builds a verifier for p over the given raw keys with a fixed clock.
func newVerifier(t testing.TB, p preset, keys ...[]byte) *Verifier {
	t.Helper()
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		secrets[i] = p.secret(k)
	}
	v, err := New(p.cfg, secrets)
	if err != nil {
		t.Fatalf("New(%s): %v", p.cfg.Preset, err)
	}
	v.Now = fixedClock
	return v
}

// lowerKeys copies h with lower-case keys, as an API Gateway v2 event has them.
func lowerKeys(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = vs
	}
	return out
}

func hexMAC(key []byte, msg string) string { return hex.EncodeToString(mac(sha256.New, key, msg)) }

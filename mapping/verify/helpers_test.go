package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
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

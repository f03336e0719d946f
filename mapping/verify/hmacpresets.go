package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"strings"
)

// Presets that are one HMAC in one header, differing only in names,
// encodings and what is signed: configuration of [hmacScheme], not code.
// Each row cites where the layout comes from (see
// testdata/senders/SCHEMES.md for the full citations).

const (
	twitchMessageID = "Twitch-Eventsub-Message-Id"
	grafanaHeader   = "X-Grafana-Alerting-Signature"
	// grafanaTimestamp is the timestamp header Grafana's docs use as the
	// example; Grafana sends one only when it is configured.
	grafanaTimestamp = "X-Grafana-Alerting-Timestamp"
)

// xHubSHA256 is X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>, as
// Bitbucket and Jira send it.
func xHubSHA256() *hmacScheme {
	return &hmacScheme{header: "X-Hub-Signature", prefix: "sha256=", newHash: sha256.New, size: sha256.Size, parts: bodyOnly}
}

func (c Config) hmacScheme() (*hmacScheme, error) {
	switch c.Preset {
	case PresetGitHub:
		// X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>.
		return &hmacScheme{header: "X-Hub-Signature-256", prefix: "sha256=", newHash: sha256.New, size: sha256.Size, parts: bodyOnly}, nil
	case PresetShopify:
		// <base64 HMAC-SHA256 of the raw body>, in X-Shopify-Hmac-Sha256,
		// or Shopify-Hmac-Sha256 on the newer Events deliveries.
		return &hmacScheme{header: "X-Shopify-Hmac-Sha256", alt: []string{"Shopify-Hmac-Sha256"}, newHash: sha256.New, size: sha256.Size, base64: true, parts: bodyOnly}, nil
	case PresetSlack:
		// X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">.
		return &hmacScheme{
			header: "X-Slack-Signature", prefix: "v0=", newHash: sha256.New, size: sha256.Size,
			parts:    []part{{literal: "v0:"}, {kind: timestampPart}, {literal: ":"}, {kind: bodyPart}},
			tsHeader: "X-Slack-Request-Timestamp", tsUnit: seconds,
		}, nil
	case PresetZoom:
		// x-zm-signature: v0=<hex HMAC-SHA256 of "v0:<x-zm-request-timestamp>:<body>">:
		// Slack's layout under Zoom's names (zoom/webhook-sample).
		return &hmacScheme{
			header: "x-zm-signature", prefix: "v0=", newHash: sha256.New, size: sha256.Size,
			parts:    []part{{literal: "v0:"}, {kind: timestampPart}, {literal: ":"}, {kind: bodyPart}},
			tsHeader: "x-zm-request-timestamp", tsUnit: secondsOrMS,
		}, nil
	case PresetTalkJS:
		// X-TalkJS-Signature: <uppercase hex HMAC-SHA256 of "<timestamp>.<body>">.
		// TalkJS's docs do not state the timestamp's unit, so both seconds
		// and milliseconds are read.
		return &hmacScheme{
			header: "X-TalkJS-Signature", newHash: sha256.New, size: sha256.Size, upper: true,
			parts:    []part{{kind: timestampPart}, {literal: "."}, {kind: bodyPart}},
			tsHeader: "X-TalkJS-Timestamp", tsUnit: secondsOrMS,
		}, nil
	case PresetSentry:
		// Sentry-Hook-Signature: <hex HMAC-SHA256 of the body>; Sentry's
		// example app also accepts the legacy Sentry-App-Signature.
		// Sentry-Hook-Timestamp is not signed, so it is not checked.
		return &hmacScheme{header: "Sentry-Hook-Signature", alt: []string{"Sentry-App-Signature"}, newHash: sha256.New, size: sha256.Size, parts: bodyOnly}, nil
	case PresetBitbucket, PresetJira:
		return xHubSHA256(), nil
	case PresetIntercom:
		// X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>.
		return &hmacScheme{header: "X-Hub-Signature", prefix: "sha1=", newHash: sha1.New, size: sha1.Size, parts: bodyOnly}, nil
	case PresetTypeform:
		// Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body>.
		return &hmacScheme{header: "Typeform-Signature", prefix: "sha256=", newHash: sha256.New, size: sha256.Size, base64: true, parts: bodyOnly}, nil
	case PresetVercel:
		// x-vercel-signature: <hex HMAC-SHA1 of the body>.
		return &hmacScheme{header: "x-vercel-signature", newHash: sha1.New, size: sha1.Size, parts: bodyOnly}, nil
	case PresetZendesk:
		// X-Zendesk-Webhook-Signature: base64 HMAC-SHA256 of timestamp+body,
		// no separator (developer.zendesk.com/documentation/webhooks/verifying).
		return &hmacScheme{
			header: "X-Zendesk-Webhook-Signature", newHash: sha256.New, size: sha256.Size, base64: true,
			parts:    []part{{kind: timestampPart}, {kind: bodyPart}},
			tsHeader: "X-Zendesk-Webhook-Signature-Timestamp", tsUnit: unixOrRFC3339,
		}, nil
	case PresetTwitch:
		// Twitch-Eventsub-Message-Signature: sha256=<hex HMAC-SHA256 of
		// message id + timestamp + body>, no separators; RFC 3339 timestamp.
		return &hmacScheme{
			header: "Twitch-Eventsub-Message-Signature", prefix: "sha256=", newHash: sha256.New, size: sha256.Size,
			parts:    []part{{kind: headerPart, literal: twitchMessageID}, {kind: timestampPart}, {kind: bodyPart}},
			tsHeader: "Twitch-Eventsub-Message-Timestamp", tsUnit: rfc3339,
		}, nil
	case PresetGrafana:
		return c.grafana()
	}
	return c.genericHMAC()
}

// grafana is Grafana Alerting's webhook hmacConfig: lower-case hex
// HMAC-SHA256 of [timestamp ":"] body (grafana/alerting http/hmac.go). Both
// header names are set in Grafana, so a route may override them; the
// timestamp is sent only when Grafana has a timestamp header configured.
// With timestampHeader set in the route it is required; without, the
// default name is used when present and the body alone is checked when not.
// Dropping the header cannot forge anything: the signature then covers a
// different string.
func (c Config) grafana() (*hmacScheme, error) {
	if err := checkHeaderNames(c); err != nil {
		return nil, err
	}
	s := &hmacScheme{
		header: grafanaHeader, newHash: sha256.New, size: sha256.Size,
		parts:    []part{{kind: timestampPart}, {literal: ":"}, {kind: bodyPart}},
		tsHeader: grafanaTimestamp, tsUnit: seconds, untimed: bodyOnly,
	}
	if h := strings.TrimSpace(c.Header); h != "" {
		s.header = h
	}
	if h := strings.TrimSpace(c.TimestampHeader); h != "" {
		s.tsHeader, s.untimed = h, nil
	}
	return s, nil
}

package verify

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sign returns the headers a sender configured like c would attach to body,
// signed with secret at time at: what tests, sample events and local demos
// need to send requests a [Verifier] accepts. id is the delivery id for
// schemes that sign one (standard-webhooks and gitlab-signing: webhook-id;
// twitch: Twitch-Eventsub-Message-Id); when empty it is derived from the
// body, and other presets ignore it. Linear's freshness is read from the
// body's webhookTimestamp when it has one, which Sign cannot change; it sets
// linear-timestamp for bodies without it. Twilio signs the URL: use
// [SignTwilio]. It is a pure function.
func Sign(c Config, secret []byte, id string, at time.Time, body []byte) (http.Header, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Preset == PresetNone {
		return http.Header{}, nil
	}
	if len(secret) == 0 {
		return nil, configErr("secrets", ErrEmptySecret, "no secret to sign with")
	}
	if id == "" {
		sum := sha256.Sum256(body)
		id = "msg_" + hex.EncodeToString(sum[:12])
	}
	unix := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	switch c.Preset {
	case PresetStripe:
		h.Set(stripeScheme.header, stripeScheme.sign(secret, unix, body))
	case PresetCalendly:
		h.Set(calendlyScheme.header, calendlyScheme.sign(secret, unix, body))
	case PresetPaddle:
		h.Set(paddleScheme.header, paddleScheme.sign(secret, unix, body))
	case PresetStandardWebhooks, PresetGitLabSigning:
		key, err := swSignKey(secret)
		if err != nil {
			return nil, err
		}
		h.Set(swStandard.id, id)
		h.Set(swStandard.timestamp, unix)
		h.Set(swStandard.signature, "v1,"+base64.StdEncoding.EncodeToString(sumMAC(sha256.New, key, []byte(id), dot, []byte(unix), dot, body)))
	case PresetBasic:
		h.Set(authorization, "Basic "+base64.StdEncoding.EncodeToString([]byte(c.Username+":"+string(secret))))
	case PresetBearer:
		if !validToken(secret) {
			return nil, configErr("secrets", ErrInvalidConfig, "a bearer token cannot hold spaces or control characters")
		}
		h.Set(authorization, "Bearer "+string(secret))
	case PresetGitLab:
		if !validHeaderValue(secret) {
			return nil, configErr("secrets", ErrInvalidConfig, "a GitLab secret token cannot hold control characters, or spaces at its ends")
		}
		h.Set(gitlabTokenHeader, string(secret))
	case PresetCircleCI:
		h.Set(circleciHeader, "v1="+hex.EncodeToString(sumMAC(sha256.New, secret, body)))
	case PresetPagerDuty:
		h.Set(pagerdutyHeader, "v1="+hex.EncodeToString(sumMAC(sha256.New, secret, body)))
	case PresetLinear:
		h.Set(linearHeader, hex.EncodeToString(sumMAC(sha256.New, secret, body)))
		h.Set(linearTimestampHeader, strconv.FormatInt(at.UnixMilli(), 10))
	case PresetTwilio:
		return nil, configErr("preset", ErrInvalidConfig, "twilio signs the public URL: use SignTwilio")
	default:
		s, err := c.hmacScheme()
		if err != nil {
			return nil, err
		}
		var ts string
		parts := s.parts
		switch {
		case s.untimed != nil:
			// A scheme whose timestamp is optional (Grafana without a
			// timestamp header configured) is signed as its sender signs
			// by default, with none, matching Config.SignsTimestamp.
			parts = s.untimed
		case s.tsHeader != "":
			ts = formatTimestamp(at, s.tsUnit)
			if s.tsUnit == secondsOrMS && c.Preset == PresetTalkJS {
				ts = strconv.FormatInt(at.UnixMilli(), 10)
			}
			h.Set(s.tsHeader, ts)
		}
		for _, p := range parts {
			if p.kind == headerPart {
				h.Set(p.literal, id)
			}
		}
		msg, err := s.message(parts, h, ts, body)
		if err != nil {
			return nil, err
		}
		sum := sumMAC(s.newHash, secret, msg...)
		var enc string
		switch {
		case s.base64:
			enc = base64.StdEncoding.EncodeToString(sum)
		case s.upper:
			enc = strings.ToUpper(hex.EncodeToString(sum))
		default:
			enc = hex.EncodeToString(sum)
		}
		h.Set(s.header, s.prefix+enc)
	}
	return h, nil
}

// SignTwilio returns the X-Twilio-Signature header Twilio would send when
// posting body to publicURL with authToken: over the form parameters in
// body, or, when publicURL carries bodySHA256, over the URL alone (and the
// body must then hash to it). It is a pure function.
func SignTwilio(authToken []byte, publicURL string, body []byte) (http.Header, error) {
	if len(authToken) == 0 {
		return nil, configErr("secrets", ErrEmptySecret, "no secret to sign with")
	}
	msg, err := twilioMessage(publicURL, body)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set(twilioHeader, base64.StdEncoding.EncodeToString(sumMAC(sha1.New, authToken, []byte(publicURL), msg)))
	return h, nil
}

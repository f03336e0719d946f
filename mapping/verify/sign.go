package verify

import (
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
// schemes that sign one (standard-webhooks: webhook-id); when empty it is
// derived from the body, and other presets ignore it. It is a pure function.
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
	h := http.Header{}
	switch c.Preset {
	case PresetStripe:
		ts := strconv.FormatInt(at.Unix(), 10)
		h.Set(stripeHeader, "t="+ts+",v1="+hex.EncodeToString(sumMAC(sha256.New, secret, []byte(ts), dot, body)))
	case PresetStandardWebhooks:
		key, err := swKey(secret, "secrets")
		if err != nil {
			return nil, err
		}
		if id == "" {
			sum := sha256.Sum256(body)
			id = "msg_" + hex.EncodeToString(sum[:12])
		}
		ts := strconv.FormatInt(at.Unix(), 10)
		h.Set(swStandard.id, id)
		h.Set(swStandard.timestamp, ts)
		h.Set(swStandard.signature, "v1,"+base64.StdEncoding.EncodeToString(sumMAC(sha256.New, key, []byte(id), dot, []byte(ts), dot, body)))
	case PresetBasic:
		h.Set(authorization, "Basic "+base64.StdEncoding.EncodeToString([]byte(c.Username+":"+string(secret))))
	case PresetBearer:
		if !validToken(secret) {
			return nil, configErr("secrets", ErrInvalidConfig, "a bearer token cannot hold spaces or control characters")
		}
		h.Set(authorization, "Bearer "+string(secret))
	default:
		s, err := c.hmacScheme()
		if err != nil {
			return nil, err
		}
		var ts string
		if s.tsHeader != "" {
			ts = strconv.FormatInt(at.Unix(), 10)
			if c.Preset == PresetTalkJS {
				ts = strconv.FormatInt(at.UnixMilli(), 10)
			}
			h.Set(s.tsHeader, ts)
		}
		sum := sumMAC(s.newHash, secret, s.message(ts, body)...)
		var enc string
		switch {
		case s.base64:
			enc = base64.StdEncoding.EncodeToString(sum)
		case c.Preset == PresetTalkJS:
			enc = strings.ToUpper(hex.EncodeToString(sum))
		default:
			enc = hex.EncodeToString(sum)
		}
		h.Set(s.header, s.prefix+enc)
	}
	return h, nil
}

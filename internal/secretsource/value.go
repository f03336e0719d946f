package secretsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// secret is the parsed value of the Secrets Manager secret.
type secret struct {
	appID    string
	key      string
	webhooks map[string]string
}

// parse reads a secret value: the bare key or the JSON form. Errors name the
// secret id and the shape expected, never the value or a part of it.
func parse(id, value string) (secret, error) {
	v := strings.TrimSpace(value)
	if talkjs.IsSecretKey(v) {
		return secret{key: v}, nil
	}
	if !strings.HasPrefix(v, "{") {
		return secret{}, fmt.Errorf("secret %q holds neither a TalkJS secret key (sk_test_... or sk_live_...) nor JSON like {\"appId\":...,\"secretKey\":...,\"webhookSecrets\":{...}}", id)
	}
	var raw struct {
		AppID          *string         `json:"appId"`
		SecretKey      *string         `json:"secretKey"`
		WebhookSecrets json.RawMessage `json:"webhookSecrets"`
	}
	dec := json.NewDecoder(strings.NewReader(v))
	if err := dec.Decode(&raw); err != nil {
		// json's messages can quote a character of the input; give the offset only.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return secret{}, fmt.Errorf("secret %q is not valid JSON (syntax error at byte %d)", id, syn.Offset)
		case errors.As(err, &typ):
			return secret{}, fmt.Errorf("secret %q: field %q must be a %s", id, typ.Field, "string")
		default:
			return secret{}, fmt.Errorf("secret %q is not valid JSON", id)
		}
	}
	if dec.More() {
		return secret{}, fmt.Errorf("secret %q has data after its JSON object", id)
	}
	if raw.SecretKey == nil {
		return secret{}, fmt.Errorf("secret %q: JSON has no \"secretKey\"", id)
	}
	if !talkjs.IsSecretKey(*raw.SecretKey) {
		return secret{}, fmt.Errorf("secret %q: \"secretKey\" is not a TalkJS secret key (sk_test_... or sk_live_...)", id)
	}
	s := secret{key: *raw.SecretKey}
	if raw.AppID != nil {
		s.appID = strings.TrimSpace(*raw.AppID)
		if s.appID == "" {
			return secret{}, fmt.Errorf("secret %q: \"appId\" is empty", id)
		}
	}
	if len(raw.WebhookSecrets) > 0 && !bytes.Equal(raw.WebhookSecrets, []byte("null")) {
		var hooks map[string]string
		if err := json.Unmarshal(raw.WebhookSecrets, &hooks); err != nil {
			return secret{}, fmt.Errorf("secret %q: \"webhookSecrets\" must be an object of route name to secret string", id)
		}
		for name, val := range hooks {
			if val == "" {
				return secret{}, fmt.Errorf("secret %q: webhook secret %q is empty", id, name)
			}
		}
		s.webhooks = hooks
	}
	return s, nil
}

// values lists the secret strings in s, for log redaction.
func (s secret) values() []string {
	out := make([]string, 0, 1+len(s.webhooks))
	if s.key != "" {
		out = append(out, s.key)
	}
	for _, v := range s.webhooks {
		out = append(out, v)
	}
	return out
}

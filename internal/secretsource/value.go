package secretsource

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// secret is the parsed value of the Secrets Manager secret.
type secret struct {
	appID    string
	key      string
	webhooks map[string]string
	// unusable says, by name, why a webhookSecrets entry cannot be used
	// (empty, not a string). Such an entry fails only the routes that
	// verify with it: the key, and every other webhook secret, still work.
	unusable map[string]string
	// hooksErr says why the whole webhookSecrets field cannot be used;
	// then every webhook secret lookup fails, and nothing else.
	hooksErr string
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
		// Checked entry by entry: one bad webhook secret, even for a
		// route nobody uses, must not take the TalkJS key (and with it
		// the queue and schedule functions) down with it.
		var entries map[string]json.RawMessage
		if err := json.Unmarshal(raw.WebhookSecrets, &entries); err != nil {
			s.hooksErr = "\"webhookSecrets\" must be an object of route name to secret string"
			return s, nil
		}
		for name, rawVal := range entries {
			var val string
			switch {
			case json.Unmarshal(rawVal, &val) != nil:
				s.setUnusable(name, "is not a string")
			case val == "":
				s.setUnusable(name, "is empty")
			default:
				if s.webhooks == nil {
					s.webhooks = make(map[string]string, len(entries))
				}
				s.webhooks[name] = val
			}
		}
	}
	return s, nil
}

func (s *secret) setUnusable(name, why string) {
	if s.unusable == nil {
		s.unusable = make(map[string]string)
	}
	s.unusable[name] = why
}

// webhook returns the named webhook secret, or an error saying why it
// cannot be used (naming id and the entry, never a value).
func (s *secret) webhook(id, name string) (string, error) {
	if s.hooksErr != "" {
		return "", fmt.Errorf("secretsource: secret %q: %s", id, s.hooksErr)
	}
	if why, ok := s.unusable[name]; ok {
		return "", fmt.Errorf("secretsource: secret %q: webhookSecrets entry %q %s", id, name, why)
	}
	v, ok := s.webhooks[name]
	if !ok {
		return "", fmt.Errorf("secretsource: secret %q has no webhookSecrets entry %q", id, name)
	}
	return v, nil
}

// problems describes the unusable webhook secrets, sorted, for the log.
func (s *secret) problems() []string {
	if s.hooksErr != "" {
		return []string{s.hooksErr}
	}
	out := make([]string, 0, len(s.unusable))
	for _, name := range slices.Sorted(maps.Keys(s.unusable)) {
		out = append(out, fmt.Sprintf("webhookSecrets entry %q %s", name, s.unusable[name]))
	}
	return out
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

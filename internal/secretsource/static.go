package secretsource

import (
	"context"
	"errors"
	"fmt"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Static serves a key given directly (TALKJS_SECRET_KEY), for local runs. It
// has the same methods as Source. It is safe for concurrent use.
type Static struct {
	appID string
	key   string
	sec   secret
}

// NewStatic checks key and returns a Static source. appID may be empty (then
// AppID is an error); webhooks maps route names to signing secrets. An
// empty webhook secret is not an error here: WebhookSecret refuses it, so
// only the routes that use it fail.
func NewStatic(key, appID string, webhooks map[string]string) (*Static, error) {
	if !talkjs.IsSecretKey(key) {
		return nil, errors.New("secretsource: the static key is not a TalkJS secret key (sk_test_... or sk_live_...)")
	}
	sec := secret{key: key, webhooks: make(map[string]string, len(webhooks))}
	for name, v := range webhooks {
		if v == "" {
			// Refused at lookup, for the routes that use it only.
			sec.setUnusable(name, "is empty")
			continue
		}
		sec.webhooks[name] = v
	}
	return &Static{appID: appID, key: key, sec: sec}, nil
}

// Key returns the key. It never fails.
func (s *Static) Key(context.Context) (string, error) { return s.key, nil }

// Refused does nothing: a static key cannot be refreshed, so the 401 reaches
// the caller.
func (s *Static) Refused(context.Context, string) {}

// AppID returns the app id given to NewStatic, or an error if it was empty.
func (s *Static) AppID(context.Context) (string, error) {
	if s.appID == "" {
		return "", errors.New("secretsource: no app id: set TALKJS_APP_ID")
	}
	return s.appID, nil
}

// WebhookSecret returns the named webhook secret, or an error if there is
// none, so verification fails closed.
func (s *Static) WebhookSecret(_ context.Context, name string) (string, error) {
	if why, ok := s.sec.unusable[name]; ok {
		return "", fmt.Errorf("secretsource: webhook secret %q %s", name, why)
	}
	v, ok := s.sec.webhooks[name]
	if !ok {
		return "", fmt.Errorf("secretsource: no webhook secret %q configured", name)
	}
	return v, nil
}

// Secrets lists the key and webhook secrets, for a redacting log handler.
func (s *Static) Secrets() []string {
	return s.sec.values()
}

var _ talkjs.KeySource = (*Static)(nil)

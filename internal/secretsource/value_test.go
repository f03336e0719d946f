package secretsource

import (
	"maps"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    secret
		wantErr string
	}{
		{name: "bare test key", value: "sk_test_abc123", want: secret{key: "sk_test_abc123"}},
		{name: "bare live key with newline", value: "sk_live_abc123\n", want: secret{key: "sk_live_abc123"}},
		{name: "json full", value: `{"appId":"tAbc","secretKey":"sk_live_x1","webhookSecrets":{"github":"gh-s3cret","stripe":"whsec_abc"}}`,
			want: secret{appID: "tAbc", key: "sk_live_x1", webhooks: map[string]string{"github": "gh-s3cret", "stripe": "whsec_abc"}}},
		{name: "json key only, extra fields ignored", value: ` {"secretKey":"sk_test_x1","note":"rotated monthly"} `, want: secret{key: "sk_test_x1"}},
		{name: "json null webhooks", value: `{"secretKey":"sk_test_x1","webhookSecrets":null}`, want: secret{key: "sk_test_x1"}},
		{name: "empty", value: "", wantErr: "neither a TalkJS secret key"},
		{name: "publishable-looking key", value: "pk_test_abc", wantErr: "neither a TalkJS secret key"},
		{name: "key with a space", value: "sk_test_ab leak", wantErr: "neither a TalkJS secret key"},
		{name: "broken json", value: `{"secretKey":"sk_test_leak`, wantErr: "not valid JSON"},
		{name: "json syntax error", value: `{"secretKey" "sk_test_leak"}`, wantErr: "syntax error at byte"},
		{name: "json without key", value: `{"appId":"tAbc"}`, wantErr: `no "secretKey"`},
		{name: "json key wrong shape", value: `{"secretKey":"leak-not-a-key"}`, wantErr: `"secretKey" is not a TalkJS secret key`},
		{name: "json key not a string", value: `{"secretKey":12345}`, wantErr: `must be a string`},
		{name: "json empty app id", value: `{"appId":"","secretKey":"sk_test_leak"}`, wantErr: `"appId" is empty`},
		// A bad webhook secret is not the key's problem (issue 14.5): the
		// secret parses, and only lookups of that entry fail.
		{name: "webhooks not an object", value: `{"secretKey":"sk_test_x1","webhookSecrets":["leak"]}`,
			want: secret{key: "sk_test_x1", hooksErr: `"webhookSecrets" must be an object of route name to secret string`}},
		{name: "empty webhook secret", value: `{"secretKey":"sk_test_x1","webhookSecrets":{"github":"","stripe":"whsec_abc"}}`,
			want: secret{key: "sk_test_x1", webhooks: map[string]string{"stripe": "whsec_abc"}, unusable: map[string]string{"github": "is empty"}}},
		{name: "webhook secret not a string", value: `{"secretKey":"sk_test_x1","webhookSecrets":{"github":12345,"stripe":"whsec_abc"}}`,
			want: secret{key: "sk_test_x1", webhooks: map[string]string{"stripe": "whsec_abc"}, unusable: map[string]string{"github": "is not a string"}}},
		{name: "trailing data", value: `{"secretKey":"sk_test_leak"} {"x":1}`, wantErr: "data after its JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse("talkjs/prod", tt.value)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("parse succeeded with %+v, want error containing %q", got, tt.wantErr)
				}
				msg := err.Error()
				if !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, `"talkjs/prod"`) {
					t.Errorf("error %q does not contain %q and the secret id", msg, tt.wantErr)
				}
				if strings.Contains(msg, "leak") || (tt.value != "" && strings.Contains(msg, tt.value)) {
					t.Errorf("error %q shows part of the secret value", msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got.appID != tt.want.appID || got.key != tt.want.key || !maps.Equal(got.webhooks, tt.want.webhooks) ||
				!maps.Equal(got.unusable, tt.want.unusable) || got.hooksErr != tt.want.hooksErr {
				t.Errorf("parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

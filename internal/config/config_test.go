package config

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{
			name: "secret id only takes the defaults",
			env:  map[string]string{EnvSecretID: "talkjs/prod"},
			want: Config{SecretID: "talkjs/prod", APIURL: DefaultAPIURL, SecretCacheTTL: 5 * time.Minute, LogLevel: slog.LevelInfo, MetricsNamespace: "TalkJSBridge"},
		},
		{
			name: "local run with a key and everything set",
			env: map[string]string{
				EnvAppID: "tAbc", EnvSecretKey: "sk_test_local", EnvAPIURL: "http://127.0.0.1:8080/",
				EnvRoutesFile: "/etc/routes.yaml", EnvSecretCacheTTL: "90s", EnvRejectsQueueURL: "https://sqs.eu-west-1.amazonaws.com/1/rejects",
				EnvLogLevel: "DEBUG", EnvMetricsNamespace: "Chat", EnvCommandQueueURL: "https://sqs.eu-west-1.amazonaws.com/1/commands.fifo",
			},
			want: Config{AppID: "tAbc", SecretKey: "sk_test_local", APIURL: "http://127.0.0.1:8080", RoutesFile: "/etc/routes.yaml",
				SecretCacheTTL: 90 * time.Second, RejectsQueueURL: "https://sqs.eu-west-1.amazonaws.com/1/rejects", LogLevel: slog.LevelDebug, MetricsNamespace: "Chat",
				CommandQueueURL: "https://sqs.eu-west-1.amazonaws.com/1/commands.fifo"},
		},
		{
			name: "warn level and surrounding spaces",
			env:  map[string]string{EnvSecretID: " arn:aws:secretsmanager:us-east-1:1:secret:x ", EnvLogLevel: "warn"},
			want: Config{SecretID: "arn:aws:secretsmanager:us-east-1:1:secret:x", APIURL: DefaultAPIURL, SecretCacheTTL: 5 * time.Minute, LogLevel: slog.LevelWarn, MetricsNamespace: "TalkJSBridge"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(env(tt.env))
			if err != nil {
				t.Fatalf("FromEnv: %v", err)
			}
			if got != tt.want {
				t.Errorf("FromEnv =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestFromEnvErrors(t *testing.T) {
	const key = "sk_test_local"
	tests := []struct {
		name     string
		env      map[string]string
		variable string
		wantIn   string
	}{
		{"no key source", map[string]string{}, "TALKJS_SECRET_ID", "TALKJS_SECRET_KEY"},
		{"key that is not a key", map[string]string{EnvSecretKey: "hunter2-very-secret"}, "TALKJS_SECRET_KEY", "sk_test_"},
		{"sk_ but not a key", map[string]string{EnvSecretKey: "sk_x"}, "TALKJS_SECRET_KEY", "sk_test_"},
		{"ttl not a duration", map[string]string{EnvSecretID: "s", EnvSecretCacheTTL: "abc"}, "SECRET_CACHE_TTL", `SECRET_CACHE_TTL="abc" is not a Go duration (e.g. 5m)`},
		{"ttl bare number", map[string]string{EnvSecretID: "s", EnvSecretCacheTTL: "300"}, "SECRET_CACHE_TTL", "Go duration"},
		{"ttl zero", map[string]string{EnvSecretID: "s", EnvSecretCacheTTL: "0s"}, "SECRET_CACHE_TTL", "greater than zero"},
		{"ttl negative", map[string]string{EnvSecretID: "s", EnvSecretCacheTTL: "-1m"}, "SECRET_CACHE_TTL", "greater than zero"},
		{"api url relative", map[string]string{EnvSecretKey: key, EnvAPIURL: "api.talkjs.com"}, "TALKJS_API_URL", "absolute http(s) URL"},
		{"api url other scheme", map[string]string{EnvSecretKey: key, EnvAPIURL: "ftp://api.talkjs.com"}, "TALKJS_API_URL", "absolute http(s) URL"},
		{"api url with query", map[string]string{EnvSecretKey: key, EnvAPIURL: "https://api.talkjs.com?x=1"}, "TALKJS_API_URL", "without user info, query or fragment"},
		{"api url plain http across the network", map[string]string{EnvSecretKey: key, EnvAPIURL: "http://api.talkjs.com"}, "TALKJS_API_URL", "must use https"},
		{"rejects queue not a url", map[string]string{EnvSecretID: "s", EnvRejectsQueueURL: "rejects"}, "REJECTS_QUEUE_URL", "SQS queue URL"},
		{"command queue not a url", map[string]string{EnvSecretID: "s", EnvCommandQueueURL: "talkjs-bridge-commands"}, "COMMAND_QUEUE_URL", "SQS queue URL"},
		{"command queue endpoint without a queue", map[string]string{EnvSecretID: "s", EnvCommandQueueURL: "https://sqs.us-east-1.amazonaws.com/"}, "COMMAND_QUEUE_URL", "SQS queue URL"},
		{"command queue name without account", map[string]string{EnvSecretID: "s", EnvCommandQueueURL: "https://sqs.us-east-1.amazonaws.com/commands"}, "COMMAND_QUEUE_URL", "SQS queue URL"},
		{"command queue arn", map[string]string{EnvSecretID: "s", EnvCommandQueueURL: "arn:aws:sqs:us-east-1:123456789012:commands"}, "COMMAND_QUEUE_URL", "SQS queue URL"},
		{"log level unknown", map[string]string{EnvSecretID: "s", EnvLogLevel: "verbose"}, "LOG_LEVEL", "debug, info, warn or error"},
		{"namespace reserved", map[string]string{EnvSecretID: "s", EnvMetricsNamespace: "AWS/Lambda"}, "BRIDGE_METRICS_NAMESPACE", "CloudWatch namespace"},
		{"public url not https", map[string]string{EnvSecretID: "s", EnvPublicBaseURL: "http://hooks.example.com"}, "WEBHOOK_PUBLIC_URL", "https base URL"},
		{"public url with a query", map[string]string{EnvSecretID: "s", EnvPublicBaseURL: "https://hooks.example.com/?a=b"}, "WEBHOOK_PUBLIC_URL", "https base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(env(tt.env))
			if err == nil {
				t.Fatal("FromEnv succeeded, want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "config: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line starting with config:", msg)
			}
			if !strings.Contains(msg, tt.variable) || !strings.Contains(msg, tt.wantIn) {
				t.Errorf("error %q does not name %s and %q", msg, tt.variable, tt.wantIn)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error %q echoes the secret key", msg)
			}
		})
	}
}

func TestSecretIDWinsOverKey(t *testing.T) {
	c, err := FromEnv(env(map[string]string{EnvSecretID: "s", EnvSecretKey: "not-a-key"}))
	if err != nil {
		t.Fatalf("FromEnv: %v", err)
	}
	if c.SecretID != "s" {
		t.Errorf("SecretID = %q, want s", c.SecretID)
	}
}

func TestVariablesAreAllRead(t *testing.T) {
	read := map[string]bool{}
	_, _ = FromEnv(func(k string) string { read[k] = true; return "" })
	// The first error stops reading, so give a valid key source and read again.
	_, _ = FromEnv(func(k string) string {
		read[k] = true
		if k == EnvSecretID {
			return "s"
		}
		return ""
	})
	for _, v := range Variables {
		if !read[v] {
			t.Errorf("Variables lists %s but FromEnv never reads it", v)
		}
		delete(read, v)
	}
	for v := range read {
		t.Errorf("FromEnv reads %s, which Variables does not list", v)
	}
}

func TestConfigNeverPrintsSecretKey(t *testing.T) {
	c, err := FromEnv(env(map[string]string{EnvSecretKey: "sk_test_topsecret"}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "config", c)
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), b.String()} {
		if strings.Contains(s, "topsecret") {
			t.Errorf("secret key printed in %q", s)
		}
	}
	if !strings.Contains(b.String(), `"secretKeySet":true`) {
		t.Errorf("log %q does not say the key is set", b.String())
	}
}

func TestPublicBaseURL(t *testing.T) {
	env := map[string]string{EnvSecretID: "s", EnvPublicBaseURL: "https://hooks.example.com/chat/"}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicBaseURL != "https://hooks.example.com/chat" {
		t.Errorf("PublicBaseURL = %q, want the URL without its trailing slash", c.PublicBaseURL)
	}
}

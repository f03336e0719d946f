package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Names of the environment variables the bridge reads.
const (
	EnvAppID            = "TALKJS_APP_ID"
	EnvSecretID         = "TALKJS_SECRET_ID"
	EnvSecretKey        = "TALKJS_SECRET_KEY"
	EnvAPIURL           = "TALKJS_API_URL"
	EnvRoutesFile       = "BRIDGE_CONFIG"
	EnvSecretCacheTTL   = "SECRET_CACHE_TTL"
	EnvRejectsQueueURL  = "REJECTS_QUEUE_URL"
	EnvCommandQueueURL  = "COMMAND_QUEUE_URL"
	EnvLogLevel         = "LOG_LEVEL"
	EnvMetricsNamespace = "BRIDGE_METRICS_NAMESPACE"
	EnvPublicBaseURL    = "WEBHOOK_PUBLIC_URL"
)

// Variables is every environment variable name FromEnv reads, in the order of
// the table in DESIGN.md. The standard AWS variables (AWS_REGION,
// AWS_ENDPOINT_URL_*, AWS_XRAY_DAEMON_ADDRESS, ...) are read by the AWS SDKs,
// not by this package, and are not listed.
var Variables = []string{
	EnvAppID,
	EnvSecretID,
	EnvSecretKey,
	EnvAPIURL,
	EnvRoutesFile,
	EnvSecretCacheTTL,
	EnvRejectsQueueURL,
	EnvCommandQueueURL,
	EnvLogLevel,
	EnvMetricsNamespace,
	EnvPublicBaseURL,
}

// Defaults applied when a variable is unset or empty.
const (
	DefaultAPIURL           = talkjs.DefaultBaseURL
	DefaultSecretCacheTTL   = 5 * time.Minute
	DefaultLogLevel         = slog.LevelInfo
	DefaultMetricsNamespace = "TalkJSBridge"
)

// Config is the validated environment of one function.
type Config struct {
	// AppID is the TalkJS app id; empty means it must come from the secret's JSON.
	AppID string
	// SecretID is the Secrets Manager secret id or ARN holding the TalkJS key.
	// Exactly one of SecretID and SecretKey is the source of the key; when both
	// are set SecretID wins, so a deployed function never uses a stray local key.
	SecretID string
	// SecretKey is a TalkJS secret key given directly, for local runs only.
	// Config's String and LogValue never show it.
	SecretKey string
	// APIURL is the TalkJS API base URL, without a trailing slash.
	APIURL string
	// RoutesFile is the path of the routes file; empty means the bundled one.
	RoutesFile string
	// SecretCacheTTL is how long a fetched secret is reused.
	SecretCacheTTL time.Duration
	// RejectsQueueURL is the SQS queue for records that can never be delivered;
	// empty means rejects are only logged.
	RejectsQueueURL string
	// CommandQueueURL is, for the webhook function, the SQS queue it puts
	// verified and mapped sends on (the queue function's), answering 202
	// instead of calling TalkJS; empty means direct delivery.
	CommandQueueURL string
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// MetricsNamespace is the CloudWatch namespace of the EMF metrics.
	MetricsNamespace string
	// PublicBaseURL is the URL senders are given up to /webhooks/, for
	// schemes that sign it (Twilio) behind a custom domain; empty means the
	// URL the API Gateway event tells.
	PublicBaseURL string
}

// FromEnv reads and checks every variable in Variables through getenv
// (os.Getenv in a function, a map lookup in tests). The error is one line
// naming the first bad variable and what is expected; it never contains the
// value of TALKJS_SECRET_KEY. It has no side effects and is safe to retry.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Config{
		AppID:            get(EnvAppID),
		SecretID:         get(EnvSecretID),
		SecretKey:        get(EnvSecretKey),
		APIURL:           DefaultAPIURL,
		RoutesFile:       get(EnvRoutesFile),
		SecretCacheTTL:   DefaultSecretCacheTTL,
		RejectsQueueURL:  get(EnvRejectsQueueURL),
		CommandQueueURL:  get(EnvCommandQueueURL),
		LogLevel:         DefaultLogLevel,
		MetricsNamespace: DefaultMetricsNamespace,
	}

	if c.SecretID == "" && c.SecretKey == "" {
		return Config{}, fmt.Errorf("config: neither %s (Secrets Manager secret id or ARN) nor %s (a TalkJS secret key, for local runs) is set", EnvSecretID, EnvSecretKey)
	}
	if c.SecretID == "" && !talkjs.IsSecretKey(c.SecretKey) {
		// Never echo the value: it is meant to be a secret even when it is wrong.
		return Config{}, fmt.Errorf("config: %s is not a TalkJS secret key (expected sk_test_... or sk_live_...)", EnvSecretKey)
	}

	if v := get(EnvAPIURL); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("config: %s=%q is not an absolute http(s) URL (e.g. %s)", EnvAPIURL, v, DefaultAPIURL)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return Config{}, fmt.Errorf("config: %s=%q must be a plain base URL without user info, query or fragment (e.g. %s)", EnvAPIURL, redactUser(u), DefaultAPIURL)
		}
		// Every request carries the secret key: plain http only to this
		// machine (the emulator), never across a network.
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			return Config{}, fmt.Errorf("config: %s=%q must use https (plain http is only for localhost), since every request carries the TalkJS key", EnvAPIURL, v)
		}
		c.APIURL = strings.TrimRight(v, "/")
	}

	if v := get(EnvSecretCacheTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Config{}, fmt.Errorf("config: %s=%q is not a Go duration (e.g. 5m)", EnvSecretCacheTTL, v)
		}
		if d <= 0 {
			return Config{}, fmt.Errorf("config: %s=%q must be greater than zero (e.g. 5m)", EnvSecretCacheTTL, v)
		}
		c.SecretCacheTTL = d
	}

	if v := get(EnvRejectsQueueURL); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Config{}, fmt.Errorf("config: %s=%q is not an SQS queue URL (e.g. https://sqs.us-east-1.amazonaws.com/123456789012/rejects)", EnvRejectsQueueURL, v)
		}
	}

	if v := c.CommandQueueURL; v != "" {
		// A queue URL ends in /<account>/<queue name>; a URL without the
		// name (the endpoint alone) would fail every webhook at SendMessage,
		// after start-up, so it is refused here.
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !queuePath(u.Path) {
			return Config{}, fmt.Errorf("config: %s=%q is not an SQS queue URL (e.g. https://sqs.us-east-1.amazonaws.com/123456789012/talkjs-bridge-commands, or ....fifo for a FIFO queue)", EnvCommandQueueURL, v)
		}
	}

	if v := get(EnvLogLevel); v != "" {
		lvl, ok := parseLevel(v)
		if !ok {
			return Config{}, fmt.Errorf("config: %s=%q is not a log level (expected debug, info, warn or error)", EnvLogLevel, v)
		}
		c.LogLevel = lvl
	}

	if v := get(EnvPublicBaseURL); v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return Config{}, fmt.Errorf("config: %s=%q is not an https base URL without query (e.g. https://hooks.example.com/chat)", EnvPublicBaseURL, v)
		}
		c.PublicBaseURL = strings.TrimSuffix(v, "/")
	}

	if v := get(EnvMetricsNamespace); v != "" {
		if len(v) > 255 || strings.HasPrefix(v, "AWS/") || strings.ContainsAny(v, "\n\r\t") {
			return Config{}, fmt.Errorf("config: %s=%q is not a CloudWatch namespace (at most 255 characters, not starting with AWS/)", EnvMetricsNamespace, v)
		}
		c.MetricsNamespace = v
	}
	return c, nil
}

// queuePath reports whether p is /<account>/<queue name>, as in every SQS
// queue URL.
func queuePath(p string) bool {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	return len(parts) == 2 && parts[0] != "" && parts[1] != ""
}

func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return 0, false
}

func redactUser(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	return c.String()
}

// String describes the configuration, for printing it anywhere; the secret key
// is shown only as set or unset.
func (c Config) String() string {
	key := "unset"
	if c.SecretKey != "" {
		key = "set"
	}
	return fmt.Sprintf("appId=%q secretId=%q secretKey=%s apiUrl=%q routes=%q secretCacheTTL=%s rejectsQueue=%q commandQueue=%q logLevel=%s metricsNamespace=%q",
		c.AppID, c.SecretID, key, c.APIURL, c.RoutesFile, c.SecretCacheTTL, c.RejectsQueueURL, c.CommandQueueURL, c.LogLevel, c.MetricsNamespace)
}

// LogValue makes slog print the configuration without the secret key.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("appId", c.AppID),
		slog.String("secretId", c.SecretID),
		slog.Bool("secretKeySet", c.SecretKey != ""),
		slog.String("apiUrl", c.APIURL),
		slog.String("routes", c.RoutesFile),
		slog.Duration("secretCacheTTL", c.SecretCacheTTL),
		slog.String("rejectsQueue", c.RejectsQueueURL),
		slog.String("commandQueue", c.CommandQueueURL),
		slog.String("logLevel", c.LogLevel.String()),
		slog.String("metricsNamespace", c.MetricsNamespace),
	)
}

// GoString keeps %#v from printing the secret key.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

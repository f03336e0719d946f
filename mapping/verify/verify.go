package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Preset names accepted in [Config.Preset].
const (
	PresetGitHub           = "github"
	PresetStripe           = "stripe"
	PresetShopify          = "shopify"
	PresetSlack            = "slack"
	PresetStandardWebhooks = "standard-webhooks"
	PresetTalkJS           = "talkjs"
	PresetBasic            = "basic"
	PresetBearer           = "bearer"
	PresetHMAC             = "hmac"
	PresetNone             = "none"

	PresetGitLab        = "gitlab"
	PresetGitLabSigning = "gitlab-signing"
	PresetBitbucket     = "bitbucket"
	PresetCircleCI      = "circleci"
	PresetSentry        = "sentry"
	PresetPagerDuty     = "pagerduty"
	PresetGrafana       = "grafana"
	PresetPaddle        = "paddle"
	PresetTwilio        = "twilio"
	PresetZoom          = "zoom"
	PresetTwitch        = "twitch"
	PresetJira          = "jira"
	PresetLinear        = "linear"
	PresetZendesk       = "zendesk"
	PresetCalendly      = "calendly"
	PresetTypeform      = "typeform"
	PresetIntercom      = "intercom"
	PresetVercel        = "vercel"
)

// spec is what the rest of the package needs to know about a preset
// beyond how it checks a request.
type spec struct {
	// tolerance is the sender's documented (or, where it documents none,
	// our chosen) replay window; zero when the preset signs no timestamp.
	tolerance time.Duration
	// delivery names the header carrying the sender's delivery id, set
	// only when the signature covers that header.
	delivery string
	// needsURL: the signature covers the public URL ([Request.URL]).
	needsURL bool
	// overrides: header and timestampHeader may be set in the Config.
	overrides bool
}

// specs lists every preset; doc.go has the same table for people, with
// the source of each tolerance.
var specs = map[string]spec{
	PresetGitHub:           {},
	PresetStripe:           {tolerance: 5 * time.Minute},
	PresetShopify:          {},
	PresetSlack:            {tolerance: 5 * time.Minute},
	PresetStandardWebhooks: {tolerance: 5 * time.Minute, delivery: swStandard.id},
	PresetTalkJS:           {tolerance: 5 * time.Minute},
	PresetBasic:            {},
	PresetBearer:           {},
	PresetHMAC:             {tolerance: DefaultTolerance, overrides: true},
	PresetNone:             {},
	PresetGitLab:           {},
	PresetGitLabSigning:    {tolerance: 5 * time.Minute, delivery: swStandard.id},
	PresetBitbucket:        {},
	PresetCircleCI:         {},
	PresetSentry:           {},
	PresetPagerDuty:        {},
	PresetGrafana:          {tolerance: 5 * time.Minute, overrides: true},
	PresetPaddle:           {tolerance: 5 * time.Second},
	PresetTwilio:           {needsURL: true},
	PresetZoom:             {tolerance: 5 * time.Minute},
	PresetTwitch:           {tolerance: 10 * time.Minute, delivery: twitchMessageID},
	PresetJira:             {},
	PresetLinear:           {tolerance: time.Minute},
	PresetZendesk:          {tolerance: 5 * time.Minute},
	PresetCalendly:         {tolerance: 5 * time.Minute},
	PresetTypeform:         {},
	PresetIntercom:         {},
	PresetVercel:           {},
}

// DefaultTolerance is how far a signed timestamp may be from the clock, in
// either direction, for most presets that sign one (Stripe, Slack and
// Standard Webhooks all document five minutes) and for hmac with a
// timestamp header, unless the config says otherwise. Paddle (5 s), Linear
// (1 min) and Twitch (10 min) have their senders' own; see [Config.Tolerance]
// and the table in the package doc.
const DefaultTolerance = 5 * time.Minute

// maxSignatures bounds how many candidate signatures one header may carry, so
// a hostile header cannot make a request cost thousands of HMACs.
const maxSignatures = 16

// ErrUnverified is wrapped by every verification failure: answer 401 when
// errors.Is(err, ErrUnverified).
var ErrUnverified = errors.New("webhook not verified")

// Verification failures, each wrapping [ErrUnverified].
var (
	// ErrMissingSignature: the signature (or credentials) header is absent or empty.
	ErrMissingSignature error = &failure{"missing signature"}
	// ErrMalformedSignature: a signature or timestamp header cannot be parsed.
	ErrMalformedSignature error = &failure{"malformed signature"}
	// ErrSignatureMismatch: well formed, but no secret produces it.
	ErrSignatureMismatch error = &failure{"signature mismatch"}
	// ErrTimestampTooOld: the signature is genuine but its timestamp is older than the tolerance (a replay, or a delivery retried late).
	ErrTimestampTooOld error = &failure{"timestamp too old"}
	// ErrTimestampInFuture: the signature is genuine but its timestamp is further ahead of the clock than the tolerance.
	ErrTimestampInFuture error = &failure{"timestamp in the future"}
	// ErrMissingTimestamp: the scheme signs a timestamp and the request has none.
	ErrMissingTimestamp error = &failure{"missing timestamp"}
	// ErrMissingURL: the scheme signs the public URL (twilio) and the caller
	// passed none in [Request.URL], or one that is not an absolute http(s)
	// URL. It is the caller's mistake, not the sender's, but still refuses.
	ErrMissingURL error = &failure{"no public URL to check the signature against"}
)

// Construction and validation errors; they do not wrap [ErrUnverified].
var (
	// ErrEmptySecret: no secret, or an empty one, was given to a verifying preset.
	ErrEmptySecret = errors.New("empty webhook secret")
	// ErrUnknownPreset: Config.Preset is not one of [Presets].
	ErrUnknownPreset = errors.New("unknown verify preset")
	// ErrInvalidConfig: a Config field has a bad value or does not apply to its preset.
	ErrInvalidConfig = errors.New("invalid verify config")
)

type failure struct{ msg string }

func (f *failure) Error() string { return "webhook not verified: " + f.msg }
func (f *failure) Unwrap() error { return ErrUnverified }

// ConfigError reports a bad [Config] field. Field is the yaml name of the
// field ("preset", "algorithm", "secrets[1]", ...), so a loader can point at
// the line. It wraps ErrUnknownPreset, ErrEmptySecret or ErrInvalidConfig.
type ConfigError struct {
	Field string
	Err   error
	Msg   string
}

// Error returns "verify.<field>: <what is wrong>".
func (e *ConfigError) Error() string {
	if e.Msg == "" {
		return "verify." + e.Field + ": " + e.Err.Error()
	}
	return "verify." + e.Field + ": " + e.Msg
}

// Unwrap returns the sentinel (ErrUnknownPreset, ErrEmptySecret or ErrInvalidConfig).
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(field string, err error, format string, args ...any) error {
	return &ConfigError{Field: field, Err: err, Msg: fmt.Sprintf(format, args...)}
}

// Config describes how a route verifies requests; it is what the routes
// file's `verify:` block decodes into. A bare scalar (`verify: none`) decodes
// into Preset through [Config.UnmarshalText].
type Config struct {
	// Preset is one of [Presets]. Required: there is no default.
	Preset string `yaml:"preset" json:"preset"`
	// Secrets names the secrets (resolved by the caller from the
	// webhookSecrets object of the TalkJS secret), not their values. Several
	// names mean rotation: a request signed with any of them is accepted.
	Secrets []string `yaml:"secrets" json:"secrets,omitempty"`
	// Header is the signature header (hmac; for grafana it replaces
	// X-Grafana-Alerting-Signature, as Grafana's hmacConfig lets one).
	Header string `yaml:"header" json:"header,omitempty"`
	// Prefix precedes the encoded signature in Header, e.g. "sha256=" (hmac only).
	Prefix string `yaml:"prefix" json:"prefix,omitempty"`
	// Algorithm is sha1, sha256 (default) or sha512 (hmac only).
	Algorithm string `yaml:"algorithm" json:"algorithm,omitempty"`
	// Encoding is hex (default, either letter case) or base64 (hmac only).
	Encoding string `yaml:"encoding" json:"encoding,omitempty"`
	// Signed is the signed-string template over {timestamp} and {body},
	// default "{body}" (hmac only). It must contain {body}, once.
	Signed string `yaml:"signed" json:"signed,omitempty"`
	// TimestampHeader holds the signed timestamp, Unix seconds or
	// milliseconds (hmac), or Unix seconds (grafana, whose hmacConfig
	// names it). When set, requests without it are refused and its age is
	// checked against Tolerance.
	TimestampHeader string `yaml:"timestampHeader" json:"timestampHeader,omitempty"`
	// Tolerance overrides the preset's replay window ([DefaultToleranceFor])
	// for schemes with a timestamp.
	Tolerance time.Duration `yaml:"tolerance" json:"tolerance,omitempty"`
	// Username is the expected user name (basic only); the secret is the password.
	Username string `yaml:"username" json:"username,omitempty"`
}

// UnmarshalText lets a routes file write `verify: none` (or any preset name)
// as a scalar instead of a block.
func (c *Config) UnmarshalText(text []byte) error {
	*c = Config{Preset: strings.TrimSpace(string(text))}
	return nil
}

// UnmarshalJSON accepts the same two shapes as the YAML: a preset name as a
// string, or an object whose tolerance is a Go duration string ("5m").
// Without it, encoding/json would refuse objects because of UnmarshalText.
func (c *Config) UnmarshalJSON(data []byte) error {
	var name string
	if json.Unmarshal(data, &name) == nil {
		return c.UnmarshalText([]byte(name))
	}
	type plain Config
	var raw struct {
		plain
		Tolerance string `json:"tolerance"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*c = Config(raw.plain)
	c.Tolerance = 0
	if raw.Tolerance != "" {
		d, err := time.ParseDuration(raw.Tolerance)
		if err != nil {
			return configErr("tolerance", ErrInvalidConfig, "%q is not a duration such as 5m", raw.Tolerance)
		}
		c.Tolerance = d
	}
	return nil
}

// Presets lists the accepted preset names, sorted.
func Presets() []string {
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Validate checks c at load time, before any secret is resolved: a known
// preset, at least one secret name unless the preset is none, and for every
// other field a valid value that applies to the preset. The error is a
// *[ConfigError] naming the field. It has no side effects.
func (c Config) Validate() error {
	if err := c.validate(); err != nil {
		return err
	}
	if c.Preset == PresetNone {
		return nil
	}
	if len(c.Secrets) == 0 {
		return configErr("secrets", ErrEmptySecret, "preset %s needs at least one secret name", c.Preset)
	}
	for i, name := range c.Secrets {
		if strings.TrimSpace(name) == "" {
			return configErr(fmt.Sprintf("secrets[%d]", i), ErrEmptySecret, "empty secret name")
		}
	}
	return nil
}

// validate checks everything but the secret names, which New does not need.
func (c Config) validate() error {
	switch c.Preset {
	case "":
		return configErr("preset", ErrUnknownPreset, "missing (one of %s; write none explicitly to accept unsigned requests)", strings.Join(Presets(), ", "))
	case PresetHMAC:
		_, err := c.hmacScheme()
		return err
	}
	sp, ok := specs[c.Preset]
	if !ok {
		return configErr("preset", ErrUnknownPreset, "unknown preset %q (one of %s)", c.Preset, strings.Join(Presets(), ", "))
	}
	for _, f := range []struct {
		name, value string
		override    bool
	}{
		{"header", c.Header, true}, {"prefix", c.Prefix, false}, {"algorithm", c.Algorithm, false},
		{"encoding", c.Encoding, false}, {"signed", c.Signed, false}, {"timestampHeader", c.TimestampHeader, true},
	} {
		if f.value == "" || (f.override && sp.overrides) {
			continue
		}
		if f.override {
			return configErr(f.name, ErrInvalidConfig, "applies only to presets hmac and grafana, not %s", c.Preset)
		}
		return configErr(f.name, ErrInvalidConfig, "applies only to preset hmac, not %s", c.Preset)
	}
	if sp.overrides {
		if _, err := c.hmacScheme(); err != nil {
			return err
		}
	}
	switch c.Preset {
	case PresetBasic:
		if c.Username == "" {
			return configErr("username", ErrInvalidConfig, "required for preset basic")
		}
		if strings.Contains(c.Username, ":") {
			return configErr("username", ErrInvalidConfig, "must not contain a colon")
		}
	default:
		if c.Username != "" {
			return configErr("username", ErrInvalidConfig, "applies only to preset basic, not %s", c.Preset)
		}
	}
	if c.Tolerance < 0 {
		return configErr("tolerance", ErrInvalidConfig, "must not be negative")
	}
	if c.Tolerance != 0 && !presetHasTimestamp(c.Preset) {
		return configErr("tolerance", ErrInvalidConfig, "preset %s signs no timestamp", c.Preset)
	}
	if c.Preset == PresetNone && len(c.Secrets) > 0 {
		return configErr("secrets", ErrInvalidConfig, "preset none takes no secrets")
	}
	return nil
}

func presetHasTimestamp(preset string) bool {
	return specs[preset].tolerance > 0 && preset != PresetHMAC
}

// SignsTimestamp reports whether requests for c carry a signed timestamp
// that goes stale, so a tool re-sending a captured request must re-sign it.
// It has no side effects.
func (c Config) SignsTimestamp() bool {
	switch c.Preset {
	case PresetHMAC:
		return c.TimestampHeader != ""
	case PresetGrafana:
		// Only when Grafana is set to send one; the verifier then checks it.
		return c.TimestampHeader != ""
	}
	return presetHasTimestamp(c.Preset)
}

// DefaultToleranceFor returns the replay window a preset uses when the
// Config sets none, or 0 when the preset signs no timestamp.
func DefaultToleranceFor(preset string) time.Duration {
	return specs[preset].tolerance
}

// DeliveryIDHeader returns the header carrying the sender's delivery id when,
// and only when, c's signature covers it (standard-webhooks and
// gitlab-signing: webhook-id; twitch: Twitch-Eventsub-Message-Id), else "".
// An idempotency key taken from any other header could be changed by
// whoever replays a request. It has no side effects.
func (c Config) DeliveryIDHeader() string {
	return specs[c.Preset].delivery
}

// SignedDeliveryID returns the delivery id that a request verified under c
// carries in a signed header, or "" when the preset signs none. For
// standard-webhooks it follows the header naming the verifier used
// (webhook-id, or svix-id for a request signed only with svix- headers).
// Call it only after [Verifier.Verify] accepted the request. It has no side
// effects.
func (c Config) SignedDeliveryID(h http.Header) string {
	name := c.DeliveryIDHeader()
	if name == "" {
		return ""
	}
	if c.Preset == PresetStandardWebhooks && header(h, swStandard.signature) == "" {
		name = swSvix.id
	}
	return header(h, name)
}

// NeedsURL reports whether c's signature covers the public URL the sender
// posted to (twilio), which the caller must then pass in [Request.URL].
// It has no side effects.
func (c Config) NeedsURL() bool {
	return specs[c.Preset].needsURL
}

// Request is one inbound request as a [Verifier] sees it.
type Request struct {
	// Header holds the request's headers; keys may be canonical or lower-case.
	Header http.Header
	// Body is the raw body, exactly as received.
	Body []byte
	// URL is the public URL the sender posted to, as configured at the
	// sender: scheme, host, optional port, path and the raw query string
	// in the order received (e.g. https://hooks.example.com/prod/webhook/sms?x=1).
	// Only presets whose [Config.NeedsURL] is true read it (twilio, which
	// signs it); they refuse a request without it. Behind API Gateway
	// build it from the event's Host header, stage, path and raw query
	// string, or from a configured base URL when a custom domain maps the
	// API under another path: what matters is that it equals, byte for
	// byte, the URL the sender was given.
	URL string
}

// checkFunc is one scheme's whole check of a request.
type checkFunc func(v *Verifier, r *Request) error

// Verifier checks requests for one route. Build it with [New]; it is
// immutable afterwards except for Now and Tolerance, which may be set before
// first use. Verify is safe to call from many goroutines at once.
type Verifier struct {
	// Now is the clock timestamps are checked against; nil means time.Now.
	Now func() time.Time
	// Tolerance is how far a signed timestamp may be from Now in either
	// direction. New sets the preset's default or Config.Tolerance; zero
	// accepts only an exact match, which in practice refuses everything.
	Tolerance time.Duration

	check checkFunc
	// keyed builds the check for a single key: how the zoom handshake
	// finds the secret a request was signed with. Nil for other presets.
	keyed func(key []byte) checkFunc
	keys  [][]byte
}

// New builds the verifier for c with the resolved secret values; several
// values mean rotation (any may match). It fails closed: no secret or an
// empty one is an [ErrEmptySecret] error, except for preset none, which takes
// none. It validates c like [Config.Validate] except for the secret names.
// It has no side effects, so calling it again with the same input is safe.
func New(c Config, secrets [][]byte) (*Verifier, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Preset == PresetNone {
		if len(secrets) > 0 {
			return nil, configErr("secrets", ErrInvalidConfig, "preset none takes no secrets")
		}
		return &Verifier{check: func(*Verifier, *Request) error { return nil }}, nil
	}
	if len(secrets) == 0 {
		return nil, configErr("secrets", ErrEmptySecret, "preset %s needs at least one secret", c.Preset)
	}
	for i, s := range secrets {
		if len(s) == 0 {
			return nil, configErr(fmt.Sprintf("secrets[%d]", i), ErrEmptySecret, "secret is empty")
		}
	}
	// Copy so a caller reusing its buffers cannot change a live verifier.
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		keys[i] = slices.Clone(s)
	}
	v := &Verifier{Tolerance: DefaultTolerance}
	if t := specs[c.Preset].tolerance; t > 0 {
		v.Tolerance = t
	}
	if c.Tolerance > 0 {
		v.Tolerance = c.Tolerance
	}
	var err error
	switch c.Preset {
	case PresetStripe:
		v.check = stripeScheme.check(keys)
	case PresetCalendly:
		v.check = calendlyScheme.check(keys)
	case PresetPaddle:
		v.check = paddleScheme.check(keys)
	case PresetStandardWebhooks:
		v.check, err = standardWebhooksCheck(keys, true)
	case PresetGitLabSigning:
		v.check, err = standardWebhooksCheck(keys, false)
	case PresetBasic:
		v.check = basicCheck(c.Username, keys)
	case PresetBearer:
		if err := tokensValid(keys, validToken, "a bearer token", "spaces or control characters"); err != nil {
			return nil, err
		}
		v.check = bearerCheck(keys)
	case PresetGitLab:
		if err := tokensValid(keys, validHeaderValue, "a GitLab secret token", "control characters, or spaces at its ends"); err != nil {
			return nil, err
		}
		v.check = gitlabTokenCheck(keys)
	case PresetCircleCI:
		v.check = circleciCheck(keys)
	case PresetPagerDuty:
		v.check = pagerdutyCheck(keys)
	case PresetTwilio:
		v.check = twilioCheck(keys)
	case PresetLinear:
		v.check = linearCheck(keys)
	default:
		s, err := c.hmacScheme()
		if err != nil {
			return nil, err
		}
		v.check = s.check(keys)
		if c.Preset == PresetZoom {
			v.keyed = func(key []byte) checkFunc { return s.check([][]byte{key}) }
			v.keys = keys
		}
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Verify checks a request's headers and raw body, exactly as received. It
// returns nil when the request is authentic and fresh, and otherwise an error
// wrapping [ErrUnverified] and one of the specific sentinels. It has no side
// effects and may be retried freely, though a retry of the same request gives
// the same answer until its timestamp goes stale. Presets that sign the URL
// (twilio) refuse every request here: use [Verifier.VerifyRequest].
func (v *Verifier) Verify(h http.Header, body []byte) error {
	return v.VerifyRequest(Request{Header: h, Body: body})
}

// VerifyRequest is [Verifier.Verify] with the request's public URL, which
// the twilio preset needs (see [Request.URL]); other presets ignore it.
// Same contract: nil, or an error wrapping [ErrUnverified]; no side
// effects; safe to retry.
func (v *Verifier) VerifyRequest(r Request) error {
	if v == nil || v.check == nil {
		// A zero Verifier must not let anything through.
		return fmt.Errorf("%w: verifier not built with New", ErrUnverified)
	}
	return v.check(v, &r)
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// checkTime refuses a timestamp outside the tolerance on either side.
func (v *Verifier) checkTime(header string, ts time.Time) error {
	now := v.now()
	if now.Sub(ts) > v.Tolerance {
		return fmt.Errorf("%w: %s is %s old, tolerance %s", ErrTimestampTooOld, header, now.Sub(ts).Round(time.Second), v.Tolerance)
	}
	if ts.Sub(now) > v.Tolerance {
		return fmt.Errorf("%w: %s is %s ahead, tolerance %s", ErrTimestampInFuture, header, ts.Sub(now).Round(time.Second), v.Tolerance)
	}
	return nil
}

// header returns the value of name, looked up case-insensitively: the
// canonical key and any key equal under case folding (hand-built maps, e.g.
// the lower-case headers of an API Gateway HTTP API event, or an event that
// holds both X-Hub-Signature-256 and x-hub-signature-256). Copies with the
// same value count once. Two different values give conflictingCopies, which
// no scheme can parse or match, so the request is refused (401) whatever
// the copies' order: taking the first made the answer depend on map order
// (200 one time, 401 the next) and let whoever adds a copy choose the one
// checked.
func header(h http.Header, name string) string {
	got := ""
	for k, vs := range h {
		if k != name && !strings.EqualFold(k, name) {
			continue
		}
		for _, v := range vs {
			switch v = strings.TrimSpace(v); {
			case got == "":
				got = v
			case v != "" && v != got:
				return conflictingCopies
			}
		}
	}
	return got
}

// conflictingCopies stands for a header given twice with different values.
// A NUL cannot be in a header value that net/http or API Gateway passes, so
// it never equals a real value; every scheme reads it as malformed (not
// hex, not base64, not a timestamp, not credentials) or, as a signed id, as
// a mismatch. Errors never print it.
const conflictingCopies = "\x00conflicting copies"

// timeUnit says how a timestamp header counts.
type timeUnit int

const (
	seconds       timeUnit = iota
	secondsOrMS            // milliseconds when the value has 13 or more digits
	milliseconds           // Linear
	rfc3339                // Twitch: RFC 3339 with nanoseconds
	unixOrRFC3339          // Zendesk: its docs show RFC 3339; Unix seconds are read too
)

// parseTimestamp reads a non-negative decimal Unix timestamp, or an RFC 3339
// date-time for the units that allow one.
func parseTimestamp(name, s string, unit timeUnit) (time.Time, error) {
	if unit == rfc3339 || unit == unixOrRFC3339 {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, nil
		}
		if unit == rfc3339 {
			return time.Time{}, fmt.Errorf("%w: %s is not an RFC 3339 timestamp", ErrMalformedSignature, name)
		}
		unit = seconds
	}
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%w: %s is not a Unix timestamp", ErrMalformedSignature, name)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s is not a Unix timestamp", ErrMalformedSignature, name)
	}
	if unit == milliseconds || (unit == secondsOrMS && n >= 1e12) {
		return time.UnixMilli(n), nil
	}
	if n > 1<<40 { // far beyond year 30000: refuse before time arithmetic overflows
		return time.Time{}, fmt.Errorf("%w: %s is out of range", ErrMalformedSignature, name)
	}
	return time.Unix(n, 0), nil
}

// formatTimestamp writes at the way a sender using unit would, for Sign.
func formatTimestamp(at time.Time, unit timeUnit) string {
	switch unit {
	case milliseconds:
		return strconv.FormatInt(at.UnixMilli(), 10)
	case rfc3339:
		return at.UTC().Format(time.RFC3339Nano)
	case unixOrRFC3339:
		return at.UTC().Format(time.RFC3339)
	}
	return strconv.FormatInt(at.Unix(), 10)
}

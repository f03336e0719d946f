package localrun

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
)

// FunctionFor names the function an events/ file is for, from its name:
// "webhook-*.json" is for webhook, "queue-*" for queue, "schedule-*" for
// schedule. It returns "" for any other name.
func FunctionFor(eventFile string) string {
	base := filepath.Base(eventFile)
	for _, fn := range Functions {
		if strings.HasPrefix(base, fn+"-") {
			return fn
		}
	}
	return ""
}

// LoadEvent reads an event file (e.g. events/webhook-stripe.json) and
// re-signs it the way its sender would at delivery time: see ResignEvent,
// which it calls with the default routes file, democreds.WebhookSecrets() and the
// current time. It has no side effects.
func LoadEvent(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("localrun: %w", err)
	}
	routes, err := mapping.Default()
	if err != nil {
		return nil, fmt.Errorf("localrun: default routes: %w", err)
	}
	out, err := ResignEvent(raw, routes, democreds.WebhookSecrets(), time.Now())
	if err != nil {
		return nil, fmt.Errorf("localrun: %s: %w", path, err)
	}
	return out, nil
}

// ResignEvent returns event with its time-sensitive signature made again at
// now, as a real sender signs at delivery time. A sample event signed once
// and committed goes stale: Stripe, Slack, Standard Webhooks and TalkJS sign
// a timestamp and receivers refuse it after five minutes, so the committed
// events/webhook-stripe.json (t=1795597200) would be answered 401.
//
// Only API Gateway and function URL events (a "body" with "headers") for a
// route of routes whose preset signs a timestamp are changed, and only when
// their signature is genuine for one of the route's secrets apart from its
// age: a deliberately bad signature stays bad. The new headers replace the
// old ones wherever they appear (headers and multiValueHeaders), keeping the
// event's spelling of their names; nothing else in the event changes
// meaning. Signatures without a timestamp (GitHub, Shopify, bearer tokens)
// never go stale and are left as they are. Every other event is returned
// unchanged. It is a pure function.
func ResignEvent(event []byte, routes *mapping.Routes, secrets map[string]string, now time.Time) ([]byte, error) {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(event, &ev); err != nil {
		// Not an object (a bare input for the schedule function, say):
		// nothing to sign.
		return event, nil
	}
	_, hasBody := ev["body"]
	_, hasHeaders := ev["headers"]
	if !hasBody || !hasHeaders {
		return event, nil
	}
	// What the webhook function reads of the event, read the same way.
	in, err := webhook.ParseEvent(event)
	if errors.Is(err, webhook.ErrUnknownEvent) {
		return event, nil
	}
	if err != nil {
		return nil, err
	}
	route := in.Route
	vc, ok := routes.VerifyConfig(route)
	if !ok || !vc.SignsTimestamp() {
		return event, nil
	}
	body := []byte(in.Body)
	if in.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(in.Body); err != nil {
			return nil, fmt.Errorf("body: isBase64Encoded is true but it does not decode: %w", err)
		}
	}
	h := in.Header
	// The header maps to rewrite, in the event's own spelling.
	var gw struct {
		Headers    map[string]string   `json:"headers"`
		MultiValue map[string][]string `json:"multiValueHeaders"`
	}
	if err := json.Unmarshal(event, &gw); err != nil {
		return nil, fmt.Errorf("not an API Gateway event: %w", err)
	}

	secret, err := genuineSecret(vc, secrets, h, body)
	if err != nil {
		return nil, fmt.Errorf("route %q: %w", route, err)
	}
	if secret == "" {
		return event, nil
	}
	signed, err := verify.Sign(vc, []byte(secret), h.Get("Webhook-Id"), now, body)
	if err != nil {
		return nil, fmt.Errorf("route %q: signing: %w", route, err)
	}
	for name, vs := range signed {
		gw.Headers = setHeader(gw.Headers, name, vs[0])
		if gw.MultiValue != nil {
			gw.MultiValue = setMultiHeader(gw.MultiValue, name, vs)
		}
	}
	if ev["headers"], err = json.Marshal(gw.Headers); err != nil {
		return nil, err
	}
	if _, ok := ev["multiValueHeaders"]; ok && gw.MultiValue != nil {
		if ev["multiValueHeaders"], err = json.Marshal(gw.MultiValue); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// genuineSecret returns the first of the route's secrets that the request's
// signature was made with, ignoring its age, or "" if none was.
func genuineSecret(vc verify.Config, secrets map[string]string, h http.Header, body []byte) (string, error) {
	var missing []string
	for _, name := range vc.Secrets {
		secret := secrets[name]
		if secret == "" {
			missing = append(missing, name)
			continue
		}
		v, err := verify.New(vc, [][]byte{[]byte(secret)})
		if err != nil {
			return "", fmt.Errorf("secret %q: %w", name, err)
		}
		// The age is what re-signing fixes; only the signature counts here.
		v.Tolerance = 100 * 365 * 24 * time.Hour
		err = v.Verify(h, body)
		switch {
		case err == nil:
			return secret, nil
		case !errors.Is(err, verify.ErrUnverified):
			return "", err
		}
	}
	if len(missing) == len(vc.Secrets) {
		return "", fmt.Errorf("no webhook secret for %s to sign with", strings.Join(missing, ", "))
	}
	return "", nil
}

// setHeader sets name in h, replacing a key that differs only in case.
func setHeader(h map[string]string, name, value string) map[string]string {
	if h == nil {
		h = make(map[string]string)
	}
	for k := range h {
		if strings.EqualFold(k, name) {
			h[k] = value
			return h
		}
	}
	h[name] = value
	return h
}

func setMultiHeader(h map[string][]string, name string, values []string) map[string][]string {
	for k := range h {
		if strings.EqualFold(k, name) {
			h[k] = values
			return h
		}
	}
	h[name] = values
	return h
}

package mapping

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

// Handshake kinds a route may declare with `handshake:`. A handshake is a
// request the sender makes to check the endpoint (or to say it is alive),
// answered at the door in the sender's expected shape and never turned
// into a message.
const (
	// HandshakeGitHub answers X-GitHub-Event: ping (repository, organization
	// and app hooks alike) with 200 and sends nothing.
	HandshakeGitHub = "github"
	// HandshakeSlack answers the Events API's url_verification with 200
	// and the challenge as text/plain.
	HandshakeSlack = "slack"
	// HandshakeZoom answers endpoint.url_validation with 200 and
	// {"plainToken", "encryptedToken": hex HMAC-SHA256(secret, plainToken)},
	// keyed with the secret that signed the request (preset zoom) or else
	// the route's first secret.
	HandshakeZoom = "zoom"
	// HandshakeTwitch answers EventSub's webhook_callback_verification with
	// 200 and the raw challenge as text/plain, and a revocation with 200.
	HandshakeTwitch = "twitch"
	// HandshakeGraph echoes Microsoft Graph's validationToken query
	// parameter as text/plain with 200. Graph signs nothing, so this one is
	// answered without verification.
	HandshakeGraph = "graph"
	// HandshakeEventGrid answers Azure Event Grid's
	// SubscriptionValidationEvent with 200 {"validationResponse": code}.
	HandshakeEventGrid = "eventgrid"
	// HandshakeNone turns off the handshake a preset implies.
	HandshakeNone = "none"
)

// Handshakes lists the values `handshake:` accepts.
func Handshakes() []string {
	return []string{HandshakeEventGrid, HandshakeGitHub, HandshakeGraph, HandshakeNone, HandshakeSlack, HandshakeTwitch, HandshakeZoom}
}

// impliedHandshake is the handshake a route gets from its verify preset
// when it declares none: the preset names the sender.
func impliedHandshake(preset string) string {
	switch preset {
	case verify.PresetGitHub:
		return HandshakeGitHub
	case verify.PresetSlack:
		return HandshakeSlack
	case verify.PresetZoom:
		return HandshakeZoom
	case verify.PresetTwitch:
		return HandshakeTwitch
	}
	return ""
}

// maxChallenge bounds an echoed challenge or token: the real ones are
// tens of bytes, and an answer should never carry a body back.
const maxChallenge = 2048

// Handshake is the answer to a handshake request.
type Handshake struct {
	// Kind is the route's handshake (HandshakeSlack, ...).
	Kind string `json:"kind"`
	// Status is the HTTP status to answer with (200).
	Status int `json:"status"`
	// ContentType is the answer's Content-Type.
	ContentType string `json:"contentType"`
	// Body is the answer's body, exactly.
	Body string `json:"body"`
}

// Handshake answers req when it is its route's handshake, and otherwise
// returns nil and no error (an unknown route included: Webhook reports
// that). The request is verified first, like any delivery, except for
// Microsoft Graph, which signs nothing. Call it before anything that would
// queue or map the request. It has no side effects, so it is safe to retry.
func (c *Routes) Handshake(ctx context.Context, req Request, secrets SecretLookup) (*Handshake, error) {
	r, ok := c.routes[req.Route]
	if !ok || r.handshake == "" || !r.isHandshake(req) {
		return nil, nil
	}
	if r.handshake != HandshakeGraph {
		if err := r.check(ctx, req, secrets); err != nil {
			return nil, err
		}
	}
	return r.answerHandshake(ctx, req, secrets)
}

// HandshakeKind names the handshake req is for its route, or "" when it is
// an ordinary delivery. It does not verify anything: it is for tools that
// show what a request would do (bridge render).
func (c *Routes) HandshakeKind(req Request) string {
	r, ok := c.routes[req.Route]
	if !ok || r.handshake == "" || !r.isHandshake(req) {
		return ""
	}
	return r.handshake
}

// isHandshake looks at only what the sender marks a handshake with: a
// header, a query parameter, or one field of the body, so an ordinary
// delivery costs at most a bytes.Contains.
func (r *route) isHandshake(req Request) bool {
	switch r.handshake {
	case HandshakeGitHub:
		return strings.EqualFold(strings.TrimSpace(req.Headers.Get("X-GitHub-Event")), "ping")
	case HandshakeSlack:
		return bytes.Contains(req.Body, []byte("url_verification")) && bodyField(req.Body, "type") == "url_verification"
	case HandshakeZoom:
		return bytes.Contains(req.Body, []byte("endpoint.url_validation")) && bodyField(req.Body, "event") == "endpoint.url_validation"
	case HandshakeTwitch:
		switch strings.TrimSpace(req.Headers.Get("Twitch-Eventsub-Message-Type")) {
		case "webhook_callback_verification", "revocation":
			return true
		}
	case HandshakeGraph:
		return req.Query.Has("validationToken")
	case HandshakeEventGrid:
		return strings.EqualFold(strings.TrimSpace(req.Headers.Get("Aeg-Event-Type")), "SubscriptionValidation")
	}
	return false
}

// bodyField returns a top-level string field of a JSON object body, or "".
func bodyField(body []byte, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[name], &s) != nil {
		return ""
	}
	return s
}

func (r *route) answerHandshake(ctx context.Context, req Request, secrets SecretLookup) (*Handshake, error) {
	text := func(s string) *Handshake {
		return &Handshake{Kind: r.handshake, Status: http.StatusOK, ContentType: "text/plain; charset=utf-8", Body: s}
	}
	asJSON := func(v any) *Handshake {
		b, _ := json.Marshal(v) // maps of strings always encode
		return &Handshake{Kind: r.handshake, Status: http.StatusOK, ContentType: "application/json", Body: string(b)}
	}
	switch r.handshake {
	case HandshakeGitHub:
		// An organization or app hook's ping has no repository: nothing
		// about it belongs in a conversation, so no ping is posted.
		return asJSON(map[string]any{"handshake": r.handshake, "sent": []string{}}), nil
	case HandshakeSlack:
		var b struct {
			Challenge string `json:"challenge"`
		}
		if err := json.Unmarshal(req.Body, &b); err != nil {
			return nil, invalid("route %s: url_verification: %v", r.name, err)
		}
		if err := checkChallenge("challenge", b.Challenge); err != nil {
			return nil, invalid("route %s: url_verification: %v", r.name, err)
		}
		return text(b.Challenge), nil
	case HandshakeZoom:
		var b struct {
			Payload struct {
				PlainToken string `json:"plainToken"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(req.Body, &b); err != nil {
			return nil, invalid("route %s: endpoint.url_validation: %v", r.name, err)
		}
		if err := checkChallenge("payload.plainToken", b.Payload.PlainToken); err != nil {
			return nil, invalid("route %s: endpoint.url_validation: %v", r.name, err)
		}
		if r.verify.Preset == verify.PresetZoom {
			// The verifier answers with the secret that signed the request,
			// so the handshake survives a secret rotation.
			v, err := r.verifier(ctx, req, secrets)
			if err != nil {
				return nil, err
			}
			tok, err := v.ZoomEncryptedToken(req.verifyRequest(), b.Payload.PlainToken)
			if err != nil {
				return nil, &unverifiedError{route: r.name, err: err}
			}
			return asJSON(map[string]string{"plainToken": b.Payload.PlainToken, "encryptedToken": tok}), nil
		}
		// Another preset shaped like Zoom's: the first secret is the current one.
		if len(r.verify.Secrets) == 0 || secrets == nil {
			return nil, fmt.Errorf("mapping: route %s: %w: the zoom handshake needs a secret", r.name, ErrSecretUnavailable)
		}
		secret, err := secrets(ctx, r.verify.Secrets[0])
		if err != nil || secret == "" {
			return nil, fmt.Errorf("mapping: route %s: %w: %q", r.name, ErrSecretUnavailable, r.verify.Secrets[0])
		}
		return asJSON(map[string]string{"plainToken": b.Payload.PlainToken, "encryptedToken": verify.ZoomEncryptedToken([]byte(secret), b.Payload.PlainToken)}), nil
	case HandshakeTwitch:
		if strings.TrimSpace(req.Headers.Get("Twitch-Eventsub-Message-Type")) == "revocation" {
			// Twitch wants a 2xx and nothing else; the subscription is gone.
			return asJSON(map[string]any{"handshake": r.handshake, "sent": []string{}}), nil
		}
		var b struct {
			Challenge string `json:"challenge"`
		}
		if err := json.Unmarshal(req.Body, &b); err != nil {
			return nil, invalid("route %s: webhook_callback_verification: %v", r.name, err)
		}
		if err := checkChallenge("challenge", b.Challenge); err != nil {
			return nil, invalid("route %s: webhook_callback_verification: %v", r.name, err)
		}
		return text(b.Challenge), nil
	case HandshakeGraph:
		// Query holds the token already URL-decoded, which is what Graph
		// wants back.
		tok := req.Query.Get("validationToken")
		if err := checkChallenge("validationToken", tok); err != nil {
			return nil, invalid("route %s: %v", r.name, err)
		}
		return text(tok), nil
	case HandshakeEventGrid:
		var evs []struct {
			EventType string `json:"eventType"`
			Data      struct {
				ValidationCode string `json:"validationCode"`
			} `json:"data"`
		}
		if err := json.Unmarshal(req.Body, &evs); err != nil || len(evs) == 0 {
			return nil, invalid("route %s: SubscriptionValidation: body is not a non-empty array of events", r.name)
		}
		ev := evs[0]
		if ev.EventType != "Microsoft.EventGrid.SubscriptionValidationEvent" {
			return nil, invalid("route %s: SubscriptionValidation: eventType is %q", r.name, ev.EventType)
		}
		if err := checkChallenge("data.validationCode", ev.Data.ValidationCode); err != nil {
			return nil, invalid("route %s: SubscriptionValidation: %v", r.name, err)
		}
		return asJSON(map[string]string{"validationResponse": ev.Data.ValidationCode}), nil
	}
	return nil, nil
}

// checkChallenge refuses an empty, long or non-printable value, so an
// answer never echoes more than a token.
func checkChallenge(field, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is missing", field)
	case len(v) > maxChallenge:
		return fmt.Errorf("%s is %d bytes, at most %d", field, len(v), maxChallenge)
	}
	for _, c := range v {
		if !unicode.IsPrint(c) {
			return fmt.Errorf("%s holds a non-printable character", field)
		}
	}
	return nil
}

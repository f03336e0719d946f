package mapping

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Sentinel errors, one per webhook answer. Check them with errors.Is.
var (
	// ErrRouteNotFound: the routes file has no such route (404).
	ErrRouteNotFound = errors.New("route not found")
	// ErrUnverified: the signature is missing or wrong, or the timestamp is
	// outside the tolerance (401). Errors that match it also match
	// verify.ErrUnverified and the specific verify sentinel.
	ErrUnverified = errors.New("webhook not verified")
	// ErrInvalidPayload: the body does not fit the route: not UTF-8, not
	// JSON, a field a template or filter needs is missing, a rendered id is
	// empty (400). Redelivering the same body cannot succeed.
	ErrInvalidPayload = errors.New("invalid payload")
	// ErrEventNotHandled: verified and valid, but no action of the route
	// matched the event (202). Result.Skipped says why for each action.
	ErrEventNotHandled = errors.New("event not handled")
	// ErrSecretUnavailable: a secret the route verifies with could not be
	// resolved. A configuration or availability problem, not the sender's:
	// answer 5xx so the sender retries.
	ErrSecretUnavailable = errors.New("webhook secret unavailable")
)

// Request is one inbound event for a route.
type Request struct {
	Route   string
	Headers http.Header
	Body    []byte // the raw body, exactly as received
	// Query is the request's query string, decoded; only handshakes read
	// it (Microsoft Graph's validationToken).
	Query url.Values
	// URL is the public URL the sender posted to, for presets that sign it
	// (twilio; see verify.Request.URL); others ignore it.
	URL string
	Now time.Time // the clock for signature timestamps and templates; zero means time.Now
}

// SecretLookup resolves a secret name from a route's verify.secrets to its
// value (the webhook function reads them from the webhookSecrets object of
// the TalkJS secret). An error or empty value stops the request.
type SecretLookup func(ctx context.Context, name string) (string, error)

// Result is what an event maps to.
type Result struct {
	Route string `json:"route"`
	Event string `json:"event,omitempty"` // the event name the route derived, "" when it has no event selection
	Sends []Send `json:"sends,omitempty"`
	// Skipped says, for each action that sent nothing, why: which event
	// list or filter said no, or that its text rendered empty.
	Skipped []string `json:"skipped,omitempty"`
	// Delivery is the sender's id of this delivery, for log lines (not part
	// of the result): the one the keys derive from (the route's deliveryId
	// or a signed id) when there is one, else the id the sender's delivery
	// log shows (X-GitHub-Delivery, ...), else "sha256-" and the body's hash.
	// A header of the second kind is not covered by the signature, so it
	// names the delivery in logs only, never in idempotency keys.
	Delivery string `json:"-"`
	// Handshake, when set, is the whole answer: the request was the
	// sender checking the endpoint, and nothing is sent.
	Handshake *Handshake `json:"handshake,omitempty"`
}

// Send is what one action asks of TalkJS, in this order: upsert the users,
// upsert the conversation (when Conversation is set), then send Messages in
// one request.
type Send struct {
	Route          string                       `json:"route"`
	Action         int                          `json:"action"` // index of the action in the route
	ConversationID string                       `json:"conversationId"`
	Conversation   *talkjs.ConversationUpdate   `json:"conversation,omitempty"`
	Users          map[string]talkjs.UserUpdate `json:"users,omitempty"`
	// Recipients join the conversation with these settings after it is
	// upserted (the route's notify block); they are existing users.
	Recipients map[string]talkjs.Participation `json:"recipients,omitempty"`
	Messages   []talkjs.NewMessage             `json:"messages"`
}

// Webhook verifies req against its route's verify block using the raw body
// (before anything is parsed), then maps it like Trusted. It has no side
// effects and may be retried; the same request always maps to the same
// sends with the same idempotency keys.
func (c *Routes) Webhook(ctx context.Context, req Request, secrets SecretLookup) (Result, error) {
	r, ok := c.routes[req.Route]
	if !ok {
		return Result{Route: req.Route}, fmt.Errorf("mapping: %w: %q", ErrRouteNotFound, req.Route)
	}
	if r.handshake == HandshakeGraph && r.isHandshake(req) {
		h, err := r.answerHandshake(ctx, req, secrets)
		return Result{Route: r.name, Handshake: h}, err
	}
	if err := r.check(ctx, req, secrets); err != nil {
		return Result{Route: r.name}, err
	}
	if r.handshake != "" && r.isHandshake(req) {
		h, err := r.answerHandshake(ctx, req, secrets)
		return Result{Route: r.name, Handshake: h}, err
	}
	return c.mapRequest(r, req)
}

// Trusted maps req through its route without verifying it, for sources
// that are already authenticated (an SQS queue). It has no side effects.
func (c *Routes) Trusted(ctx context.Context, req Request) (Result, error) {
	r, ok := c.routes[req.Route]
	if !ok {
		return Result{Route: req.Route}, fmt.Errorf("mapping: %w: %q", ErrRouteNotFound, req.Route)
	}
	return c.mapRequest(r, req)
}

// VerifyConfig returns a route's verify block (secret names, not values).
func (c *Routes) VerifyConfig(routeName string) (verify.Config, bool) {
	r, ok := c.routes[routeName]
	if !ok {
		return verify.Config{}, false
	}
	return r.verify, true
}

func (r *route) check(ctx context.Context, req Request, secrets SecretLookup) error {
	v, err := r.verifier(ctx, req, secrets)
	if err != nil {
		return err
	}
	if err := v.VerifyRequest(req.verifyRequest()); err != nil {
		return &unverifiedError{route: r.name, err: err}
	}
	return nil
}

// verifyRequest is req as the verifier reads it.
func (req Request) verifyRequest() verify.Request {
	return verify.Request{Header: req.Headers, Body: req.Body, URL: req.URL}
}

// verifier builds the route's verifier with its secrets resolved and the
// request's clock.
func (r *route) verifier(ctx context.Context, req Request, secrets SecretLookup) (*verify.Verifier, error) {
	var keys [][]byte
	if r.verify.Preset != verify.PresetNone {
		if secrets == nil {
			return nil, fmt.Errorf("mapping: route %s: %w: no secret lookup", r.name, ErrSecretUnavailable)
		}
		for _, name := range r.verify.Secrets {
			s, err := secrets(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("mapping: route %s: %w: %q: %w", r.name, ErrSecretUnavailable, name, err)
			}
			if s == "" {
				return nil, fmt.Errorf("mapping: route %s: %w: %q is empty", r.name, ErrSecretUnavailable, name)
			}
			keys = append(keys, []byte(s))
		}
	}
	v, err := verify.New(r.verify, keys)
	if err != nil {
		return nil, fmt.Errorf("mapping: route %s: %w: %w", r.name, ErrSecretUnavailable, err)
	}
	if !req.Now.IsZero() {
		now := req.Now
		v.Now = func() time.Time { return now }
	}
	return v, nil
}

// unverifiedError matches both ErrUnverified and everything the verifier's
// error matches.
type unverifiedError struct {
	route string
	err   error
}

func (e *unverifiedError) Error() string {
	return fmt.Sprintf("mapping: route %s: %v", e.route, e.err)
}
func (e *unverifiedError) Unwrap() []error { return []error{ErrUnverified, e.err} }

func invalid(format string, args ...any) error {
	return fmt.Errorf("mapping: %w: %s", ErrInvalidPayload, fmt.Sprintf(format, args...))
}

// logDeliveryHeaders are what senders name a delivery by in their delivery
// logs, so an operator can find its log lines; the signature covers none of
// them, so they never make an idempotency key.
var logDeliveryHeaders = []string{"X-GitHub-Delivery", "X-Shopify-Webhook-Id", "X-Slack-Request-Id", "X-Gitlab-Event-UUID"}

func (c *Routes) mapRequest(r *route, req Request) (Result, error) {
	res := Result{Route: r.name}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	payload, err := decodeBody(req.Headers, req.Body)
	if err != nil {
		return res, err
	}
	headers := toHeaderMap(req.Headers)
	event, err := r.event(headers, payload)
	if err != nil {
		return res, err
	}
	res.Event = event
	data := map[string]any{
		"headers": headers,
		"payload": payload,
		"route":   r.name,
		"event":   event,
		"now":     now.UTC(),
	}
	delivery := ""
	if r.deliveryID != nil {
		d, err := r.deliveryID.render(data)
		if err != nil {
			return res, invalid("route %s: deliveryId: %v", r.name, err)
		}
		delivery = d
	} else {
		// Only an id the signature covers: a header it does not cover
		// (X-GitHub-Delivery, X-Shopify-Webhook-Id) can be changed by
		// whoever replays a captured body, and each new value would be a
		// new message. A sender's retry repeats the body byte for byte, so
		// the body's hash keys it as well; see "Idempotency keys" in
		// README.md for what that costs.
		delivery = r.verify.SignedDeliveryID(req.Headers)
	}
	res.Delivery = delivery
	if delivery == "" {
		delivery = "sha256-" + shortHash(req.Body)
		res.Delivery = delivery
		for _, h := range logDeliveryHeaders {
			if v := strings.TrimSpace(req.Headers.Get(h)); v != "" {
				res.Delivery = v
				break
			}
		}
	}
	quoted := ""
	for _, a := range r.actions {
		if len(a.on) > 0 && !matchEvent(a.on, event) {
			if quoted == "" {
				quoted = quote(event)
			}
			res.Skipped = append(res.Skipped, notOnReason(a, quoted))
			continue
		}
		if a.when != nil {
			out, err := a.when.run(data)
			if err != nil {
				return res, invalid("route %s: %s: when: %s", r.name, a.label(), oneLine(err.Error()))
			}
			b, isBool := out.(bool)
			if !isBool {
				return res, invalid("route %s: %s: when: result is %s, not a boolean", r.name, a.label(), kindName(out))
			}
			if !b {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: when %q is false", a.label(), a.whenSrc))
				continue
			}
		}
		s, skip, err := c.render(r, a, data, delivery)
		if err != nil {
			return res, err
		}
		if skip != "" {
			res.Skipped = append(res.Skipped, a.label()+": "+skip)
			continue
		}
		res.Sends = append(res.Sends, s)
	}
	if len(res.Sends) == 0 {
		return res, fmt.Errorf("mapping: route %s: %w: %s", r.name, ErrEventNotHandled, strings.Join(res.Skipped, "; "))
	}
	return res, nil
}

// quote is strconv.Quote, without its per-rune checks for the common
// event name of printable ASCII.
func quote(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.Quote(s)
		}
	}
	return `"` + s + `"`
}

// notOnReason is fmt.Sprintf("%s: event %q is not in on %v", a.label(),
// event, a.on), given quote(event), in one allocation: every delivery skips
// most of its route's actions.
func notOnReason(a *action, quotedEvent string) string {
	n := len(a.name) + len(quotedEvent) + 48
	for _, o := range a.on {
		n += len(o) + 1
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString("action ")
	b.WriteString(strconv.Itoa(a.index))
	if a.name != "" {
		b.WriteString(" (")
		b.WriteString(a.name)
		b.WriteString(")")
	}
	b.WriteString(": event ")
	b.WriteString(quotedEvent)
	b.WriteString(" is not in on [")
	for i, o := range a.on {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(o)
	}
	b.WriteString("]")
	return b.String()
}

func (a *action) label() string {
	if a.name != "" {
		return "action " + strconv.Itoa(a.index) + " (" + a.name + ")"
	}
	return "action " + strconv.Itoa(a.index)
}

// matchEvent reports whether event is one of on: equal, a dotted prefix
// ("issues" matches "issues.opened"), or "*".
func matchEvent(on []string, event string) bool {
	for _, o := range on {
		if o == "*" || o == event || strings.HasPrefix(event, o+".") {
			return true
		}
		if p, ok := strings.CutSuffix(o, ".*"); ok && strings.HasPrefix(event, p+".") {
			return true
		}
	}
	return false
}

func (r *route) event(headers headerMap, payload any) (string, error) {
	var parts []string
	if r.eventHeader != "" {
		v := strings.TrimSpace(headers[strings.ToLower(r.eventHeader)])
		for _, alt := range r.eventHeaderAlt {
			if v != "" {
				break
			}
			v = strings.TrimSpace(headers[strings.ToLower(alt)])
		}
		if v == "" {
			return "", invalid("route %s: header %s is missing", r.name, r.eventHeader)
		}
		parts = append(parts, v)
	}
	if r.eventField != "" {
		switch v := fnGet(payload, r.eventField).(type) {
		case nil:
			if r.eventHeader == "" {
				return "", invalid("route %s: field %s is missing", r.name, r.eventField)
			}
			// Some events of a family have no action (GitHub push, ping).
		case string, int64, float64, bool:
			if s := format(v); s != "" {
				parts = append(parts, s)
			}
		default:
			return "", invalid("route %s: field %s is %s, not a string", r.name, r.eventField, kindName(v))
		}
	}
	return strings.Join(parts, "."), nil
}

// decodeBody parses a JSON body (or GitHub's form-encoded payload=, or any
// other form as an object of its fields), with
// numbers as int64 where they fit so large ids stay exact.
func decodeBody(h http.Header, body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, invalid("body is not valid UTF-8")
	}
	// Only a value naming the form type can parse to it: most bodies
	// (application/json) skip ParseMediaType's allocations.
	if ct := h.Get("Content-Type"); containsFold(ct, "x-www-form-urlencoded") && mediaType(ct) == "application/x-www-form-urlencoded" {
		if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			// Not a form, whatever the header says; guessing would map a
			// mislabeled body to a form of one odd field.
			return nil, invalid("body is labeled form-encoded but holds JSON: send it as application/json")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, invalid("form-encoded body does not parse: %v", err)
		}
		if !form.Has("payload") {
			// A plain form (Twilio): its fields, as strings.
			return formObject(form), nil
		}
		body = []byte(form.Get("payload"))
		if !utf8.Valid(body) {
			return nil, invalid("payload field is not valid UTF-8")
		}
	}
	return decodeJSON(body)
}

func mediaType(v string) string {
	ct, _, _ := mime.ParseMediaType(v)
	return ct
}

// containsFold reports whether s contains the lower-case ASCII sub in any
// letter case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// formObject turns form fields into an object: a field sent once is a
// string, one sent several times a list of strings.
func formObject(form url.Values) map[string]any {
	out := make(map[string]any, len(form))
	for k, vs := range form {
		if len(vs) == 1 {
			out[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		out[k] = list
	}
	return out
}

func decodeJSON(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, invalid("body is empty, want JSON")
	}
	if !slowPathsOnly.Load() {
		if v, ok := decodeJSONFast(body); ok {
			return v, nil
		}
	}
	return decodeJSONGeneral(body)
}

// decodeJSONGeneral is decodeJSON with encoding/json, for what the fast
// decoder leaves (and its errors).
func decodeJSONGeneral(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalid("body is not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("body is not JSON: data after the first value")
	}
	return numbers(v), nil
}

// numbers turns json.Number into int64 when whole and in range, float64
// otherwise, so filters compare numbers and templates print them exactly.
func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return f
		}
		return string(v)
	case map[string]any:
		for k, x := range v {
			v[k] = numbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = numbers(x)
		}
	}
	return v
}

func toHeaderMap(h http.Header) headerMap {
	m := make(headerMap, len(h))
	for k, vs := range h {
		m[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return m
}

func shortHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// maxKey bounds an idempotency key; longer or unusual keys are hashed.
const maxKey = 128

// safeKeyPart returns s when it is short and made of URL-safe printable
// ASCII, else a hash of it, so keys stay short and deterministic.
func safeKeyPart(s string, max int) string {
	ok := len(s) <= max && s != ""
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:~", c) >= 0
	}
	if ok {
		return s
	}
	return "sha256-" + shortHash([]byte(s))
}

func (c *Routes) render(r *route, a *action, data map[string]any, delivery string) (Send, string, error) {
	errf := func(field string, err error) error {
		return invalid("route %s: %s: %s: %v", r.name, a.label(), field, err)
	}
	s := Send{Route: r.name, Action: a.index}
	id, err := renderID(talkjs.KindConversation, a.convID, data)
	if err != nil {
		return s, "", errf("conversation.id", err)
	}
	s.ConversationID = id
	if a.upsert {
		cu := &talkjs.ConversationUpdate{}
		if a.subject != nil {
			v, err := a.subject.render(data)
			if err != nil {
				return s, "", errf("conversation.subject", err)
			}
			v = capRunes(strings.TrimSpace(v), c.limits.MaxSubjectLength)
			cu.Subject = &v
		}
		if a.photoURL != nil {
			v, err := a.photoURL.render(data)
			if err != nil {
				return s, "", errf("conversation.photoUrl", err)
			}
			cu.PhotoURL = &v
		}
		for i, t := range a.participants {
			v, err := t.render(data)
			if err != nil {
				return s, "", errf(fmt.Sprintf("conversation.participants[%d]", i), err)
			}
			// An empty participant is a template saying "nobody here".
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(cu.Participants, v) {
				cu.Participants = append(cu.Participants, v)
			}
		}
		if cu.Custom, err = renderCustom(a.convCustom, data); err != nil {
			return s, "", errf("conversation.custom", err)
		}
		for i, t := range a.welcome {
			v, err := t.render(data)
			if err != nil {
				return s, "", errf(fmt.Sprintf("conversation.welcomeMessages[%d]", i), err)
			}
			if v = strings.TrimSpace(v); v != "" {
				cu.WelcomeMessages = append(cu.WelcomeMessages, capRunes(v, c.limits.MaxTextLength))
			}
		}
		s.Conversation = cu
	}
	for _, u := range a.users {
		uid, err := renderID(talkjs.KindUser, u.id, data)
		if err != nil {
			return s, "", errf("users", err)
		}
		var uu talkjs.UserUpdate
		for _, f := range []struct {
			name string
			t    *tmpl
			dst  **string
		}{{"name", u.name, &uu.Name}, {"photoUrl", u.photoURL, &uu.PhotoURL}, {"role", u.role, &uu.Role}} {
			if f.t == nil {
				continue
			}
			v, err := f.t.render(data)
			if err != nil {
				return s, "", errf("users."+uid+"."+f.name, err)
			}
			if f.name != "photoUrl" {
				// Names are shown next to every message: no bidi
				// controls or invisible characters from the payload.
				v = cleanText(v)
			}
			*f.dst = &v
		}
		for _, t := range u.email {
			v, err := t.render(data)
			if err != nil {
				return s, "", errf("users."+uid+".email", err)
			}
			if v = strings.TrimSpace(v); v != "" {
				uu.Email = append(uu.Email, v)
			}
		}
		if uu.Custom, err = renderCustom(u.custom, data); err != nil {
			return s, "", errf("users."+uid+".custom", err)
		}
		if s.Users == nil {
			s.Users = map[string]talkjs.UserUpdate{}
		}
		s.Users[uid] = uu
	}
	bot := ""
	if r.notify != nil {
		if bot, err = r.notify.apply(&s, data); err != nil {
			return s, "", invalid("route %s: %s: %v", r.name, a.label(), err)
		}
	}
	base := ""
	if a.key != nil {
		k, err := a.key.render(data)
		if err != nil {
			return s, "", errf("idempotencyKey", err)
		}
		if strings.TrimSpace(k) == "" {
			return s, "", errf("idempotencyKey", errors.New("rendered empty"))
		}
		base = safeKeyPart(k, maxKey-4)
	} else {
		base = r.name + ":" + safeKeyPart(delivery, 80) + ":" + strconv.Itoa(a.index)
	}
	var empties []string
	for i, m := range a.messages {
		text, err := m.text.render(data)
		if err != nil {
			return s, "", errf(msgField(a, i, "text"), err)
		}
		text = strings.TrimSpace(text)
		if text == "" {
			empties = append(empties, fmt.Sprintf("message %d text rendered empty", i))
			continue
		}
		nm := talkjs.NewMessage{Type: m.typ, Text: capRunes(text, c.limits.MaxTextLength)}
		if m.sender != nil {
			if nm.Sender, err = renderID(talkjs.KindUser, m.sender, data); err != nil {
				return s, "", errf(msgField(a, i, "sender"), err)
			}
		} else if bot != "" && !m.typeSet {
			// The route notifies people: TalkJS notifies them only of
			// UserMessages, so the bot says it.
			nm.Type, nm.Sender = talkjs.UserMessage, bot
		}
		if m.refID != nil {
			if nm.ReferencedMessageID, err = m.refID.render(data); err != nil {
				return s, "", errf(msgField(a, i, "referencedMessageId"), err)
			}
		}
		if nm.Custom, err = renderCustom(m.custom, data); err != nil {
			return s, "", errf(msgField(a, i, "custom"), err)
		}
		nm.IdempotencyKey = base
		if len(a.messages) > 1 {
			nm.IdempotencyKey = base + ":" + strconv.Itoa(i)
		}
		s.Messages = append(s.Messages, nm)
	}
	if len(s.Messages) == 0 {
		return s, strings.Join(empties, ", "), nil
	}
	return s, "", nil
}

func msgField(a *action, i int, f string) string {
	if len(a.messages) > 1 {
		return fmt.Sprintf("messages[%d].%s", i, f)
	}
	return "message." + f
}

// renderID renders a conversation or user id, trimmed, and checks it with
// talkjs.ValidateID, the one id rule.
func renderID(kind talkjs.IDKind, t *tmpl, data map[string]any) (string, error) {
	v, err := t.render(data)
	if err != nil {
		return "", err
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errors.New("rendered empty")
	}
	if err := talkjs.ValidateID(kind, v); err != nil {
		return "", fmt.Errorf("rendered %w", err)
	}
	return v, nil
}

func renderCustom(kvs []kv, data map[string]any) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(kvs))
	for _, e := range kvs {
		v, err := e.val.render(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.key, err)
		}
		out[e.key] = v
	}
	return out, nil
}

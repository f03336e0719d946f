package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/internal/metrics"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// DefaultMaxBody is the largest body accepted when Server.MaxBody is zero.
const DefaultMaxBody = 1 << 20

// Request is an inbound webhook, whatever front door it came through.
type Request struct {
	Method string
	// Route is the {route} part of POST /webhooks/{route}.
	Route   string
	Headers http.Header
	Body    []byte
	// Query is the decoded query string; handshakes read it (Microsoft
	// Graph's validationToken).
	Query url.Values
	// URL is the public URL the sender posted to, for schemes that sign it
	// (Twilio); Server.PublicBaseURL replaces its base when set.
	URL string
}

// Response is what the sender gets back.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// Server verifies, maps and delivers webhooks. It is safe for concurrent use.
type Server struct {
	Routes  *mapping.Routes
	TalkJS  dispatch.TalkJS
	Secrets mapping.SecretLookup
	Logger  *slog.Logger
	// MaxBody bounds the body size; zero means DefaultMaxBody.
	MaxBody int
	// Now is the clock for signature timestamps and templates.
	Now func() time.Time
	// Memo, when set, lets a warm container skip upserts it made already.
	Memo *dispatch.Memo
	// PublicBaseURL, when set, is the URL senders are given up to
	// /webhooks/ (e.g. https://hooks.example.com/chat for a custom domain):
	// the URL a signing scheme checks (Twilio) is then
	// PublicBaseURL/webhooks/<route>[?query] instead of the one the event tells.
	PublicBaseURL string
	// Queue, when set, is the command queue a verified and mapped delivery
	// is put on (queue mode, enqueue.go): answered 202, no TalkJS call.
	Queue *CommandQueue
}

// sentBody is the answer to a delivered webhook, and to one TalkJS refused
// in part (422), which lists what was sent all the same.
type sentBody struct {
	Sent     []dispatch.Delivered `json:"sent"`
	Rejected []rejectedSend       `json:"rejected,omitempty"`
}

// errorBody is the answer to a refused webhook: a short reason the sender's
// delivery log can show.
type errorBody struct {
	Error  string `json:"error"`
	Reason string `json:"reason,omitempty"`
}

// Serve handles one webhook. It never panics: a bug answers 500, which
// makes the sender retry, and the stack goes to the log.
func (s *Server) Serve(ctx context.Context, req Request) (resp Response) {
	// The route as asked for, in the log; metrics get a Route dimension only
	// once the route is known to exist (a path is anyone's to make up).
	ctx = logging.With(ctx, logging.RouteKey, req.Route)
	log := s.logger()
	defer func() {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "webhook handler panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp = answer(http.StatusInternalServerError, "internal error", "")
		}
	}()
	if req.Method != "" && req.Method != http.MethodPost {
		r := answer(http.StatusMethodNotAllowed, "method not allowed", "webhooks are delivered with POST")
		r.Header.Set("Allow", http.MethodPost)
		return r
	}
	if limit := s.maxBody(); len(req.Body) > limit {
		log.WarnContext(ctx, "webhook refused", "status", 413, "size", len(req.Body))
		return answer(http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("the limit is %d bytes", limit))
	}
	mreq := mapping.Request{Route: req.Route, Headers: req.Headers, Body: req.Body, Query: req.Query, URL: s.publicURL(req), Now: s.now()}
	// A handshake is answered here, before anything could map or queue it.
	hs, err := s.Routes.Handshake(ctx, mreq, s.Secrets)
	if hs != nil && err == nil {
		log.InfoContext(ctx, "webhook handshake answered", "handshake", hs.Kind)
		return handshakeAnswer(hs)
	}
	var res mapping.Result
	if err == nil {
		res, err = s.Routes.Webhook(ctx, mreq, s.Secrets)
	}
	if err == nil && res.Handshake != nil {
		return handshakeAnswer(res.Handshake)
	}
	if err != nil {
		status, title := mappingStatus(err)
		log.WarnContext(ctx, "webhook refused", "status", status, "reason", err.Error())
		if status == http.StatusAccepted {
			return answer(s.notHandledStatus(req.Route), title, err.Error())
		}
		return answer(status, title, publicReason(status, err))
	}
	ctx = logging.With(dispatch.About(ctx, res.Route, ""), logging.DeliveryIDKey, res.Delivery)
	log = log.With("event", res.Event)
	if len(res.Sends) == 0 {
		log.InfoContext(ctx, "webhook accepted, no action matched", "skipped", res.Skipped)
		return jsonAnswer(s.notHandledStatus(req.Route), map[string]any{"sent": []any{}, "skipped": res.Skipped})
	}
	if s.Queue != nil {
		return s.enqueue(ctx, log, req.Route, res.Sends)
	}
	sender := dispatch.NewSender(s.TalkJS)
	sender.Memo = s.Memo
	var out sentBody
	for _, send := range res.Sends {
		d, err := sender.Deliver(ctx, send)
		if err == nil {
			out.Sent = append(out.Sent, d)
			continue
		}
		status := deliveryStatus(err)
		log.ErrorContext(dispatch.About(ctx, "", send.ConversationID), "webhook not delivered", "status", status, "conversationId", send.ConversationID, "reason", err.Error())
		if status != http.StatusUnprocessableEntity {
			// The sender will deliver the webhook again; the sends already
			// made are deduplicated then by their idempotency keys, and
			// going on while TalkJS is failing would only spend the timeout.
			return answer(status, http.StatusText(status), senderReason(status, err))
		}
		// TalkJS refused this one for good; the route's other sends (to
		// other conversations) still go out.
		metrics.FromContext(ctx).Rejected(1)
		out.Rejected = append(out.Rejected, rejectedSend{ConversationID: send.ConversationID, Reason: senderReason(status, err)})
	}
	if len(out.Rejected) > 0 {
		return jsonAnswer(s.refusedStatus(req.Route), out)
	}
	log.InfoContext(ctx, "webhook delivered", "sent", out.Sent)
	return jsonAnswer(http.StatusOK, out)
}

// publicURL is the URL the sender posted to, as a signing scheme sees it.
func (s *Server) publicURL(req Request) string {
	if s.PublicBaseURL == "" {
		return req.URL
	}
	u := strings.TrimSuffix(s.PublicBaseURL, "/") + "/webhooks/" + req.Route
	if _, q, ok := strings.Cut(req.URL, "?"); ok && q != "" {
		u += "?" + q
	}
	return u
}

// handshakeAnswer is the answer a handshake asks for, exactly: senders
// compare its body byte for byte.
func handshakeAnswer(h *mapping.Handshake) Response {
	hdr := make(http.Header)
	hdr.Set("Content-Type", h.ContentType)
	// The plain-text answers echo a token; never let a browser sniff it.
	hdr.Set("X-Content-Type-Options", "nosniff")
	return Response{Status: h.Status, Body: []byte(h.Body), Header: hdr}
}

// notHandledStatus is the answer to a verified event no action wants: 202,
// except to TalkJS, which retries any answer but 200 (once, shortly after)
// and would only deliver the same unwanted event again.
func (s *Server) notHandledStatus(route string) int {
	if vc, ok := s.Routes.VerifyConfig(route); ok && vc.Preset == verify.PresetTalkJS {
		return http.StatusOK
	}
	return http.StatusAccepted
}

// disablesOn4xx are the presets of senders that disable (or stop
// retrying and then disable) an endpoint that keeps answering 4xx: GitLab
// disables a hook for good after four 4xx, PagerDuty drops 4xx and pauses
// a subscription after three drops, Stripe, Shopify and Svix-style senders
// disable endpoints that keep failing, and TalkJS retries any answer but
// 200. A TalkJS refusal is the bridge's problem, not theirs: see refusedStatus.
var disablesOn4xx = map[string]bool{
	verify.PresetStripe: true, verify.PresetShopify: true, verify.PresetStandardWebhooks: true,
	verify.PresetTalkJS: true, "gitlab": true, "gitlab-signing": true, "pagerduty": true,
}

// refusedStatus is the answer when TalkJS refused a send for good (422 by
// default: redelivering cannot help). For senders that disable endpoints
// over 4xx it is 200: the refusal is logged and counted (metric Rejected),
// the answer body lists it, and the endpoint stays enabled for the events
// that can be delivered. In direct mode the refused event is not kept
// anywhere else; the queued intake keeps it in the rejects queue.
func (s *Server) refusedStatus(route string) int {
	if vc, ok := s.Routes.VerifyConfig(route); ok && disablesOn4xx[vc.Preset] {
		return http.StatusOK
	}
	return http.StatusUnprocessableEntity
}

// rejectedSend is a send TalkJS refused, in a 422 answer.
type rejectedSend struct {
	ConversationID string `json:"conversationId"`
	Reason         string `json:"reason"`
}

// mappingStatus maps an error from mapping to the status table.
func mappingStatus(err error) (int, string) {
	switch {
	case errors.Is(err, mapping.ErrRouteNotFound):
		return http.StatusNotFound, "no such route"
	case errors.Is(err, mapping.ErrUnverified):
		return http.StatusUnauthorized, "signature not verified"
	case errors.Is(err, mapping.ErrEventNotHandled):
		return http.StatusAccepted, "event not handled by this route"
	case errors.Is(err, mapping.ErrInvalidPayload):
		return http.StatusBadRequest, "payload not valid for this route"
	case errors.Is(err, mapping.ErrSecretUnavailable), errors.Is(err, talkjs.ErrKeyUnavailable):
		// The webhook cannot be verified right now; fail closed, but
		// tell the sender to come back rather than to give up.
		return http.StatusServiceUnavailable, "webhook secret unavailable, retry later"
	}
	return http.StatusInternalServerError, "internal error"
}

// publicReason keeps details that help an attacker (which check failed and
// how) out of 401 answers; the log has them.
func publicReason(status int, err error) string {
	switch status {
	case http.StatusUnauthorized, http.StatusInternalServerError, http.StatusServiceUnavailable:
		return ""
	}
	return err.Error()
}

// senderReason says why a delivery failed in words fit for the webhook's
// sender, whose delivery log anyone with access to the sending account can
// read: what TalkJS answered, never the request's URL or path, which name
// the TalkJS endpoint and the app id (the log has the whole error). The
// body of a TalkJS refusal (422) is kept, as it says what to fix; that of
// a TalkJS failure (5xx) is not.
func senderReason(status int, err error) string {
	var apiErr *talkjs.APIError
	switch {
	case errors.As(err, &apiErr):
		r := fmt.Sprintf("TalkJS answered %d %s", apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
		if body := strings.Join(strings.Fields(apiErr.Body), " "); status == http.StatusUnprocessableEntity && body != "" {
			r += ": " + body
		}
		return r
	case errors.Is(err, talkjs.ErrInvalidRequest), errors.Is(err, dispatch.ErrInvalidRecord):
		// Refused before any request: the innermost reason, without the
		// method and path the client puts in front of it.
		msg := err.Error()
		for _, sentinel := range []error{talkjs.ErrInvalidRequest, dispatch.ErrInvalidRecord} {
			if i := strings.LastIndex(msg, sentinel.Error()); i >= 0 {
				return msg[i:]
			}
		}
		return "invalid request"
	case status == http.StatusServiceUnavailable:
		return "TalkJS could not be reached in time, or asked to slow down; deliver again later"
	}
	return "delivery failed; deliver again later"
}

// deliveryStatus maps a delivery error: 422 when TalkJS refused the message
// (the sender should not retry), 502 when TalkJS failed, 503 when it could
// not be reached or asked us to slow down (the sender should retry).
func deliveryStatus(err error) int {
	if dispatch.Classify(err) == dispatch.Reject {
		return http.StatusUnprocessableEntity
	}
	var apiErr *talkjs.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode >= 500 {
		return http.StatusBadGateway
	}
	return http.StatusServiceUnavailable
}

func answer(status int, title, reason string) Response {
	return jsonAnswer(status, errorBody{Error: title, Reason: reason})
}

func jsonAnswer(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"internal error"}`)
		status = http.StatusInternalServerError
	}
	h := make(http.Header)
	h.Set("Content-Type", "application/json")
	return Response{Status: status, Body: b, Header: h}
}

func (s *Server) maxBody() int {
	if s.MaxBody > 0 {
		return s.MaxBody
	}
	return DefaultMaxBody
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// routeFromPath takes {route} out of a path ending in /webhooks/{route}; a
// stage or base path in front of it is ignored.
func routeFromPath(path string) string {
	path = strings.TrimSuffix(path, "/")
	i := strings.LastIndex(path, "/webhooks/")
	if i < 0 {
		return ""
	}
	route := path[i+len("/webhooks/"):]
	if strings.Contains(route, "/") {
		return ""
	}
	return route
}

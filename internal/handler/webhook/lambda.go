package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
)

// ErrUnknownEvent is returned for an invocation that is not an API Gateway
// or function URL event; Lambda reports it as a function error.
var ErrUnknownEvent = errors.New("webhook: event is not an API Gateway REST (v1), HTTP API (v2) or function URL event")

// gatewayEvent holds what the webhook reads of the three event shapes, so
// an event is decoded once, into only these fields.
type gatewayEvent struct {
	Version           string              `json:"version"`
	RawPath           string              `json:"rawPath"`
	Path              string              `json:"path"`
	HTTPMethod        string              `json:"httpMethod"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	PathParameters    map[string]string   `json:"pathParameters"`
	RawQueryString    string              `json:"rawQueryString"`
	QueryParameters   map[string]string   `json:"queryStringParameters"`
	MultiValueQuery   map[string][]string `json:"multiValueQueryStringParameters"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	RequestContext    struct {
		HTTP struct {
			Method string `json:"method"`
		} `json:"http"`
		DomainName string `json:"domainName"`
		Path       string `json:"path"` // v1: the path with the stage
		Stage      string `json:"stage"`
	} `json:"requestContext"`
}

// Event is an inbound webhook as an API Gateway REST API (v1), HTTP API
// (v2) or function URL event carries it.
type Event struct {
	// V2 is set for HTTP API and function URL events, which share an answer
	// shape; REST API events are answered in the v1 shape.
	V2     bool
	Method string
	// Route is {route} of /webhooks/{route}, from the path parameters or
	// the path; "" when the path names none.
	Route  string
	Header http.Header
	// Query is the decoded query string.
	Query url.Values
	// URL is the public URL the request was posted to, as far as the event
	// tells it (https, the API's domain, the path with its stage, the
	// query), for schemes that sign it (Twilio). Behind a custom domain
	// mapped to another base path it differs from what the sender was given.
	URL string
	// Body is as the event holds it: base64 when IsBase64Encoded.
	Body            string
	IsBase64Encoded bool
}

// ParseEvent reads an API Gateway or function URL event: v1's
// multiValueHeaders win over its headers, as API Gateway fills both. Keys
// that differ only in case (X-Hub-Signature-256 and x-hub-signature-256)
// are kept as values of one header, in sorted key order, so that the
// verifier sees both copies and refuses two different ones the same way
// every time, rather than keeping whichever map order gave last. An event
// of another shape is an ErrUnknownEvent. It is a pure function.
func ParseEvent(raw []byte) (Event, error) {
	ev, err := decodeEvent(raw)
	if err != nil {
		return Event{}, err
	}
	out := Event{Body: ev.Body, IsBase64Encoded: ev.IsBase64Encoded, Route: ev.PathParameters["route"]}
	switch {
	case ev.Version == "2.0" || ev.RawPath != "":
		out.V2, out.Method = true, ev.RequestContext.HTTP.Method
		ha := newHeaderAdder(len(ev.Headers))
		for _, k := range sortedKeys(ev.Headers) {
			ha.add(k, ev.Headers[k])
		}
		out.Header = ha.h
		if out.Route == "" {
			out.Route = routeFromPath(ev.RawPath)
		}
		// rawQueryString is exactly what the sender sent; the map is
		// the fallback for hand-made events that lack it.
		out.URL = publicURL(ev.RequestContext.DomainName, out.Header, ev.RawPath, ev.RawQueryString)
		if q, err := url.ParseQuery(ev.RawQueryString); err == nil && ev.RawQueryString != "" {
			out.Query = q
		} else {
			out.Query = make(url.Values, len(ev.QueryParameters))
			for k, v := range ev.QueryParameters {
				out.Query.Set(k, v)
			}
		}
	case ev.HTTPMethod != "":
		out.Method = ev.HTTPMethod
		n := len(ev.Headers)
		for _, vs := range ev.MultiValueHeaders {
			n += len(vs)
		}
		ha := newHeaderAdder(n)
		for _, k := range sortedKeys(ev.MultiValueHeaders) {
			for _, v := range ev.MultiValueHeaders[k] {
				ha.add(k, v)
			}
		}
		// API Gateway fills headers with the last value of each
		// multiValueHeaders key, spelled the same: those are already in.
		// A key spelled otherwise is another copy, and is kept.
		for _, k := range sortedKeys(ev.Headers) {
			if _, ok := ev.MultiValueHeaders[k]; !ok {
				ha.add(k, ev.Headers[k])
			}
		}
		out.Header = ha.h
		if out.Route == "" {
			out.Route = routeFromPath(ev.Path)
		}
		// Like headers: the multi-value map wins; API Gateway has decoded both.
		out.Query = make(url.Values, len(ev.QueryParameters))
		for k, vs := range ev.MultiValueQuery {
			for _, v := range vs {
				out.Query.Add(k, v)
			}
		}
		for k, v := range ev.QueryParameters {
			if !out.Query.Has(k) {
				out.Query.Set(k, v)
			}
		}
		path := ev.RequestContext.Path
		if path == "" {
			path = ev.Path
			if st := ev.RequestContext.Stage; st != "" && st != "$default" {
				path = "/" + st + path
			}
		}
		// A REST API event keeps no raw query string: the parameters are
		// re-encoded in key order, which matches the sender's URL only
		// when it was written that way.
		out.URL = publicURL(ev.RequestContext.DomainName, out.Header, path, out.Query.Encode())
	default:
		return Event{}, ErrUnknownEvent
	}
	return out, nil
}

// decodeEvent reads the fields of gatewayEvent, without reflection where
// decodeEventFast can.
func decodeEvent(raw []byte) (gatewayEvent, error) {
	var ev gatewayEvent
	if decodeEventFast(raw, &ev) {
		return ev, nil
	}
	ev = gatewayEvent{}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return gatewayEvent{}, fmt.Errorf("%w: %v", ErrUnknownEvent, err)
	}
	return ev, nil
}

// headerAdder builds an http.Header as Header.Add does, the first value
// of each key in a slice of one shared array rather than in an allocation
// of its own (a delivery has a dozen headers or more).
type headerAdder struct {
	h    http.Header
	vals []string
}

func newHeaderAdder(n int) headerAdder {
	return headerAdder{h: make(http.Header, n), vals: make([]string, 0, n)}
}

func (a *headerAdder) add(k, v string) {
	k = textproto.CanonicalMIMEHeaderKey(k)
	if old, ok := a.h[k]; ok || len(a.vals) == cap(a.vals) {
		a.h[k] = append(old, v)
		return
	}
	a.vals = append(a.vals, v)
	// Capped at its one value, so a second value reallocates instead of
	// overwriting the next key's.
	a.h[k] = a.vals[len(a.vals)-1 : len(a.vals) : len(a.vals)]
}

// Handle is the Lambda entry point. It answers in the shape of the event it
// got: a REST API proxy response for v1, an HTTP API response for v2 and
// function URLs (they share it). Refusals are answers, not errors, so that
// API Gateway passes their status on to the sender.
func (s *Server) Handle(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	ev, err := ParseEvent(raw)
	if err != nil {
		return nil, err
	}
	resp := s.serveEvent(ctx, ev)
	return appendResponse(make([]byte, 0, 128+len(resp.Body)), ev.V2, resp.Status, resp.Header, string(resp.Body)), nil
}

func (s *Server) serveEvent(ctx context.Context, ev Event) Response {
	body, route := ev.Body, ev.Route
	raw := []byte(body)
	b64 := ev.IsBase64Encoded
	if b64 {
		// Check the size before decoding so a huge body costs nothing.
		if base64.StdEncoding.DecodedLen(len(body)) > s.maxBody()+3 {
			return answer(http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("the limit is %d bytes", s.maxBody()))
		}
		var err error
		if raw, err = base64.StdEncoding.DecodeString(body); err != nil {
			return answer(http.StatusBadRequest, "body is not valid base64", "isBase64Encoded is true but the body does not decode")
		}
	}
	if route == "" {
		return answer(http.StatusNotFound, "no such route", "POST /webhooks/{route}")
	}
	return s.Serve(ctx, Request{Method: ev.Method, Route: route, Headers: ev.Header, Body: raw, Query: ev.Query, URL: ev.URL})
}

// publicURL is https://<domain><path>[?query]; the domain is the event's,
// else the Host header. "" when neither is known.
func publicURL(domain string, h http.Header, path, rawQuery string) string {
	if domain == "" {
		domain = h.Get("Host")
	}
	if domain == "" {
		return ""
	}
	u := "https://" + domain + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

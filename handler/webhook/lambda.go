package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// ErrUnknownEvent is returned for an invocation that is not an API Gateway
// or function URL event; Lambda reports it as a function error.
var ErrUnknownEvent = errors.New("webhook: event is not an API Gateway REST (v1), HTTP API (v2) or function URL event")

// probe holds the fields that tell the three event shapes apart.
type probe struct {
	Version    string `json:"version"`
	HTTPMethod string `json:"httpMethod"`
	RawPath    string `json:"rawPath"`
}

// Handle is the Lambda entry point. It answers in the shape of the event it
// got: a REST API proxy response for v1, an HTTP API response for v2 and
// function URLs (they share it). Refusals are answers, not errors, so that
// API Gateway passes their status on to the sender.
func (s *Server) Handle(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var p probe
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownEvent, err)
	}
	switch {
	case p.Version == "2.0" || p.RawPath != "":
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnknownEvent, err)
		}
		return json.Marshal(s.v2(ctx, ev))
	case p.HTTPMethod != "":
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnknownEvent, err)
		}
		return json.Marshal(s.v1(ctx, ev))
	}
	return nil, ErrUnknownEvent
}

func (s *Server) v1(ctx context.Context, ev events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	h := make(http.Header)
	for k, vs := range ev.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range ev.Headers {
		if len(h.Values(k)) == 0 {
			h.Set(k, v)
		}
	}
	route := ev.PathParameters["route"]
	if route == "" {
		route = routeFromPath(ev.Path)
	}
	resp := s.serveEvent(ctx, ev.HTTPMethod, route, h, ev.Body, ev.IsBase64Encoded)
	return events.APIGatewayProxyResponse{StatusCode: resp.Status, Headers: flatten(resp.Header), Body: string(resp.Body)}
}

func (s *Server) v2(ctx context.Context, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	h := make(http.Header, len(ev.Headers))
	for k, v := range ev.Headers {
		h.Set(k, v)
	}
	route := ev.PathParameters["route"]
	if route == "" {
		route = routeFromPath(ev.RawPath)
	}
	resp := s.serveEvent(ctx, ev.RequestContext.HTTP.Method, route, h, ev.Body, ev.IsBase64Encoded)
	return events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: flatten(resp.Header), Body: string(resp.Body)}
}

func (s *Server) serveEvent(ctx context.Context, method, route string, h http.Header, body string, b64 bool) Response {
	raw := []byte(body)
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
	return s.Serve(ctx, Request{Method: method, Route: route, Headers: h, Body: raw})
}

func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

// ServeHTTP serves POST /webhooks/{route} as plain HTTP, for local runs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readLimited(r, s.maxBody())
	var resp Response
	switch {
	case errors.Is(err, errTooLarge):
		resp = answer(http.StatusRequestEntityTooLarge, "body too large", fmt.Sprintf("the limit is %d bytes", s.maxBody()))
	case err != nil:
		resp = answer(http.StatusBadRequest, "body could not be read", err.Error())
	default:
		route := routeFromPath(r.URL.Path)
		if route == "" {
			resp = answer(http.StatusNotFound, "no such route", "POST /webhooks/{route}")
		} else {
			resp = s.Serve(r.Context(), Request{Method: r.Method, Route: route, Headers: r.Header, Body: body})
		}
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

package webhook

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// This file is the plain-HTTP front door (make run, bridge serve); lambda.go
// is the Lambda one. Both end in Server.Serve.

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
			resp = s.Serve(r.Context(), Request{Method: r.Method, Route: route, Headers: r.Header, Body: body, Query: r.URL.Query(), URL: requestURL(r)})
		}
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// requestURL is the URL a local request was posted to: its scheme (from
// TLS or X-Forwarded-Proto), host, path and raw query.
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

var errTooLarge = errors.New("body too large")

func readLimited(r *http.Request, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

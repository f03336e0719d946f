package devserver

import (
	"mime"
	"net"
	"net/http"
	"strings"
)

// guard keeps web pages out of the dev server. It listens on loopback, but
// any page the developer opens can make the browser send requests to it:
//
//   - a DNS-rebinding page reaches it under its own host name, so requests
//     must name a loopback host (localhost, 127.0.0.1 or [::1], any port);
//     otherwise the page could read every conversation from /inbox/api;
//   - a cross-site page can send "simple" requests (a form POST, text/plain)
//     without asking first, so the unsigned endpoints that act (/queue,
//     /reminders/{name}) take only application/json, which a browser sends
//     cross-site only after a preflight this server never approves;
//   - and any request a browser marks as coming from another site (Origin
//     not this host, or Sec-Fetch-Site: cross-site) is refused outright.
//
// Webhook routes are exempt from the host and content-type rules: they are
// signature-checked, and a tunnel that delivers real GitHub webhooks (see
// README.md) forwards them under its own host name and the sender's
// content type.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webhook := strings.HasPrefix(r.URL.Path, "/webhooks/")
		switch {
		case !webhook && !loopbackHost(r.Host):
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "host not allowed", "reason": "the dev server answers only requests to localhost, 127.0.0.1 or [::1]"})
		case crossSite(r):
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-site request refused", "reason": "requests from web pages of other sites are refused"})
		case !webhook && r.Method == http.MethodPost && !isJSON(r.Header.Get("Content-Type")):
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "unsupported content type", "reason": "send Content-Type: application/json"})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// loopbackHost reports whether a Host header names this machine by a
// loopback name, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// crossSite reports whether a browser says the request comes from a page of
// another origin. Tools (curl, senders, tests) send neither header.
func crossSite(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	// "null" (a sandboxed frame, a file: page) is another origin too.
	return !strings.EqualFold(origin, "http://"+r.Host) && !strings.EqualFold(origin, "https://"+r.Host)
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

package mapping

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayKeys is issue 14.1: a delivery-id header the signature does not
// cover must not make a new idempotency key. One body signed once and sent
// again with a new X-GitHub-Delivery (or X-Shopify-Webhook-Id) is the same
// message; on a Standard Webhooks route, whose signature covers webhook-id,
// an added X-GitHub-Delivery changes nothing.
func TestReplayKeys(t *testing.T) {
	c := mustDefault(t)
	dir := fixturesDir(t)
	read := func(parts ...string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(append([]string{dir}, parts...)...))
		if err != nil {
			t.Fatal(err)
		}
		// A wrapped capture (hookdeck) holds the body under "body".
		var wrapped struct {
			Body json.RawMessage `json:"body"`
		}
		if json.Unmarshal(b, &wrapped) == nil && len(wrapped.Body) > 0 && wrapped.Body[0] == '{' {
			return wrapped.Body
		}
		return b
	}
	tests := []struct {
		name  string
		route string
		body  []byte
		base  http.Header
		// replays are headers added to (or replacing those of) base, each
		// a replay of the same signed body.
		replays []http.Header
		// wantPart, when set, must be in every key: the signed id.
		wantPart string
	}{
		{
			name: "github, new X-GitHub-Delivery", route: "github",
			body: read("github", "issues", "opened.payload.json"),
			base: http.Header{"X-Github-Event": {"issues"}, "Content-Type": {"application/json"}},
			replays: []http.Header{
				{"X-Github-Delivery": {"d-1"}},
				{"X-Github-Delivery": {"d-2"}},
				{"X-Github-Delivery": {"d-3"}},
				{"Webhook-Id": {"msg_forged"}},
			},
		},
		{
			name: "shopify, new X-Shopify-Webhook-Id", route: "shopify",
			body: read("other", "shopify", "orders.create.json"),
			base: http.Header{"X-Shopify-Topic": {"orders/create"}, "X-Shopify-Shop-Domain": {"shop.myshopify.com"}},
			replays: []http.Header{
				{"X-Shopify-Webhook-Id": {"s-1"}},
				{"X-Shopify-Webhook-Id": {"s-2"}},
				{"X-Shopify-Webhook-Id": {"s-1"}, "X-Github-Delivery": {"d-9"}},
				{"X-Shopify-Event-Id": {"e-1"}},
			},
		},
		{
			name: "standard webhooks, added X-GitHub-Delivery", route: "generic",
			body: read("other", "standard-webhooks", "contact.created.full-payload.json"),
			base: http.Header{"Webhook-Id": {"msg_signed1"}},
			replays: []http.Header{
				{},
				{"X-Github-Delivery": {"d-1"}},
				{"X-Github-Delivery": {"d-2"}, "X-Shopify-Webhook-Id": {"s-1"}},
			},
			wantPart: ":msg_signed1:",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []string
			for i, extra := range tt.replays {
				h := tt.base.Clone()
				signFor(t, c, tt.route, h, tt.body)
				for k, v := range extra {
					h[k] = v
				}
				res, err := c.Webhook(t.Context(), Request{Route: tt.route, Headers: h, Body: tt.body, Now: testNow}, lookup(testSecrets))
				if err != nil {
					t.Fatalf("replay %d: %v", i, err)
				}
				// The sender's id still names the delivery in log lines.
				if d := extra.Get("X-Github-Delivery"); d != "" && tt.wantPart == "" && res.Delivery != d {
					t.Errorf("replay %d: Result.Delivery %q, want the sender's %q for the logs", i, res.Delivery, d)
				}
				var got []string
				for _, s := range res.Sends {
					for _, m := range s.Messages {
						got = append(got, m.IdempotencyKey)
					}
				}
				if len(got) == 0 {
					t.Fatalf("replay %d: no message", i)
				}
				for _, k := range got {
					if tt.wantPart != "" && !strings.Contains(k, tt.wantPart) {
						t.Errorf("replay %d: key %q does not hold the signed id %q", i, k, tt.wantPart)
					}
				}
				joined := strings.Join(got, " ")
				if len(keys) > 0 && joined != keys[0] {
					t.Errorf("replay %d (headers %v): keys %q, the first delivery had %q", i, extra, joined, keys[0])
				}
				keys = append(keys, joined)
			}
		})
	}
}

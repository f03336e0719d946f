package mapping

import (
	"net/http"
	"testing"
)

// TestEventHeaderSpellings: an event header given as a list is read from
// the first spelling present (Shopify's Events deliveries drop the X-).
func TestEventHeaderSpellings(t *testing.T) {
	c := mustParse(t, "routes:\n  s:\n    verify: none\n    event: {header: [X-Shopify-Topic, Shopify-Topic]}\n    actions:\n      - on: [orders/create]\n        conversation: {id: c}\n        message: {text: '{{ .event }}'}\n")
	cases := []struct {
		name    string
		headers http.Header
		want    string
		wantErr bool
	}{
		{"classic", http.Header{"X-Shopify-Topic": {"orders/create"}}, "orders/create", false},
		{"events spelling", http.Header{"Shopify-Topic": {"orders/create"}}, "orders/create", false},
		{"both: the first wins", http.Header{"X-Shopify-Topic": {"orders/create"}, "Shopify-Topic": {"orders/paid"}}, "orders/create", false},
		{"neither", http.Header{}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Trusted(t.Context(), Request{Route: "s", Headers: tc.headers, Body: []byte(`{}`)})
			if (err != nil) != tc.wantErr || res.Event != tc.want {
				t.Errorf("event %q, err %v; want %q (error %v)", res.Event, err, tc.want, tc.wantErr)
			}
		})
	}
}

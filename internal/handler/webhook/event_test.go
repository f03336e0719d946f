package webhook_test

import (
	"errors"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		want      webhook.Event
		wantError error
	}{
		{name: "REST API v1: multi-value headers win, route from the path",
			raw:  `{"httpMethod":"POST","path":"/prod/webhooks/github","headers":{"X-A":"single","X-B":"b"},"multiValueHeaders":{"X-A":["m1","m2"]},"body":"e30=","isBase64Encoded":true}`,
			want: webhook.Event{Method: "POST", Route: "github", Body: "e30=", IsBase64Encoded: true}},
		{name: "HTTP API v2: method from the request context, route from the parameters",
			raw:  `{"version":"2.0","rawPath":"/webhooks/other","pathParameters":{"route":"stripe"},"requestContext":{"http":{"method":"POST"}},"headers":{"x-a":"v"},"body":"{}"}`,
			want: webhook.Event{V2: true, Method: "POST", Route: "stripe", Body: "{}"}},
		{name: "function URL: a v2 event with a raw path",
			raw:  `{"rawPath":"/webhooks/alertmanager","requestContext":{"http":{"method":"POST"}},"body":"{}"}`,
			want: webhook.Event{V2: true, Method: "POST", Route: "alertmanager", Body: "{}"}},
		{name: "path naming no route", raw: `{"httpMethod":"POST","path":"/webhooks/a/b"}`, want: webhook.Event{Method: "POST"}},
		{name: "not a gateway event", raw: `{"detail-type":"Scheduled Event"}`, wantError: webhook.ErrUnknownEvent},
		{name: "not JSON", raw: `[`, wantError: webhook.ErrUnknownEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := webhook.ParseEvent([]byte(tt.raw))
			if tt.wantError != nil {
				if !errors.Is(err, tt.wantError) {
					t.Fatalf("err = %v, want %v", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.V2 != tt.want.V2 || got.Method != tt.want.Method || got.Route != tt.want.Route || got.Body != tt.want.Body || got.IsBase64Encoded != tt.want.IsBase64Encoded {
				t.Errorf("ParseEvent = %+v, want %+v", got, tt.want)
			}
		})
	}
	// v1 fills both header maps; the multi-value one holds every value.
	ev, err := webhook.ParseEvent([]byte(tests[0].raw))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := ev.Header.Values("X-A"), ev.Header.Get("X-B"); len(a) != 2 || a[0] != "m1" || b != "b" {
		t.Errorf("headers X-A %q, X-B %q; want [m1 m2] and b", a, b)
	}
}

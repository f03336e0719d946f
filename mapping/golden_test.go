package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureCase is one fixture file turned into a delivery.
type fixtureCase struct {
	name    string // golden file name, without .json
	route   string
	headers http.Header
	body    []byte
}

// fixtureCases turns every file under github/, stripe/ and other/ into a
// request for the route that handles it. Wrapped captures (hookdeck) give
// their body and headers; the bare invoice.payment_failed data member is
// wrapped into an event as Stripe would send it.
func fixtureCases(t *testing.T, dir string) []fixtureCase {
	t.Helper()
	var out []fixtureCase
	for _, sub := range []string{"github", "stripe", "other"} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			rel = filepath.ToSlash(rel)
			body, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fc := fixtureCase{
				name:    strings.NewReplacer("/", "__", ".json", "").Replace(rel),
				headers: http.Header{"Content-Type": {"application/json"}},
				body:    body,
			}
			parts := strings.Split(rel, "/")
			switch {
			case parts[0] == "github":
				fc.route = "github"
				fc.headers.Set("X-GitHub-Event", parts[1])
				fc.headers.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
			case parts[0] == "stripe":
				fc.route = "stripe"
				if parts[1] == "pay-rails" {
					fc.body = []byte(`{"id":"evt_fixture_invoice","object":"event","type":"invoice.payment_failed","data":` + string(bytes.TrimSpace(body)) + `}`)
				}
			case rel == "other/alertmanager/prom_post_request.json":
				fc.route = "alertmanager"
			case parts[1] == "shopify":
				fc.route = "shopify"
			case parts[1] == "slack":
				fc.route = "slack"
			case parts[1] == "standard-webhooks":
				fc.route = "generic"
				fc.headers.Set("Webhook-Id", "msg_"+strings.TrimSuffix(parts[2], ".json"))
			default:
				t.Errorf("fixture %s has no route: add it to fixtureCases", rel)
				return nil
			}
			var wrapped struct {
				Headers map[string]string `json:"headers"`
				Body    json.RawMessage   `json:"body"`
			}
			if json.Unmarshal(body, &wrapped) == nil && wrapped.Headers != nil && len(wrapped.Body) > 0 {
				fc.body = wrapped.Body
				for k, v := range wrapped.Headers {
					switch strings.ToLower(k) {
					case "stripe-signature", "x-shopify-hmac-sha256", "content-length":
						continue // re-signed below; the body was re-encoded
					}
					fc.headers.Set(k, v)
				}
			}
			out = append(out, fc)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return append(out, senderCases(t, dir)...)
}

// senderRoutes maps a folder of testdata/senders to the route that handles
// its payloads; folders not listed hold no webhook payloads (aws-sns is
// read by the queue tests).
var senderRoutes = map[string]string{
	"alertmanager": "alertmanager", "bitbucket": "bitbucket", "circleci": "circleci",
	"gitlab": "gitlab", "grafana": "grafana", "paddle": "paddle", "pagerduty": "pagerduty",
	"postmark": "postmark", "sentry": "sentry", "slack": "slack", "stripe": "stripe",
	"talkjs": "talkjs", "twilio": "twilio", "uptime-kuma": "uptime-kuma",
}

// senderCases turns every payload under testdata/senders (NAME.json or
// NAME.form, with the delivery headers in NAME.headers when there is one)
// into a request for its sender's route.
func senderCases(t *testing.T, dir string) []fixtureCase {
	t.Helper()
	var out []fixtureCase
	entries, err := os.ReadDir(filepath.Join(dir, "senders"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		route, ok := senderRoutes[e.Name()]
		if !ok {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, "senders", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := f.Name()
			ext := filepath.Ext(name)
			base := strings.TrimSuffix(name, ext)
			if ext != ".json" && ext != ".form" || base == "vectors" || strings.Contains(base, "expected_response") {
				continue
			}
			path := filepath.Join(dir, "senders", e.Name(), name)
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fc := fixtureCase{
				name:    "senders__" + e.Name() + "__" + base,
				route:   route,
				headers: http.Header{"Content-Type": {"application/json"}},
				body:    body,
			}
			if hb, err := os.ReadFile(filepath.Join(dir, "senders", e.Name(), base+".headers")); err == nil {
				for _, line := range strings.Split(string(hb), "\n") {
					k, v, ok := strings.Cut(line, ":")
					if !ok || strings.EqualFold(strings.TrimSpace(k), "X-Gitlab-Token") {
						continue
					}
					fc.headers.Set(strings.TrimSpace(k), strings.TrimSpace(v))
				}
			}
			out = append(out, fc)
		}
	}
	return out
}

type goldenOutcome struct {
	Result Result `json:"result"`
	Error  string `json:"error,omitempty"`
}

// TestGoldenFixtures runs every fixture through its route of the default
// routes file, signed as the sender would, and compares with testdata/golden.
func TestGoldenFixtures(t *testing.T) {
	dir := fixturesDir(t)
	c := mustDefault(t)
	cases := fixtureCases(t, dir)
	if len(cases) < 40 {
		t.Fatalf("found only %d fixtures", len(cases))
	}
	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			signFor(t, c, fc.route, fc.headers, fc.body)
			res, err := c.Webhook(t.Context(), Request{Route: fc.route, Headers: fc.headers, Body: fc.body, Now: testNow, URL: testPublicURL(fc.route)}, lookup(testSecrets))
			out := goldenOutcome{Result: res}
			if err != nil {
				if !errors.Is(err, ErrEventNotHandled) {
					t.Fatalf("Webhook: %v", err)
				}
				out.Error = err.Error()
			}
			for _, s := range res.Sends {
				for _, m := range s.Messages {
					if m.IdempotencyKey == "" || len(m.IdempotencyKey) > maxKey {
						t.Errorf("bad idempotency key %q", m.IdempotencyKey)
					}
				}
			}
			got, _ := json.MarshalIndent(out, "", "  ")
			got = append(got, '\n')
			compareGolden(t, filepath.Join("testdata", "golden", fc.name+".json"), got)

			// Mapping is a pure function of the request: a redelivery maps
			// to the same sends with the same keys.
			again, _ := c.Webhook(t.Context(), Request{Route: fc.route, Headers: fc.headers, Body: fc.body, Now: testNow, URL: testPublicURL(fc.route)}, lookup(testSecrets))
			if a, b := mustJSON(t, res), mustJSON(t, again); a != b {
				t.Errorf("second run differs:\n%s\n%s", a, b)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

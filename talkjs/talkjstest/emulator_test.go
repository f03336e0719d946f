package talkjstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	testApp = "tApp1"
	testKey = "sk_test_emulator_key"
)

type fixture struct {
	srv *httptest.Server
	emu *Emulator
}

// newFixture starts an emulator holding users alice, bob and carol and the
// conversation "order-1" with alice and bob as participants.
func newFixture(t *testing.T) fixture {
	t.Helper()
	srv, emu := NewServer(testApp, testKey)
	t.Cleanup(srv.Close)
	f := fixture{srv: srv, emu: emu}
	f.mustOK(t, "PUT", "/users", map[string]any{
		"alice": map[string]any{"name": "Alice"},
		"bob":   map[string]any{"name": "Bob"},
		"carol": map[string]any{"name": "Carol"},
	})
	f.mustOK(t, "PUT", "/conversations/order-1", map[string]any{"participants": []string{"alice", "bob"}, "subject": "Order 1"})
	return f
}

type reqOpt func(*http.Request)

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }
func withoutHeader(k string) reqOpt { return func(r *http.Request) { r.Header.Del(k) } }

// rawCall sends a request to a full path. body is sent as is when it is a
// string or []byte, JSON-encoded otherwise, and not at all when nil.
func (f fixture) rawCall(t *testing.T, method, path string, body any, opts ...reqOpt) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("User-Agent", "talkjstest-test/1")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return resp.StatusCode, got, resp.Header
}

// call sends a request to a path under /v1/{appId}.
func (f fixture) call(t *testing.T, method, path string, body any, opts ...reqOpt) (int, []byte) {
	t.Helper()
	status, got, _ := f.rawCall(t, method, "/v1/"+testApp+path, body, opts...)
	return status, got
}

func (f fixture) mustOK(t *testing.T, method, path string, body any) []byte {
	t.Helper()
	status, got := f.call(t, method, path, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d, body %s", method, path, status, got)
	}
	return got
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestRefusals(t *testing.T) {
	tooMany := make([]map[string]string, 11)
	for i := range tooMany {
		tooMany[i] = map[string]string{"type": "SystemMessage", "text": "hi"}
	}
	manyUsers := map[string]any{}
	for i := range 101 {
		manyUsers["u"+strings.Repeat("x", i)] = map[string]string{"name": "X"}
	}
	sys := func(extra map[string]any) []map[string]any {
		m := map[string]any{"type": "SystemMessage", "text": "hello"}
		for k, v := range extra {
			m[k] = v
		}
		return []map[string]any{m}
	}
	user := func(sender string, extra map[string]any) []map[string]any {
		m := map[string]any{"type": "UserMessage", "sender": sender, "text": "hello"}
		for k, v := range extra {
			m[k] = v
		}
		return []map[string]any{m}
	}
	msgs := "/v1/" + testApp + "/conversations/order-1/messages"
	tests := []struct {
		name     string
		method   string
		path     string // full path
		body     any
		opts     []reqOpt
		want     int
		wantBody string // a substring of the answer
	}{
		{"no authorization", "GET", "/v1/" + testApp + "/users/alice", nil, []reqOpt{withoutHeader("Authorization")}, 401, "Authorization"},
		{"wrong key", "GET", "/v1/" + testApp + "/users/alice", nil, []reqOpt{withHeader("Authorization", "Bearer sk_test_other")}, 401, "UNAUTHORIZED"},
		{"key without Bearer", "GET", "/v1/" + testApp + "/users/alice", nil, []reqOpt{withHeader("Authorization", testKey)}, 401, "UNAUTHORIZED"},
		{"empty Bearer", "GET", "/v1/" + testApp + "/users/alice", nil, []reqOpt{withHeader("Authorization", "Bearer ")}, 401, "UNAUTHORIZED"},
		{"other app id", "GET", "/v1/tOther/users/alice", nil, nil, 401, "tOther"},
		{"no user agent", "GET", "/v1/" + testApp + "/users/alice", nil, []reqOpt{withHeader("User-Agent", "")}, 400, "Cookies required"},
		{"not under v1", "GET", "/v2/" + testApp + "/users/alice", nil, nil, 404, "NOT_FOUND"},
		{"root", "GET", "/", nil, nil, 404, "NOT_FOUND"},
		{"unknown route", "GET", "/v1/" + testApp + "/widgets", nil, nil, 404, "no such route"},
		{"wrong method", "POST", "/v1/" + testApp + "/users/alice", map[string]string{"name": "A"}, nil, 404, "no such route"},
		{"unknown user", "GET", "/v1/" + testApp + "/users/nobody", nil, nil, 404, "nobody"},
		{"unknown conversation", "GET", "/v1/" + testApp + "/conversations/nope", nil, nil, 404, "nope"},
		{"send to unknown conversation", "POST", "/v1/" + testApp + "/conversations/nope/messages", sys(nil), nil, 404, "nope"},
		{"unknown message", "GET", msgs + "/msg_nothere", nil, nil, 404, "msg_nothere"},
		{"delete unknown conversation", "DELETE", "/v1/" + testApp + "/conversations/nope", nil, nil, 404, "nope"},
		{"conversations of unknown user", "GET", "/v1/" + testApp + "/users/nobody/conversations", nil, nil, 404, "nobody"},
		{"wrong content type", "POST", msgs, `[{"type":"SystemMessage","text":"hi"}]`, []reqOpt{withHeader("Content-Type", "text/plain")}, 400, "application/json"},
		{"no content type", "POST", msgs, `[{"type":"SystemMessage","text":"hi"}]`, []reqOpt{withoutHeader("Content-Type")}, 400, "application/json"},
		{"body not JSON", "POST", msgs, `[{"type":`, nil, 400, "not valid JSON"},
		{"send body not an array", "POST", msgs, map[string]string{"type": "SystemMessage", "text": "hi"}, nil, 400, "array"},
		{"zero messages", "POST", msgs, []any{}, nil, 400, "no messages"},
		{"eleven messages", "POST", msgs, tooMany, nil, 400, "at most 10"},
		{"sender not a participant", "POST", msgs, user("carol", nil), nil, 400, "not a participant"},
		{"sender not a user", "POST", msgs, user("ghost", nil), nil, 400, "not a synchronized user"},
		{"sender on a SystemMessage", "POST", msgs, sys(map[string]any{"sender": "alice"}), nil, 400, "UserMessage when sender"},
		{"UserMessage without sender", "POST", msgs, []map[string]any{{"type": "UserMessage", "text": "hi"}}, nil, 400, "needs a sender"},
		{"no type", "POST", msgs, []map[string]any{{"text": "hi"}}, nil, 400, "type is required"},
		{"unknown type", "POST", msgs, sys(map[string]any{"type": "Shout"}), nil, 400, "Shout"},
		{"no text", "POST", msgs, []map[string]any{{"type": "SystemMessage"}}, nil, 400, "text is required"},
		{"custom value a number", "POST", msgs, sys(map[string]any{"custom": map[string]any{"n": 1}}), nil, 400, "custom.n must be a string"},
		{"custom value null", "POST", msgs, sys(map[string]any{"custom": map[string]any{"n": nil}}), nil, 400, "custom.n must be a string"},
		{"custom not an object", "POST", msgs, sys(map[string]any{"custom": []string{"a"}}), nil, 400, "object of strings"},
		{"unknown message field (strict)", "POST", msgs, sys(map[string]any{"txt": "typo"}), nil, 400, "unknown field"},
		{"text a number", "POST", msgs, sys(map[string]any{"text": 5}), nil, 400, "text must be a string"},
		{"reference to an unknown message", "POST", msgs, sys(map[string]any{"referencedMessageId": "msg_nope"}), nil, 400, "referencedMessageId"},
		{"limit zero", "GET", msgs + "?limit=0", nil, nil, 400, "limit"},
		{"limit 101", "GET", msgs + "?limit=101", nil, nil, 400, "limit"},
		{"limit not a number", "GET", msgs + "?limit=ten", nil, nil, 400, "limit"},
		{"limit empty", "GET", msgs + "?limit=", nil, nil, 400, "limit"},
		{"limit on users", "GET", "/v1/" + testApp + "/users?limit=1000", nil, nil, 400, "limit"},
		{"unknown cursor", "GET", "/v1/" + testApp + "/conversations?startingAfter=zzz", nil, nil, 400, "startingAfter"},
		{"user without name", "PUT", "/v1/" + testApp + "/users/dave", map[string]string{"email": "d@example.com"}, nil, 400, "name is required"},
		{"user name not a string", "PUT", "/v1/" + testApp + "/users/alice", map[string]any{"name": 3}, nil, 400, "name"},
		{"user custom not strings", "PUT", "/v1/" + testApp + "/users/alice", map[string]any{"custom": map[string]any{"vip": true}}, nil, 400, "custom.vip"},
		{"user unknown field (strict)", "PUT", "/v1/" + testApp + "/users/alice", map[string]any{"nmae": "A"}, nil, 400, "unknown field"},
		{"batch users over 100", "PUT", "/v1/" + testApp + "/users", manyUsers, nil, 400, "at most 100"},
		{"batch users not an object", "PUT", "/v1/" + testApp + "/users", []string{"a"}, nil, 400, "object"},
		{"conversation participants not strings", "PUT", "/v1/" + testApp + "/conversations/order-1", map[string]any{"participants": "alice"}, nil, 400, "participants"},
		{"conversation custom not strings", "PUT", "/v1/" + testApp + "/conversations/order-1", map[string]any{"custom": map[string]any{"n": 1.5}}, nil, 400, "custom.n"},
		{"join with bad access", "PUT", "/v1/" + testApp + "/conversations/order-1/participants/carol", map[string]any{"access": "Admin"}, nil, 400, "access"},
		{"join with None access", "PUT", "/v1/" + testApp + "/conversations/order-1/participants/carol", map[string]any{"access": "None"}, nil, 400, "access"},
		{"join with bad notify", "PUT", "/v1/" + testApp + "/conversations/order-1/participants/carol", map[string]any{"notify": "loud"}, nil, 400, "notify"},
		{"join unknown conversation", "PUT", "/v1/" + testApp + "/conversations/nope/participants/carol", nil, nil, 404, "nope"},
		{"modify a non-participant", "PATCH", "/v1/" + testApp + "/conversations/order-1/participants/carol", map[string]any{"notify": false}, nil, 404, "not a participant"},
		{"unreadsOnly not a boolean", "GET", "/v1/" + testApp + "/users/alice/conversations?unreadsOnly=yes", nil, nil, 400, "unreadsOnly"},
		{"lastMessageAfter not a number", "GET", "/v1/" + testApp + "/users/alice/conversations?lastMessageAfter=today", nil, nil, 400, "lastMessageAfter"},
		{"edit with empty text", "PATCH", msgs + "/msg_x", map[string]any{"text": ""}, nil, 400, "text"},
		{"batch empty", "POST", "/v1/" + testApp + "/batch", []any{}, nil, 400, "no operations"},
		{"batch over 10", "POST", "/v1/" + testApp + "/batch", make([][]any, 11), nil, 400, "at most 10"},
		{"batch bad tuple", "POST", "/v1/" + testApp + "/batch", [][]any{{1, "GET"}}, nil, 400, "operation 0"},
		{"batch repeated sequence number", "POST", "/v1/" + testApp + "/batch", [][]any{{1, "GET", "/users"}, {1, "GET", "/users"}}, nil, 400, "twice"},
		{"body over 10 MiB", "PUT", "/v1/" + testApp + "/users/alice", `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, nil, 413, "REQUEST_TOO_LARGE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.emu.SetStrictFields(strings.HasSuffix(tc.name, "(strict)"))
			before := f.emu.Messages("order-1")
			status, body, hdr := f.rawCall(t, tc.method, tc.path, tc.body, tc.opts...)
			if status != tc.want {
				t.Fatalf("status %d, want %d; body %s", status, tc.want, body)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body %s does not mention %q", body, tc.wantBody)
			}
			if !json.Valid(body) {
				t.Errorf("answer is not JSON: %s", body)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if after := f.emu.Messages("order-1"); len(after) != len(before) {
				t.Errorf("a refused request stored messages: %d before, %d after", len(before), len(after))
			}
			reqs := f.emu.Requests()
			if last := reqs[len(reqs)-1]; last.Status != tc.want || last.Fault {
				t.Errorf("logged status %d fault %v, want %d and no fault", last.Status, last.Fault, tc.want)
			}
			if tc.want < 500 && f.emu.Counts().Refused == 0 {
				t.Errorf("refusal not counted")
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	f := newFixture(t)
	f.emu.SetSecretKey("sk_test_rotated")
	if status, _ := f.call(t, "GET", "/users/alice", nil); status != http.StatusUnauthorized {
		t.Fatalf("old key after rotation: status %d, want 401", status)
	}
	status, body := f.call(t, "GET", "/users/alice", nil, withHeader("Authorization", "Bearer sk_test_rotated"))
	if status != http.StatusOK {
		t.Fatalf("new key: status %d, body %s", status, body)
	}
}

func TestEmptySecretFailsClosed(t *testing.T) {
	srv := httptest.NewServer(New(testApp, ""))
	t.Cleanup(srv.Close)
	f := fixture{srv: srv}
	for _, auth := range []string{"Bearer ", "Bearer", ""} {
		status, _, _ := f.rawCall(t, "GET", "/v1/"+testApp+"/users", nil, withHeader("Authorization", auth))
		if status != http.StatusUnauthorized {
			t.Errorf("Authorization %q with an empty secret: status %d, want 401", auth, status)
		}
	}
}

func TestEmptyAnswersAreJSONObjects(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"put user", "PUT", "/users/dave", map[string]string{"name": "Dave"}},
		{"put conversation", "PUT", "/conversations/order-2", map[string]any{}},
		{"join", "PUT", "/conversations/order-1/participants/carol", nil},
		{"leave", "DELETE", "/conversations/order-1/participants/carol", nil},
		{"delete conversation", "DELETE", "/conversations/order-2", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.mustOK(t, tc.method, tc.path, tc.body); string(got) != "{}" {
				t.Errorf("answer %s, want {}", got)
			}
		})
	}
}

func TestAppTokens(t *testing.T) {
	sign := func(key string, header, claims map[string]any) string {
		enc := func(v any) string {
			b, _ := json.Marshal(v)
			return base64.RawURLEncoding.EncodeToString(b)
		}
		unsigned := enc(header) + "." + enc(claims)
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(unsigned))
		return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}
	future := time.Now().Add(30 * time.Second).Unix()
	past := time.Now().Add(-time.Minute).Unix()
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"valid", sign(testKey, hs256, map[string]any{"tokenType": "app", "iss": testApp, "exp": future}), 200},
		{"without exp", sign(testKey, hs256, map[string]any{"tokenType": "app", "iss": testApp}), 401},
		{"expired", sign(testKey, hs256, map[string]any{"tokenType": "app", "iss": testApp, "exp": past}), 401},
		{"other app", sign(testKey, hs256, map[string]any{"tokenType": "app", "iss": "tOther", "exp": future}), 401},
		{"user token", sign(testKey, hs256, map[string]any{"tokenType": "user", "iss": testApp, "exp": future}), 401},
		{"signed with another key", sign("sk_test_other", hs256, map[string]any{"tokenType": "app", "iss": testApp, "exp": future}), 401},
		{"alg none", sign(testKey, map[string]any{"alg": "none"}, map[string]any{"tokenType": "app", "iss": testApp, "exp": future}), 401},
		{"garbage", "a.b.c", 401},
	}
	f := newFixture(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := f.call(t, "GET", "/users/alice", nil, withHeader("Authorization", "Bearer "+tc.token)); status != tc.want {
				t.Errorf("status %d, want %d; %s", status, tc.want, body)
			}
		})
	}
}

func TestRequestLogHidesTheKey(t *testing.T) {
	f := newFixture(t)
	f.mustOK(t, "POST", "/conversations/order-1/messages?x=1", oneMessage)
	reqs := f.emu.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != "POST" || last.Path != "/v1/"+testApp+"/conversations/order-1/messages" || last.RawQuery != "x=1" ||
		last.ConversationID != "order-1" || last.Status != 200 || !strings.Contains(string(last.Body), "SystemMessage") {
		t.Errorf("logged %+v", last)
	}
	if got, want := last.Header.Get("Authorization"), "Bearer "+Fingerprint(testKey); got != want {
		t.Errorf("Authorization logged as %q, want %q", got, want)
	}
	for _, r := range reqs {
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, testKey) {
					t.Fatalf("header %s holds the secret key", k)
				}
			}
		}
	}
	if Fingerprint(testKey) == Fingerprint("sk_test_other") {
		t.Error("fingerprints of two keys are equal")
	}
}

func TestLogLimit(t *testing.T) {
	f := newFixture(t) // 2 requests so far
	f.emu.SetLogLimit(3)
	for _, id := range []string{"a", "b", "c", "d"} {
		f.call(t, "GET", "/users/"+id, nil)
	}
	reqs := f.emu.Requests()
	if len(reqs) != 3 || !strings.HasSuffix(reqs[0].Path, "/b") || !strings.HasSuffix(reqs[2].Path, "/d") {
		t.Errorf("log holds %d requests, first %v", len(reqs), reqs)
	}
	if n := f.emu.Counts().Requests; n != 6 {
		t.Errorf("Requests counter %d, want 6", n)
	}
}

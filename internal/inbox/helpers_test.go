package inbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

const (
	testAppID = "tInbox"
	testKey   = "sk_test_inbox_secret"
)

// env is an emulator, a real client on it, and the inbox serving from that
// client on a loopback server.
type env struct {
	emu    *talkjstest.Emulator
	client *talkjs.Client
	h      *handler
	srv    *httptest.Server

	mu      sync.Mutex
	apiHits int
	onAPI   func(hit int) // called before the inbox answers its JSON endpoint
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	tsrv, emu := talkjstest.NewServer(testAppID, testKey)
	t.Cleanup(tsrv.Close)
	client, err := talkjs.NewClient(testAppID, talkjs.StaticKey(testKey),
		talkjs.WithBaseURL(tsrv.URL), talkjs.WithHTTPClient(tsrv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	h := New(client, opts...).(*handler)
	h.reuseFor = 0 // every request in a test sees the latest state
	e := &env{emu: emu, client: client, h: h}
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/api/conversations") {
			e.mu.Lock()
			e.apiHits++
			n, f := e.apiHits, e.onAPI
			e.mu.Unlock()
			if f != nil {
				f(n)
			}
		}
		h.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.Handle("/inbox", counted)
	mux.Handle("/inbox/", counted)
	mux.Handle("POST /send", sendHandler(client))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) setOnAPI(f func(hit int)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onAPI = f
}

func (e *env) hits() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.apiHits
}

// sendRequest is the body of the test-only POST /send: what a webhook mapped
// to TalkJS calls would do, in one request.
type sendRequest struct {
	Conversation string            `json:"conversation"`
	Subject      string            `json:"subject,omitempty"`
	Users        map[string]string `json:"users,omitempty"` // id -> name; all join
	Custom       map[string]string `json:"custom,omitempty"`
	Type         string            `json:"type"` // UserMessage or SystemMessage
	Sender       string            `json:"sender,omitempty"`
	Text         string            `json:"text"`
}

// sendHandler upserts the users and the conversation and sends one message
// through the client, as the bridge's functions do.
func sendHandler(c *talkjs.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req sendRequest
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(b, &req)
		}
		if err == nil {
			err = send(r, c, req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func send(r *http.Request, c *talkjs.Client, req sendRequest) error {
	ctx := r.Context()
	var ids []string
	for id, name := range req.Users {
		if err := c.UpsertUser(ctx, id, talkjs.UserUpdate{Name: &name}); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	u := talkjs.ConversationUpdate{Participants: ids, Custom: req.Custom}
	if req.Subject != "" {
		u.Subject = &req.Subject
	}
	if err := c.UpsertConversation(ctx, req.Conversation, u); err != nil {
		return err
	}
	if req.Text == "" {
		return nil
	}
	typ := talkjs.MessageType(req.Type)
	if typ != talkjs.UserMessage && typ != talkjs.SystemMessage {
		return fmt.Errorf("type %q is not UserMessage or SystemMessage", req.Type)
	}
	_, err := c.SendMessages(ctx, req.Conversation, talkjs.NewMessage{Type: typ, Sender: req.Sender, Text: req.Text})
	return err
}

// mustSend sends through the client directly.
func (e *env) mustSend(t *testing.T, req sendRequest) {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), "POST", "/send", nil)
	if err := send(r, e.client, req); err != nil {
		t.Fatalf("send %+v: %v", req, err)
	}
}

// get fetches path from the inbox server with optional headers.
func (e *env) get(t *testing.T, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// snapshot fetches and decodes the JSON endpoint.
func (e *env) snapshot(t *testing.T) Snapshot {
	t.Helper()
	resp, b := e.get(t, "/inbox/api/conversations")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET api: %d %s", resp.StatusCode, b)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return s
}

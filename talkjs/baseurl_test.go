package talkjs_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// A base URL with a path (a proxy or API gateway in front of TalkJS) keeps
// its path: every request goes below it, with or without a trailing slash.
func TestBaseURLWithPath(t *testing.T) {
	for _, tc := range []struct {
		name, suffix string
	}{
		{name: "no trailing slash", suffix: "/proxy/talkjs"},
		{name: "trailing slash", suffix: "/proxy/talkjs/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := talkjstest.New("tPath", "sk_test_path_only")
			var paths []string
			mux := http.NewServeMux()
			mux.Handle("/proxy/talkjs/", http.StripPrefix("/proxy/talkjs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				paths = append(paths, r.URL.Path)
				emu.ServeHTTP(w, r)
			})))
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
				http.NotFound(w, r)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()

			c, err := talkjs.NewClient("tPath", talkjs.StaticKey("sk_test_path_only"), talkjs.WithBaseURL(srv.URL+tc.suffix))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.UpsertConversation(t.Context(), "order 1", talkjs.ConversationUpdate{}); err != nil {
				t.Fatalf("UpsertConversation: %v", err)
			}
			if _, err := c.SendMessages(t.Context(), "order 1", talkjs.NewMessage{Type: talkjs.SystemMessage, Text: "hi"}); err != nil {
				t.Fatalf("SendMessages: %v", err)
			}
			want := []string{"/v1/tPath/conversations/order 1", "/v1/tPath/conversations/order 1/messages"}
			if len(paths) != len(want) || paths[0] != want[0] || paths[1] != want[1] {
				t.Fatalf("paths below the base = %q, want %q", paths, want)
			}
		})
	}
}

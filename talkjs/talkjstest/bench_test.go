package talkjstest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSend measures the emulator's own cost per message send, without a
// network, so client benchmarks can tell it apart from theirs.
func BenchmarkSend(b *testing.B) {
	e := New(testApp, testKey)
	seed := func(method, path, body string) {
		req := httptest.NewRequest(method, "/v1/"+testApp+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("User-Agent", "bench")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
	}
	seed("PUT", "/users/alice", `{"name":"Alice"}`)
	seed("PUT", "/conversations/c", `{"participants":["alice"]}`)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		seed("POST", "/conversations/c/messages", fmt.Sprintf(`[{"type":"UserMessage","sender":"alice","text":"hi","idempotencyKey":"k%d"}]`, i))
	}
}

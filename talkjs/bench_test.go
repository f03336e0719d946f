package talkjs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// The pair below measures what the client adds to one message send: both post
// the same bytes to the same emulator over loopback on a keep-alive connection.
// Compare with: go test -run '^$' -bench . -count 6 ./talkjs/

var benchMessage = talkjs.NewMessage{Type: talkjs.SystemMessage, Text: "Order #1042 has shipped", Custom: map[string]string{"carrier": "ups"}}

func benchSetup(b *testing.B) (*talkjs.Client, string, *http.Client) {
	b.Helper()
	srv, _ := talkjstest.NewServer("tBench", emuKey)
	b.Cleanup(srv.Close)
	c, err := talkjs.NewClient("tBench", talkjs.StaticKey(emuKey), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.UpsertConversation(b.Context(), "bench", talkjs.ConversationUpdate{Subject: new("bench")}); err != nil {
		b.Fatal(err)
	}
	return c, srv.URL + "/v1/tBench/conversations/bench/messages", srv.Client()
}

func BenchmarkSendMessage(b *testing.B) {
	c, _, _ := benchSetup(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SendMessages(ctx, "bench", benchMessage); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBareHTTPPost(b *testing.B) {
	_, url, hc := benchSetup(b)
	post := barePost(b, url, hc)
	b.ReportAllocs()
	for b.Loop() {
		post()
	}
}

// barePost returns a function that posts the benchmark message with
// net/http alone, the floor the client is compared with.
func barePost(b *testing.B, url string, hc *http.Client) func() {
	b.Helper()
	body, err := json.Marshal([]talkjs.NewMessage{benchMessage})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	return func() {
		req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+emuKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "bench")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkSendVsBareInterleaved alternates a client send and a bare POST in
// the same loop (which goes first alternates too) and reports each one's
// mean time and their ratio. On a busy machine, where the two benchmarks
// above run at different moments and see different load, this ratio is the
// steadier one.
func BenchmarkSendVsBareInterleaved(b *testing.B) {
	c, url, hc := benchSetup(b)
	post := barePost(b, url, hc)
	ctx := b.Context()
	send := func() {
		if _, err := c.SendMessages(ctx, "bench", benchMessage); err != nil {
			b.Fatal(err)
		}
	}
	timed := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	var client, bare time.Duration
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			client += timed(send)
			bare += timed(post)
		} else {
			bare += timed(post)
			client += timed(send)
		}
		n++
	}
	b.ReportMetric(float64(client.Nanoseconds())/float64(b.N), "client-ns/send")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "bare-ns/post")
	b.ReportMetric(float64(client)/float64(bare), "ratio")
}

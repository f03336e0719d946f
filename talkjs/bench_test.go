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
	body, err := json.Marshal([]talkjs.NewMessage{benchMessage})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
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
// the same loop and reports each one's mean time and their ratio. On a busy
// machine, where the two benchmarks above run at different moments and see
// different load, this ratio is the steadier one.
func BenchmarkSendVsBareInterleaved(b *testing.B) {
	c, url, hc := benchSetup(b)
	body, err := json.Marshal([]talkjs.NewMessage{benchMessage})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	var client, bare time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := c.SendMessages(ctx, "bench", benchMessage); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
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
		client += mid.Sub(start)
		bare += time.Since(mid)
	}
	b.ReportMetric(float64(client.Nanoseconds())/float64(b.N), "client-ns/send")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "bare-ns/post")
	b.ReportMetric(float64(client)/float64(bare), "ratio")
}

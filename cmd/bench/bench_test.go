package main

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/webhook"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// The benchmarks below are P3 and P4 of `go run ./cmd/bench` as Go benchmarks,
// for benchstat and for profiling:
//
//	go test -run '^$' -bench 'QueueSend|BarePost' -count 6 ./bench | benchstat -col /kind -
//	go test -run '^$' -bench QueueSend -cpuprofile cpu.out ./bench && go tool pprof -top cpu.out

func warmSetup(b *testing.B, conversations ...string) (*queueFunc, *talkjstest.Emulator, string) {
	b.Helper()
	srv, emu := talkjstest.NewServer(benchAppID, benchKey)
	b.Cleanup(srv.Close)
	emu.SetLogLimit(16)
	for _, c := range conversations {
		emu.PutConversation(talkjstest.Conversation{ID: c, Subject: c})
	}
	q, err := newQueueFunc(b.Context(), srv.URL, queueConcurrency)
	if err != nil {
		b.Fatal(err)
	}
	return q, emu, srv.URL
}

// BenchmarkSend is P3's two sides run separately: one record with one message
// through the queue function as wired, and the same bytes posted bare.
func BenchmarkSend(b *testing.B) {
	b.Run("kind=handler", func(b *testing.B) {
		q, _, _ := warmSetup(b, "p3")
		ctx := b.Context()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if err := q.invoke(ctx, "req", sqsEvent("h"+strconv.Itoa(i), "p3")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kind=bare", func(b *testing.B) {
		_, _, url := warmSetup(b, "p3")
		p := newBarePost(url, "p3")
		ctx := b.Context()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if err := p.post(ctx, bareBody("b"+strconv.Itoa(i)+"-0")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSendInterleaved is P3 as the table measures it: both sides in one
// loop, so they share the machine's noise.
func BenchmarkSendInterleaved(b *testing.B) {
	q, _, url := warmSetup(b, "p3")
	p := newBarePost(url, "p3")
	ctx := b.Context()
	var ta, tb time.Duration
	i := 0
	for b.Loop() {
		i++
		ev := sqsEvent("h"+strconv.Itoa(i), "p3")
		body := bareBody("b" + strconv.Itoa(i) + "-0")
		da, db, err := timePair(func() error { return q.invoke(ctx, "req", ev) }, func() error { return p.post(ctx, body) }, i%2 == 0)
		if err != nil {
			b.Fatal(err)
		}
		ta += da
		tb += db
	}
	b.ReportMetric(float64(ta.Nanoseconds())/float64(b.N), "handler-ns/send")
	b.ReportMetric(float64(tb.Nanoseconds())/float64(b.N), "bare-ns/post")
	b.ReportMetric(float64(ta)/float64(tb), "ratio")
}

// BenchmarkBatch10At50ms is P4: ten records to ten conversations, each TalkJS
// call taking 50 ms, with the queue function's concurrency and with ten.
func BenchmarkBatch10At50ms(b *testing.B) {
	convs := make([]string, 10)
	for i := range convs {
		convs[i] = "p4-" + strconv.Itoa(i)
	}
	for _, c := range []int{queueConcurrency / 2, queueConcurrency} {
		b.Run("concurrency="+strconv.Itoa(c), func(b *testing.B) {
			srv, emu := talkjstest.NewServer(benchAppID, benchKey)
			b.Cleanup(srv.Close)
			for _, id := range convs {
				emu.PutConversation(talkjstest.Conversation{ID: id, Subject: id})
			}
			emu.AddFault(talkjstest.Fault{Latency: 50 * time.Millisecond})
			q, err := newQueueFunc(b.Context(), srv.URL, c)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if err := q.invoke(b.Context(), "req", sqsEvent("h"+strconv.Itoa(i), convs...)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The pieces of a function's init that run in main, before lambda.Start:
// what P1 charges the bridge for beyond its dependencies' package inits.

func BenchmarkInitSetupFromStaticKey(b *testing.B) {
	env := map[string]string{"TALKJS_APP_ID": benchAppID, "TALKJS_SECRET_KEY": benchKey, "TALKJS_API_URL": "http://127.0.0.1:1"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := setup.From(context.Background(), func(k string) string { return env[k] }, "queue", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInitMappingDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mapping.Default(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInitLoadDefaultConfig(b *testing.B) {
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTESTTEST")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-access-key")
	b.Setenv("AWS_REGION", "us-east-1")
	b.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	b.Setenv("AWS_CA_BUNDLE", "") // Lambda has none; a host one would dominate
	b.ReportAllocs()
	for b.Loop() {
		if _, err := awsconfig.LoadDefaultConfig(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// nopTalkJS answers every call at once, so BenchmarkHandlerCPU measures what
// the queue handler itself costs per record, with no HTTP at all.
type nopTalkJS struct{}

func (nopTalkJS) UpsertUser(context.Context, string, talkjs.UserUpdate) error { return nil }
func (nopTalkJS) UpsertConversation(context.Context, string, talkjs.ConversationUpdate) error {
	return nil
}
func (nopTalkJS) JoinConversation(context.Context, string, string, talkjs.Participation) error {
	return nil
}
func (nopTalkJS) SendMessages(_ context.Context, _ string, msgs ...talkjs.NewMessage) ([]string, error) {
	return make([]string, len(msgs)), nil
}

// BenchmarkHandlerCPU is P3's handler side without the TalkJS call: event
// decoding, record parsing, the batch plan and its goroutine, the log line
// and the metrics line.
func BenchmarkHandlerCPU(b *testing.B) {
	env := map[string]string{"TALKJS_APP_ID": benchAppID, "TALKJS_SECRET_KEY": benchKey, "TALKJS_API_URL": "http://127.0.0.1:1"}
	d, err := setup.From(b.Context(), func(k string) string { return env[k] }, "queue", io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	h, err := d.Queue(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	h.TalkJS, h.Memo = nopTalkJS{}, nil
	q := &queueFunc{h: setup.Invoke(d, h.Handle)}
	ctx := b.Context()
	// Built once: encoding a new event per iteration was a fifth of the
	// loop's CPU and no part of the handler. With TalkJS answering in
	// process and no memo, the same record costs the same every time.
	ev := sqsEvent("h1", "p3")
	b.ReportAllocs()
	for b.Loop() {
		if err := q.invoke(ctx, "req", ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSQSEvent is the part of P3's handler side that
// aws-lambda-go does before any bridge code runs: decoding the one-record
// event. No handler can avoid it.
func BenchmarkDecodeSQSEvent(b *testing.B) {
	ev := sqsEvent("h1", "p3")
	b.ReportAllocs()
	for b.Loop() {
		var e events.SQSEvent
		if err := json.Unmarshal(ev, &e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIntakeInterleaved is P9 as the table measures it: a signed
// webhook delivery through the webhook function in queue mode (answered
// 202 once SQS has the send command) and one bare SendMessage of the same
// size to the same local endpoint, in one loop.
//
//	go test -run '^$' -bench IntakeInterleaved -count 5 ./cmd/bench/
func BenchmarkIntakeInterleaved(b *testing.B) {
	ib, err := newIntakeBench(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ib.close)
	ctx := b.Context()
	first, err := ib.delivery(0)
	if err != nil {
		b.Fatal(err)
	}
	if err := ib.invoke(ctx, first); err != nil {
		b.Fatal(err)
	}
	body := ib.commandBody()
	var ta, tb time.Duration
	i := 0
	for b.Loop() {
		i++
		ev, err := ib.delivery(i)
		if err != nil {
			b.Fatal(err)
		}
		da, db, err := timePair(func() error { return ib.invoke(ctx, ev) }, func() error { return ib.sendBare(ctx, body) }, i%2 == 0)
		if err != nil {
			b.Fatal(err)
		}
		ta += da
		tb += db
	}
	b.ReportMetric(float64(ta.Nanoseconds())/float64(b.N), "webhook-ns/delivery")
	b.ReportMetric(float64(tb.Nanoseconds())/float64(b.N), "bare-ns/send")
	b.ReportMetric(float64(ta)/float64(tb), "ratio")
}

// BenchmarkIntakeHandlerCPU is P9's webhook side without SQS: the same
// delivery through the webhook function in queue mode, the queue answering
// in process, so what is left is the handler's own work (event decode,
// verify, map, the send command, the answer, the log and EMF lines).
func BenchmarkIntakeHandlerCPU(b *testing.B) {
	ib, err := newIntakeBench(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ib.close)
	ib.queue.Send = func(context.Context, webhook.QueueMessage) (string, error) { return "qm-1", nil }
	ev, err := ib.delivery(1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := ib.invoke(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareSendMessage is P9's floor alone: one SendMessage of the
// webhook's command to the local endpoint (both ends in this process).
func BenchmarkBareSendMessage(b *testing.B) {
	ib, err := newIntakeBench(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ib.close)
	ev, err := ib.delivery(1)
	if err != nil {
		b.Fatal(err)
	}
	if err := ib.invoke(b.Context(), ev); err != nil {
		b.Fatal(err)
	}
	body := ib.commandBody()
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := ib.sendBare(ctx, body); err != nil {
			b.Fatal(err)
		}
	}
}

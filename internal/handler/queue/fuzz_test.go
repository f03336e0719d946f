package queue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// fuzzRejects keeps rejections in memory: the fuzzer runs thousands of
// batches a second, and the SQS path is covered by TestBadRecords.
type fuzzRejects struct {
	mu  sync.Mutex
	got map[string]queue.Rejection
}

func (r *fuzzRejects) Reject(_ context.Context, rej queue.Rejection) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[rej.MessageID] = rej
	return nil
}

// FuzzQueueRecord hands random record bodies to Handler.Handle, twice in one
// batch (so that runs coalesce), optionally in a FIFO group. Nothing panics,
// and each record ends exactly one way: delivered (TalkJS holds a message
// for it), rejected with a reason (and forwarded), or reported for retry,
// each logged once with its messageId.
func FuzzQueueRecord(f *testing.F) {
	f.Add(`{"conversationId":"fz","message":{"type":"SystemMessage","text":"hi"}}`, false)
	f.Add(`{"conversationId":"fz","conversation":{"subject":"S","participants":["u1"]},"users":{"u1":{"name":"U"}},"messages":[{"type":"UserMessage","sender":"u1","text":"a"},{"type":"SystemMessage","text":"b","custom":{"k":"v"}}]}`, true)
	f.Add(`{"conversationId":"fz","idempotencyKey":"k-1","message":{"type":"SystemMessage","text":"x","idempotencyKey":"own"}}`, false)
	f.Add(`{"route":"github","headers":{"X-GitHub-Event":"issues"},"payload":{"action":"opened","issue":{"number":1,"title":"t","html_url":"u"},"repository":{"full_name":"o/r"},"sender":{"login":"l"}}}`, true)
	f.Add(`{"route":"alertmanager","payload":{"status":"firing","receiver":"r","alerts":[{"labels":{"alertname":"A"}}]}}`, false)
	f.Add(`{"conversationId":"fz/..","message":{"type":"SystemMessage","text":"x"}}`, false)
	f.Add(`{"conversationId":"`+strings.Repeat("z", 300)+`","message":{"type":"SystemMessage","text":"x"}}`, false)
	f.Add(`null`, true)
	f.Add("{\"conversationId\":\"\xff\"}", false)
	for _, tt := range bqBadRecords {
		f.Add(tt.body, false)
	}

	srv, emu := talkjstest.NewServer(bqAppID, bqKey)
	f.Cleanup(srv.Close)
	c, err := talkjs.NewClient(bqAppID, talkjs.StaticKey(bqKey), talkjs.WithBaseURL(srv.URL), talkjs.WithHTTPClient(srv.Client()),
		talkjs.WithRetryPolicy(talkjs.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		f.Fatal(err)
	}
	emu.PutConversation(talkjstest.Conversation{ID: "fz"})
	routes, err := mapping.Default()
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, body string, fifo bool) {
		rejects := &fuzzRejects{got: map[string]queue.Rejection{}}
		var logs bytes.Buffer
		h := &queue.Handler{Routes: routes, TalkJS: c, Rejects: rejects, Concurrency: 2,
			Logger: logging.New(&logs, slog.LevelInfo), Now: func() time.Time { return time.Unix(1795597200, 0) }}
		group := ""
		if fifo {
			group = "g"
		}
		before := emu.Counts()
		resp, err := h.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
			bqRecord("f-1", group, body), bqRecord("f-2", group, body),
		}})
		if err != nil {
			t.Fatalf("Handle failed the whole batch: %v", err)
		}
		after := emu.Counts()

		outcome := map[string][]string{}
		for line := range strings.Lines(logs.String()) {
			var rec struct {
				Message   string `json:"message"`
				MessageID string `json:"messageId"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q", line)
			}
			if strings.HasPrefix(rec.Message, "record ") {
				outcome[rec.MessageID] = append(outcome[rec.MessageID], rec.Message)
			}
		}
		reported := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			reported[f.ItemIdentifier] = true
		}
		delivered := 0
		for _, id := range []string{"f-1", "f-2"} {
			if len(outcome[id]) != 1 {
				t.Fatalf("record %s has outcomes %v, want exactly one", id, outcome[id])
			}
			rej, rejected := rejects.got[id]
			switch o := outcome[id][0]; {
			case o == "record delivered":
				if reported[id] || rejected {
					t.Fatalf("record %s delivered but also reported (%v) or rejected (%v)", id, reported[id], rejected)
				}
				delivered++
			case o == "record rejected":
				if reported[id] || !rejected || rej.Reason == "" {
					t.Fatalf("record %s rejected: reported %v, forwarded %v, reason %q", id, reported[id], rejected, rej.Reason)
				}
			case o == "record will be retried":
				if !reported[id] || rejected {
					t.Fatalf("record %s retried: reported %v, forwarded %v", id, reported[id], rejected)
				}
			default:
				t.Fatalf("record %s: unknown outcome %q", id, o)
			}
		}
		if delivered > 0 && after.MessagesStored+after.IdempotentReplays == before.MessagesStored+before.IdempotentReplays {
			t.Fatalf("%d records logged as delivered, but TalkJS stored or replayed no message", delivered)
		}
	})
}

package devserver

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/talkjs-bridge/talkjs-bridge/internal/handler/queue"
	"github.com/talkjs-bridge/talkjs-bridge/internal/inbox"
)

// This file puts what the bridge turned away on the /inbox page: webhooks
// answered 4xx (refused) and queue records bound for the rejects queue
// (rejected). A developer wiring a sender up sees why nothing arrived next
// to the conversations, without reading the log.

// maxCapture bounds how much of a webhook answer is kept to read its reason.
const maxCapture = 16 << 10

// recordRefusals serves next and records every 4xx answer in fs, with the
// answer's reason, or the logged detail when the answer withholds it (a 401
// says only "signature not verified"; which check failed is in the log).
func recordRefusals(next http.Handler, fs *inbox.Failures) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := &detail{}
		cw := &captureWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r.WithContext(context.WithValue(r.Context(), detailKey{}, d)))
		if cw.status < 400 || cw.status > 499 {
			return
		}
		title, reason := answerReason(cw.body.Bytes())
		if title == "" {
			title = http.StatusText(cw.status)
		}
		if logged := d.get(); logged != "" && !strings.Contains(reason, logged) {
			if reason != "" {
				reason += "; "
			}
			reason += logged
		}
		fs.Add(inbox.Failure{Kind: inbox.KindRefused, Route: r.PathValue("route"), Status: cw.status, Error: title, Reason: reason})
	})
}

// answerReason reads the webhook handler's JSON answer: {"error","reason"}
// for a refusal, or {"rejected":[{"conversationId","reason"}]} when TalkJS
// refused a message (422).
func answerReason(body []byte) (title, reason string) {
	var a struct {
		Error    string `json:"error"`
		Reason   string `json:"reason"`
		Rejected []struct {
			ConversationID string `json:"conversationId"`
			Reason         string `json:"reason"`
		} `json:"rejected"`
	}
	if json.Unmarshal(body, &a) != nil {
		return "", strings.TrimSpace(string(body))
	}
	if len(a.Rejected) == 0 {
		return a.Error, a.Reason
	}
	parts := make([]string, 0, len(a.Rejected))
	for _, r := range a.Rejected {
		parts = append(parts, r.ConversationID+": "+r.Reason)
	}
	return "TalkJS refused the message", strings.Join(parts, "; ")
}

// captureWriter passes an answer through and keeps its status and the
// start of its body.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if room := maxCapture - c.body.Len(); room > 0 {
		c.body.Write(b[:min(len(b), room)])
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// detail is the first "reason" a warning logged while serving one request
// carried.
type detail struct {
	mu     sync.Mutex
	reason string
}

type detailKey struct{}

func (d *detail) set(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reason == "" {
		d.reason = s
	}
}

func (d *detail) get() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reason
}

// detailHandler is a slog.Handler that copies the "reason" of warnings and
// errors logged with a request's context into that request's detail, and
// passes every record on to the real handler unchanged.
type detailHandler struct{ next slog.Handler }

func (h detailHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if l >= slog.LevelWarn && ctx != nil && ctx.Value(detailKey{}) != nil {
		return true
	}
	return h.next.Enabled(ctx, l)
}

func (h detailHandler) Handle(ctx context.Context, r slog.Record) error {
	if d, ok := ctx.Value(detailKey{}).(*detail); ok && r.Level >= slog.LevelWarn {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "reason" {
				d.set(a.Value.String())
				return false
			}
			return true
		})
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h detailHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return detailHandler{h.next.WithAttrs(as)}
}

func (h detailHandler) WithGroup(name string) slog.Handler {
	return detailHandler{h.next.WithGroup(name)}
}

// inboxRejects stands in for the rejects queue locally: the rejection is
// logged, where a developer may be looking, and listed on the inbox.
type inboxRejects struct {
	log *slog.Logger
	fs  *inbox.Failures
}

func (x inboxRejects) Reject(ctx context.Context, r queue.Rejection) error {
	x.log.WarnContext(ctx, "would forward to the rejects queue", "messageId", r.MessageID, "reason", r.Reason)
	reason := r.Reason
	if r.Answer != "" {
		reason += " (TalkJS answered: " + r.Answer + ")"
	}
	x.fs.Add(inbox.Failure{Kind: inbox.KindRejected, ID: r.MessageID, Status: r.Status, Error: "would go to the rejects queue", Reason: reason})
	return nil
}

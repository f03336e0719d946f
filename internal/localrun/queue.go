package localrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
)

// QueueBatchSize is the most records DeliverQueued hands the queue function
// at once, template.yaml's default QueueBatchSize.
const QueueBatchSize = 10

// QueueRun is what one DeliverQueued did.
type QueueRun struct {
	// Invocations of the queue function, repeats included.
	Invocations int
	// Delivered are the queue message ids deleted: the function sent or
	// rejected them.
	Delivered []string
	// Retried are the ids left on the queue: reported as batch item
	// failures, in a failed invocation, or held behind an earlier message
	// of their FIFO group.
	Retried []string
	// FunctionErrors counts invocations that ended in a function error
	// (the queue function's ErrBatchFailed when every record failed).
	FunctionErrors int
}

// Queued returns the messages the webhook function put on the command queue
// that DeliverQueued has not deleted yet, oldest first.
func (s *Stack) Queued() []awstest.Message {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	return s.pendingLocked()
}

func (s *Stack) pendingLocked() []awstest.Message {
	var out []awstest.Message
	if s.CommandQueueURL == "" {
		return nil
	}
	for _, m := range s.AWS.Sent() {
		if m.QueueURL == s.CommandQueueURL && !s.deleted[m.MessageID] {
			out = append(out, m)
		}
	}
	return out
}

// DeliverQueued hands the messages waiting on the command queue to the
// queue function once, as the SQS event source would: in batches of at most
// QueueBatchSize, oldest first, each record with its receive count and, on a
// FIFO queue, its MessageGroupId. What the function reports as a batch item
// failure, or all of a batch whose invocation failed, stays on the queue;
// the rest is deleted. On a FIFO queue, a group with a message left on the
// queue gets no later message of it in this pass, as SQS keeps a group's
// order. With twice, every batch is delivered a second time before its
// outcome is applied, as SQS's at-least-once delivery may. There is no
// visibility timeout and no dead-letter queue: call it again to redeliver.
// It needs Options.Queued and the queue function.
func (s *Stack) DeliverQueued(ctx context.Context, twice bool) (QueueRun, error) {
	var run QueueRun
	if s.CommandQueueURL == "" {
		return run, errors.New("localrun: DeliverQueued needs Options.Queued")
	}
	fifo := strings.HasSuffix(s.CommandQueueURL, ".fifo")
	s.queueMu.Lock()
	pending := s.pendingLocked()
	s.queueMu.Unlock()
	blocked := map[string]bool{}
	for len(pending) > 0 {
		var batch []awstest.Message
		var rest []awstest.Message
		for _, m := range pending {
			switch {
			case fifo && blocked[m.MessageGroupID]:
				run.Retried = append(run.Retried, m.MessageID)
			case len(batch) < QueueBatchSize:
				batch = append(batch, m)
			default:
				rest = append(rest, m)
			}
		}
		pending = rest
		if len(batch) == 0 {
			break
		}
		failed, err := s.deliverBatch(ctx, batch, twice, &run)
		if err != nil {
			return run, err
		}
		s.queueMu.Lock()
		for _, m := range batch {
			if failed[m.MessageID] {
				run.Retried = append(run.Retried, m.MessageID)
				blocked[m.MessageGroupID] = fifo
				continue
			}
			s.deleted[m.MessageID] = true
			run.Delivered = append(run.Delivered, m.MessageID)
		}
		s.queueMu.Unlock()
	}
	return run, nil
}

// deliverBatch invokes the queue function with batch (twice with twice) and
// returns the ids it left on the queue.
func (s *Stack) deliverBatch(ctx context.Context, batch []awstest.Message, twice bool, run *QueueRun) (map[string]bool, error) {
	name := s.CommandQueueURL[strings.LastIndex(s.CommandQueueURL, "/")+1:]
	var ev events.SQSEvent
	s.queueMu.Lock()
	for _, m := range batch {
		s.receives[m.MessageID]++
		attrs := map[string]string{
			"ApproximateReceiveCount": strconv.Itoa(s.receives[m.MessageID]),
			"SentTimestamp":           "1795597200000",
		}
		if m.MessageGroupID != "" {
			attrs["MessageGroupId"] = m.MessageGroupID
			attrs["MessageDeduplicationId"] = m.MessageDeduplicationID
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:      m.MessageID,
			ReceiptHandle:  "AQEB" + m.MessageID + "-" + strconv.Itoa(s.receives[m.MessageID]),
			Body:           m.Body,
			Attributes:     attrs,
			EventSource:    "aws:sqs",
			EventSourceARN: fmt.Sprintf("arn:aws:sqs:%s:%s:%s", awstest.Region, awstest.Account, name),
			AWSRegion:      awstest.Region,
		})
	}
	s.queueMu.Unlock()
	event, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("localrun: %w", err)
	}
	failed := map[string]bool{}
	times := 1
	if twice {
		times = 2
	}
	for range times {
		run.Invocations++
		out, err := s.Invoke(ctx, Queue, event)
		var fe *rietest.FunctionError
		switch {
		case errors.As(err, &fe):
			// The whole batch stays, as after any failed invocation.
			run.FunctionErrors++
			for _, m := range batch {
				failed[m.MessageID] = true
			}
			continue
		case err != nil:
			return nil, err
		}
		var resp events.SQSEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, fmt.Errorf("localrun: queue answer %q: %w", out, err)
		}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
	}
	return failed, nil
}

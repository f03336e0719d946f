package webhook

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// NewSQSCommandQueue returns the command queue at queueURL, written through
// c. It keeps c's SendMessage method rather than c: a *sqs.Client stored in
// an interface or a struct field makes the linker keep every one of its
// exported methods (text/template and expr call methods by name), some 20
// unused SQS operations in the webhook binary. Send is safe to retry: a
// retry may queue the send twice, which its idempotency keys (and, on a
// FIFO queue, its deduplication id) make one message.
func NewSQSCommandQueue(c *sqs.Client, queueURL string) *CommandQueue {
	send := c.SendMessage
	return &CommandQueue{URL: queueURL, Send: func(ctx context.Context, m QueueMessage) (string, error) {
		in := &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(m.Body)}
		if m.GroupID != "" {
			in.MessageGroupId = aws.String(m.GroupID)
		}
		if m.DeduplicationID != "" {
			in.MessageDeduplicationId = aws.String(m.DeduplicationID)
		}
		out, err := send(ctx, in)
		if err != nil {
			return "", fmt.Errorf("send to the command queue: %w", err)
		}
		if out.MessageId == nil || *out.MessageId == "" {
			return "", errors.New("send to the command queue: SQS answered without a message id")
		}
		return *out.MessageId, nil
	}}
}

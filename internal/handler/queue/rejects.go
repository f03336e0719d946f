package queue

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SendMessageAPI is the one call of the SQS client that forwarding needs.
type SendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// sendMessageFunc lets SQSRejects hold the client's SendMessage method
// instead of the client: see NewSQSRejects.
type sendMessageFunc func(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)

func (f sendMessageFunc) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return f(ctx, in, opts...)
}

// SQSRejects forwards rejected records to an SQS queue (REJECTS_QUEUE_URL).
type SQSRejects struct {
	Client   SendMessageAPI
	QueueURL string
}

// NewSQSRejects returns an SQSRejects sending through c to queueURL. It
// keeps c's SendMessage method rather than c: a *sqs.Client stored in an
// interface makes the linker keep all of its exported methods (text/template
// and expr call methods by name), some 20 unused SQS operations and 0.2 MiB
// of the queue binary.
func NewSQSRejects(c *sqs.Client, queueURL string) SQSRejects {
	return SQSRejects{Client: sendMessageFunc(c.SendMessage), QueueURL: queueURL}
}

// Reject sends r to the rejects queue. Retrying it may forward the record
// twice, which a person redriving rejects can tell by its messageId.
func (q SQSRejects) Reject(ctx context.Context, r Rejection) error {
	body, err := MarshalRejection(r)
	if err != nil {
		return fmt.Errorf("forward %s to rejects queue: %w", r.MessageID, err)
	}
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(q.QueueURL),
		MessageBody: aws.String(body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"sourceMessageId": {DataType: aws.String("String"), StringValue: aws.String(r.MessageID)},
		},
	}
	if strings.HasSuffix(q.QueueURL, ".fifo") {
		// A FIFO rejects queue needs a group (a standard one refuses it);
		// keep the source's so a redrive keeps its order.
		group := r.Group
		if group == "" {
			group = "rejects"
		}
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(r.MessageID)
	}
	if _, err := q.Client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("forward %s to rejects queue: %w", r.MessageID, err)
	}
	return nil
}

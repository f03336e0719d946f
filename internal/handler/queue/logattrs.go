package queue

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
)

// recordContext files a record's log lines and metrics under its route and
// conversation (when the record got that far) and its SQS message id, the
// delivery id an operator has from the queue or the rejects queue.
func recordContext(ctx context.Context, rec events.SQSMessage, it dispatch.Item) context.Context {
	route, conv := "", ""
	if len(it.Sends) > 0 {
		route, conv = it.Sends[0].Route, it.Sends[0].ConversationID
	}
	return logging.With(dispatch.About(ctx, route, conv), logging.DeliveryIDKey, rec.MessageId)
}

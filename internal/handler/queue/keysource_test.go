package queue_test

import (
	"context"
	"fmt"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// unavailable is a key source whose secret store is down.
type unavailable struct{}

func (unavailable) Key(context.Context) (string, error) {
	return "", fmt.Errorf("secrets manager: %w", talkjs.ErrKeyUnavailable)
}
func (unavailable) Refused(context.Context, string) {}

package localrun

import (
	"strings"
	"testing"
)

func TestDeliverQueuedNeedsQueuedIntake(t *testing.T) {
	s := &Stack{}
	if _, err := s.DeliverQueued(t.Context(), false); err == nil || !strings.Contains(err.Error(), "Options.Queued") {
		t.Errorf("DeliverQueued without a command queue: %v, want an error naming Options.Queued", err)
	}
	if q := s.Queued(); q != nil {
		t.Errorf("Queued = %v without a command queue", q)
	}
}

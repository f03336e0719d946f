package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/localrun"
	"github.com/talkjs-bridge/talkjs-bridge/internal/rietest"
)

// emf is the part of an Embedded Metric Format line the tests read.
type emf struct {
	Function string `json:"Function"`
	Sent     int    `json:"Sent"`
	Rejected int    `json:"Rejected"`
	AWS      *struct {
		CloudWatchMetrics []struct {
			Namespace string `json:"Namespace"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

// metricsOf invokes fn with event under a fresh request id and returns the
// EMF lines that invocation printed (one per route), counters summed.
func metricsOf(t *testing.T, fn string, event []byte) emf {
	t.Helper()
	id := strings.ReplaceAll(t.Name(), "/", "-") + "-" + fn
	if _, err := stack.Function(fn).Do(t.Context(), rietest.Invocation{Event: event, RequestID: id}); err != nil {
		t.Fatal(err)
	}
	logs := stack.Logs(fn)
	i := strings.LastIndex(logs, "START RequestId: "+id)
	if i < 0 {
		t.Fatalf("no START line for %s", id)
	}
	var sum emf
	for _, line := range strings.Split(logs[i:], "\n") {
		var m emf
		if json.Unmarshal([]byte(line), &m) == nil && m.AWS != nil {
			if sum.AWS == nil {
				sum = m
			} else {
				sum.Sent += m.Sent
				sum.Rejected += m.Rejected
			}
		}
		if strings.HasPrefix(line, "END RequestId:") {
			break
		}
	}
	if sum.AWS == nil {
		t.Fatalf("%s printed no EMF line for request %s", fn, id)
	}
	return sum
}

// TestMetrics checks the EMF counters DESIGN.md promises (sent, rejected)
// against what reached TalkJS. Duplicate is not checked: a TalkJS replay
// answer cannot be told from a fresh send.
func TestMetrics(t *testing.T) {
	reset(t)
	m := metricsOf(t, localrun.Webhook, loadEvent(t, "webhook-github-issue-rest.json"))
	if m.Function != localrun.Webhook || m.AWS == nil || len(m.AWS.CloudWatchMetrics) == 0 || m.AWS.CloudWatchMetrics[0].Namespace != "TalkJSBridge" {
		t.Errorf("EMF line = %+v, want function webhook in namespace TalkJSBridge", m)
	}
	if m.Sent != 1 {
		t.Errorf("webhook: Sent = %d, want 1", m.Sent)
	}
	batch := sqsEvent(t, record{id: "metrics-ok", body: system(t, "c-metrics", "counted")}, record{id: "metrics-bad", body: "{}"})
	if m := metricsOf(t, localrun.Queue, batch); m.Sent != 1 || m.Rejected != 1 {
		t.Errorf("queue: Sent %d Rejected %d, want 1 and 1", m.Sent, m.Rejected)
	}
}

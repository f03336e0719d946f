package mapping

import (
	"net/http"
	"testing"
	"time"
)

// TestAlertmanagerRepeats: Alertmanager repeats a still-firing alert with the
// very same body (repeat_interval). A retry within the hour is the same
// message; the repeat hours later is a new one.
func TestAlertmanagerRepeats(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"version":"4","groupKey":"g","status":"firing","receiver":"ops","groupLabels":{"alertname":"DiskFull"},"alerts":[{"status":"firing","labels":{"alertname":"DiskFull"},"annotations":{"summary":"disk full"}}]}`)
	h := http.Header{"Authorization": {"Bearer " + testSecrets["alertmanager"]}}
	key := func(at time.Time) string {
		t.Helper()
		res, err := c.Webhook(t.Context(), Request{Route: "alertmanager", Headers: h, Body: body, Now: at}, lookup(testSecrets))
		if err != nil || len(res.Sends) != 1 {
			t.Fatalf("%v %+v", err, res)
		}
		return res.Sends[0].Messages[0].IdempotencyKey
	}
	first := key(testNow)
	if retry := key(testNow.Add(30 * time.Second)); retry != first {
		t.Errorf("a retry 30 s later has key %q, want %q", retry, first)
	}
	if repeat := key(testNow.Add(4 * time.Hour)); repeat == first {
		t.Error("the repeat notification 4 h later has the same key: it would be dropped")
	}
}

// TestDefaultParsesStrictly guards the lazy Default: the embedded file must
// pass the same strict parse that a BRIDGE_CONFIG file gets at start-up.
func TestDefaultParsesStrictly(t *testing.T) {
	if _, err := Parse(DefaultRoutesFile(), DefaultFilename); err != nil {
		t.Fatal(err)
	}
}

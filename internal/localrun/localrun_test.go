package localrun

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"

	"github.com/talkjs-bridge/talkjs-bridge/internal/secretscan"

	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
)

func TestStartRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"real TalkJS without a key", Options{RealTalkJS: true, AppID: "tX"}, "RealTalkJS needs AppID and SecretKey"},
		{"not a secret key", Options{SecretKey: "pk_test_x"}, "not a TalkJS secret key"},
		{"unknown function", Options{Functions: []string{"webhooks"}}, `unknown function "webhooks"`},
		{"no functions", Options{Functions: []string{}}, "Functions is empty"},
		{"twice", Options{Functions: []string{Queue, Queue}}, `"queue" given twice`},
		{"prebuilt without a directory", Options{Prebuilt: true}, "Prebuilt needs BuildDir"},
		{"prebuilt but not built", Options{Prebuilt: true, BuildDir: t.TempDir()}, "make build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Start(t.Context(), tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pk_test_x") {
				t.Errorf("err shows the key: %v", err)
			}
		})
	}
}

// TestStart runs the schedule function alone: it builds, reads the secret
// from the local Secrets Manager and sends through the emulator.
func TestStart(t *testing.T) {
	logs := &secretscan.Buffer{}
	s, err := Start(t.Context(), Options{Functions: []string{Schedule}, Logs: logs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Function(Webhook) != nil || s.Function(Schedule) == nil {
		t.Fatal("Function: want only schedule running")
	}
	if _, err := s.Invoke(t.Context(), Webhook, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), `"webhook" is not running`) {
		t.Errorf("invoking a function not started: err = %v", err)
	}
	s.TalkJS.PutConversation(talkjstest.Conversation{ID: "ops"})
	out, err := s.Invoke(t.Context(), Schedule, []byte(`{"conversationIds":["ops"],"text":"hello from localrun","scheduledTime":"2026-11-25T09:00:00Z"}`))
	if err != nil {
		t.Fatalf("invoke: %v (%s)", err, out)
	}
	var sum struct{ Sent int }
	if err := json.Unmarshal(out, &sum); err != nil || sum.Sent != 1 {
		t.Errorf("answer %s, want 1 sent", out)
	}
	if msgs := s.TalkJS.Messages("ops"); len(msgs) != 1 || msgs[0].Text != "hello from localrun" {
		t.Errorf("ops messages = %+v", msgs)
	}
	if n := s.AWS.Calls(awstest.GetSecretValue); n != 1 {
		t.Errorf("%d secret fetches, want 1", n)
	}
	s.Reset()
	if len(s.TalkJS.Messages("ops")) != 0 || len(s.TalkJS.Conversations()) != 0 {
		t.Error("Reset did not empty the emulator")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if !strings.Contains(logs.String(), "schedule | ") {
		t.Errorf("logs lack the function prefix:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), democreds.SecretKey) {
		t.Error("logs show the secret key")
	}
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	w := &prefixWriter{w: &out, prefix: []byte("fn | ")}
	for _, chunk := range []string{"one\ntw", "o\n", "", "three\nfour"} {
		if n, err := w.Write([]byte(chunk)); err != nil || n != len(chunk) {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	if want := "fn | one\nfn | two\nfn | three\n"; out.String() != want {
		t.Errorf("got %q, want %q (the unfinished line kept)", out.String(), want)
	}
}

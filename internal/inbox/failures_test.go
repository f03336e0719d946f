package inbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFailuresRing(t *testing.T) {
	tests := []struct {
		name        string
		size, added int
		wantRoutes  []string
		wantDropped int
	}{
		{"empty", 3, 0, []string{}, 0},
		{"under size", 3, 2, []string{"r1", "r0"}, 0},
		{"exactly full", 3, 3, []string{"r2", "r1", "r0"}, 0},
		{"wrapped", 3, 7, []string{"r6", "r5", "r4"}, 4},
		{"default size", 0, DefaultMaxFailures + 1, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := NewFailures(tt.size)
			for i := range tt.added {
				fs.Add(Failure{Kind: KindRefused, Route: fmt.Sprintf("r%d", i), Error: "x"})
			}
			got, dropped := fs.List()
			if dropped != tt.wantDropped {
				t.Errorf("dropped = %d, want %d", dropped, tt.wantDropped)
			}
			if tt.wantRoutes == nil {
				if len(got) != DefaultMaxFailures || got[0].Route != fmt.Sprintf("r%d", tt.added-1) {
					t.Errorf("got %d failures, newest %+v; want %d, newest last added", len(got), got[0], DefaultMaxFailures)
				}
				return
			}
			routes := []string{}
			for _, f := range got {
				routes = append(routes, f.Route)
			}
			if !slices.Equal(routes, tt.wantRoutes) {
				t.Errorf("routes = %v, want newest first %v", routes, tt.wantRoutes)
			}
		})
	}
}

func TestFailuresAddStampsAndBounds(t *testing.T) {
	fs := NewFailures(2)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	fs.now = func() time.Time { return now }
	long := strings.Repeat("é", maxReason) // 2 bytes each: cut mid-rune
	fs.Add(Failure{Kind: KindRejected, Reason: long, Error: long})
	fs.Add(Failure{Kind: KindRefused, At: 42})
	got, _ := fs.List()
	if got[0].At != 42 || got[1].At != now.UnixMilli() {
		t.Errorf("At = %d, %d; want 42 kept and %d stamped", got[0].At, got[1].At, now.UnixMilli())
	}
	for _, s := range []string{got[1].Reason, got[1].Error} {
		if len(s) > maxReason+len("…") || !utf8.ValidString(s) || !strings.HasSuffix(s, "…") {
			t.Errorf("long text kept as %d bytes (valid UTF-8 %v), want at most %d, cut at a character, marked", len(s), utf8.ValidString(s), maxReason)
		}
	}
	var nilFS *Failures
	nilFS.Add(Failure{})
	if l, d := nilFS.List(); l != nil || d != 0 {
		t.Error("a nil Failures lists something")
	}
}

func TestSnapshotCarriesFailuresAndMarkup(t *testing.T) {
	fs := NewFailures(5)
	e := newEnv(t, WithFailures(fs))
	e.mustSend(t, sendRequest{Conversation: "c", Subject: "*Build* 7", Type: "SystemMessage", Text: "*done*: <https://ci.example/7|log>"})
	fs.Add(Failure{Kind: KindRefused, Route: "github", Status: 401, Error: "signature not verified"})
	fs.Add(Failure{Kind: KindRejected, ID: "m-1", Error: "would go to the rejects queue", Reason: "bad type"})
	s := e.snapshot(t)
	if len(s.Failures) != 2 || s.Failures[0].ID != "m-1" || s.Failures[1].Route != "github" {
		t.Errorf("failures = %+v, want the rejected one first, then the refused one", s.Failures)
	}
	c := s.Conversations[0]
	if got, want := renderHTML(c.Messages[0].Rich), `<strong>done</strong>: <a href="https://ci.example/7">log</a>`; got != want {
		t.Errorf("rich = %s, want %s", got, want)
	}
	if got, want := renderHTML(c.SubjectRich), `<strong>Build</strong> 7`; got != want {
		t.Errorf("subjectRich = %s, want %s", got, want)
	}
	if c.Messages[0].Text != "*done*: <https://ci.example/7|log>" {
		t.Errorf("text = %q, want it unchanged next to the parsed nodes", c.Messages[0].Text)
	}
}

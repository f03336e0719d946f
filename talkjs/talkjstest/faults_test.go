package talkjstest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var oneMessage = []map[string]any{{"type": "SystemMessage", "text": "hi"}}

func TestFaultStatus(t *testing.T) {
	tests := []struct {
		name           string
		fault          Fault
		wantStatus     int
		wantRetryAfter string
	}{
		{"500", Fault{Status: 500, Times: 1}, 500, ""},
		{"502", Fault{Status: 502, Times: 1}, 502, ""},
		{"503 with Retry-After rounded up", Fault{Status: 503, RetryAfter: 1500 * time.Millisecond, Times: 1}, 503, "2"},
		{"429 with Retry-After", Fault{Status: 429, RetryAfter: 3 * time.Second, Times: 1}, 429, "3"},
		{"permanent 403", Fault{Status: 403, Times: 1}, 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.emu.AddFault(tc.fault)
			status, body, hdr := f.rawCall(t, "POST", "/v1/"+testApp+"/conversations/order-1/messages", oneMessage)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d; %s", status, tc.wantStatus, body)
			}
			if got := hdr.Get("Retry-After"); got != tc.wantRetryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.wantRetryAfter)
			}
			if !strings.Contains(string(body), "INJECTED_FAULT") {
				t.Errorf("body %s", body)
			}
			if n := len(f.emu.Messages("order-1")); n != 0 {
				t.Errorf("a faulted send stored %d messages", n)
			}
			reqs := f.emu.Requests()
			if last := reqs[len(reqs)-1]; !last.Fault || last.Status != tc.wantStatus || last.ConversationID != "order-1" {
				t.Errorf("logged %+v", last)
			}
			if c := f.emu.Counts(); c.Faults != 1 || c.Refused != 0 {
				t.Errorf("counts %+v, want 1 fault and no refusal", c)
			}
			// Times: 1 is used up; the retry goes through.
			f.mustOK(t, "POST", "/conversations/order-1/messages", oneMessage)
		})
	}
}

func TestFaultTimes(t *testing.T) {
	tests := []struct {
		name  string
		times int
		want  []int
	}{
		{"twice", 2, []int{503, 503, 200, 200}},
		{"until cleared", 0, []int{503, 503, 503, 503}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.emu.AddFault(Fault{Status: 503, Times: tc.times})
			for i, want := range tc.want {
				if status, _ := f.call(t, "GET", "/users/alice", nil); status != want {
					t.Errorf("request %d: status %d, want %d", i, status, want)
				}
			}
			f.emu.ClearFaults()
			f.mustOK(t, "GET", "/users/alice", nil)
		})
	}
}

func TestFaultComesBeforeAuthentication(t *testing.T) {
	f := newFixture(t)
	f.emu.AddFault(Fault{Status: 502})
	status, _ := f.call(t, "GET", "/users/alice", nil, withHeader("Authorization", "Bearer wrong"), withHeader("User-Agent", ""))
	if status != http.StatusBadGateway {
		t.Errorf("status %d, want 502 from the outage", status)
	}
}

func TestFaultForOneConversation(t *testing.T) {
	f := newFixture(t)
	f.mustOK(t, "PUT", "/conversations/order-2", map[string]any{"participants": []string{"alice"}})
	f.emu.AddFault(Fault{ConversationID: "order-2", Status: 503})
	tests := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"send to the faulted conversation", "POST", "/conversations/order-2/messages", oneMessage, 503},
		{"read the faulted conversation", "GET", "/conversations/order-2", nil, 503},
		{"join the faulted conversation", "PUT", "/conversations/order-2/participants/bob", nil, 503},
		{"send elsewhere", "POST", "/conversations/order-1/messages", oneMessage, 200},
		{"users", "GET", "/users/alice", nil, 200},
		{"list conversations", "GET", "/conversations", nil, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := f.call(t, tc.method, tc.path, tc.body); status != tc.want {
				t.Errorf("status %d, want %d; %s", status, tc.want, body)
			}
		})
	}
}

func TestFaultLatency(t *testing.T) {
	t.Run("then handled", func(t *testing.T) {
		f := newFixture(t)
		f.emu.AddFault(Fault{Latency: 50 * time.Millisecond, Times: 1})
		start := time.Now()
		f.mustOK(t, "POST", "/conversations/order-1/messages", oneMessage)
		if waited := time.Since(start); waited < 50*time.Millisecond {
			t.Errorf("answered after %v, before the latency", waited)
		}
		if n := len(f.emu.Messages("order-1")); n != 1 {
			t.Errorf("latency-only fault: %d stored, want 1", n)
		}
		if reqs := f.emu.Requests(); !reqs[len(reqs)-1].Fault || reqs[len(reqs)-1].Status != 200 {
			t.Errorf("logged %+v", reqs[len(reqs)-1])
		}
	})
	t.Run("then status", func(t *testing.T) {
		f := newFixture(t)
		f.emu.AddFault(Fault{Latency: 20 * time.Millisecond, Status: 500, Times: 1})
		if status, _ := f.call(t, "GET", "/users/alice", nil); status != 500 {
			t.Errorf("status %d, want 500", status)
		}
	})
	t.Run("cut by the request context", func(t *testing.T) {
		f := newFixture(t)
		f.emu.AddFault(Fault{Latency: time.Hour})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "POST", f.srv.URL+"/v1/"+testApp+"/conversations/order-1/messages", strings.NewReader(`[{"type":"SystemMessage","text":"hi"}]`))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("User-Agent", "test")
		req.Header.Set("Content-Type", "application/json")
		_, err := f.srv.Client().Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want the client's deadline", err)
		}
		// httptest.Server.Close waits for running handlers: it returns quickly
		// only if the handler stopped waiting when the client went away.
		done := make(chan struct{})
		go func() { f.srv.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("handler still waiting after the client went away")
		}
		if n := len(f.emu.Messages("order-1")); n != 0 {
			t.Errorf("%d messages stored by an abandoned request", n)
		}
		if reqs := f.emu.Requests(); reqs[len(reqs)-1].Status != 0 {
			t.Errorf("abandoned request logged with status %d", reqs[len(reqs)-1].Status)
		}
	})
}

func TestFaultDrop(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"POST", "POST", "/conversations/order-1/messages", oneMessage},
		{"GET", "GET", "/users/alice", nil}, // the transport may retry a GET; it is dropped again
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.emu.AddFault(Fault{Drop: true})
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, f.srv.URL+"/v1/"+testApp+tc.path, nil)
			if tc.body != nil {
				req, _ = http.NewRequestWithContext(t.Context(), tc.method, f.srv.URL+"/v1/"+testApp+tc.path, strings.NewReader(`[{"type":"SystemMessage","text":"hi"}]`))
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("User-Agent", "test")
			resp, err := f.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got status %d, want a connection error", resp.StatusCode)
			}
			if n := len(f.emu.Messages("order-1")); n != 0 {
				t.Errorf("dropped send stored %d messages", n)
			}
			reqs := f.emu.Requests()
			if last := reqs[len(reqs)-1]; !last.Fault || last.Status != 0 {
				t.Errorf("logged %+v", last)
			}
		})
	}
}

func TestFaultProbability(t *testing.T) {
	run := func(seed int64) []bool {
		e := New(testApp, testKey)
		e.SetSeed(seed)
		e.AddFault(Fault{Status: 503, Probability: 0.3})
		var faulted []bool
		for range 400 {
			req := httptest.NewRequestWithContext(t.Context(), "GET", "/v1/"+testApp+"/users", nil)
			req.Header.Set("Authorization", "Bearer "+testKey)
			req.Header.Set("User-Agent", "test")
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)
			faulted = append(faulted, w.Code == 503)
		}
		if got := e.Counts().Faults; got != count(faulted) {
			t.Errorf("Counts().Faults %d, answers %d", got, count(faulted))
		}
		return faulted
	}
	a, b, c := run(7), run(7), run(8)
	if n := count(a); n < 80 || n > 160 {
		t.Errorf("%d of 400 faulted with probability 0.3", n)
	}
	if !equalBools(a, b) {
		t.Errorf("same seed, different faults")
	}
	if equalBools(a, c) {
		t.Errorf("different seeds, same 400 decisions")
	}
}

func TestFaultTimesWithProbability(t *testing.T) {
	e := New(testApp, testKey)
	e.SetSeed(1)
	e.AddFault(Fault{Status: 500, Probability: 0.5, Times: 3})
	for range 100 {
		req := httptest.NewRequestWithContext(t.Context(), "GET", "/v1/"+testApp+"/users", nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("User-Agent", "test")
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	if got := e.Counts().Faults; got != 3 {
		t.Errorf("%d faults, want Times=3", got)
	}
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

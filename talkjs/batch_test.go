package talkjs

import (
	"errors"
	"net/http"
	"testing"
)

func TestBatch(t *testing.T) {
	ops := []BatchOperation{
		{Method: "GET", Path: "/users/user_01"},
		{Method: "GET", Path: "/users/user_01/conversations", Payload: map[string]string{"limit": "30"}},
		{Method: "POST", Path: "/conversations/conv_01/messages", Payload: []NewMessage{{Type: SystemMessage, Text: "hi"}}},
		{Method: "PUT", Path: "/users/user_02", Payload: map[string]string{"name": "Alice"}, APIVersion: "2021-01-01"},
		{Method: "GET", Path: "/non/existing", APIVersion: "2021-01-01"},
	}
	wantBody := `[[1,"GET","/users/user_01"],` +
		`[2,"GET","/users/user_01/conversations",{"limit":"30"}],` +
		`[3,"POST","/conversations/conv_01/messages",[{"type":"SystemMessage","text":"hi"}]],` +
		`[4,"PUT","/users/user_02",{"name":"Alice"},{"api_version":"2021-01-01"}],` +
		`[5,"GET","/non/existing",{},{"api_version":"2021-01-01"}]]`
	// Answers out of order, as TalkJS may run them in any order, and both
	// as objects and as the JSON-encoded strings TalkJS documents.
	srv, rec := okServer(t, `[[5,404,"{\"error\":\"no\"}"],[1,200,{"id":"user_01"}],[3,200,"[{\"id\":\"msg_1\"}]"],[2,200,{"data":[]}],[4,200,"not json"]]`)
	results, err := newTestClient(t, srv).Batch(t.Context(), ops...)
	if err != nil {
		t.Fatal(err)
	}
	if r := rec.all()[0]; r.Method != "POST" || r.Path != "/v1/app1/batch" || string(r.Body) != wantBody {
		t.Errorf("got %s %s\n%s\nwant\n%s", r.Method, r.Path, r.Body, wantBody)
	}
	wantStatus := []int{200, 200, 200, 200, 404}
	for i, res := range results {
		if res.StatusCode != wantStatus[i] {
			t.Errorf("result %d status %d, want %d", i, res.StatusCode, wantStatus[i])
		}
	}
	for i, want := range []string{`{"id":"user_01"}`, `{"data":[]}`, `[{"id":"msg_1"}]`, `"not json"`, `{"error":"no"}`} {
		if string(results[i].Body) != want {
			t.Errorf("result %d body %s, want %s", i, results[i].Body, want)
		}
	}
	if err := results[4].Err(ops[4]); !errors.Is(err, ErrNotFound) {
		t.Errorf("Err = %v, want ErrNotFound", err)
	}
	if err := results[0].Err(ops[0]); err != nil {
		t.Errorf("Err = %v for a 200", err)
	}
}

func TestBatchValidationAndAnswers(t *testing.T) {
	get := BatchOperation{Method: "GET", Path: "/users/u"}
	tests := []struct {
		name     string
		ops      []BatchOperation
		answer   string
		wantErr  bool
		invalid  bool
		wantReqs int
	}{
		{name: "none", invalid: true},
		{name: "eleven", ops: []BatchOperation{get, get, get, get, get, get, get, get, get, get, get}, invalid: true},
		{name: "bad method", ops: []BatchOperation{{Method: "HEAD", Path: "/x"}}, invalid: true},
		{name: "relative path", ops: []BatchOperation{{Method: "GET", Path: "users/u"}}, invalid: true},
		{name: "missing answer", ops: []BatchOperation{get, get}, answer: `[[1,200,{}]]`, wantErr: true, wantReqs: 1},
		{name: "unknown sequence", ops: []BatchOperation{get}, answer: `[[9,200,{}]]`, wantErr: true, wantReqs: 1},
		{name: "malformed item", ops: []BatchOperation{get}, answer: `[{"x":1}]`, wantErr: true, wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := okServer(t, tt.answer)
			_, err := newTestClient(t, srv).Batch(t.Context(), tt.ops...)
			if (err != nil) != (tt.wantErr || tt.invalid) || errors.Is(err, ErrInvalidRequest) != tt.invalid {
				t.Errorf("err = %v, want error %v (invalid %v)", err, tt.wantErr || tt.invalid, tt.invalid)
			}
			if rec.count() != tt.wantReqs {
				t.Errorf("%d requests, want %d", rec.count(), tt.wantReqs)
			}
		})
	}
}

func TestBatchRetriedOnlyWithoutPOST(t *testing.T) {
	tests := []struct {
		name     string
		ops      []BatchOperation
		wantReqs int
	}{
		{name: "reads and upserts are resent", ops: []BatchOperation{{Method: "GET", Path: "/users/u"}, {Method: "PUT", Path: "/users/v", Payload: map[string]string{}}}, wantReqs: 2},
		{name: "a POST is sent once", ops: []BatchOperation{{Method: "POST", Path: "/conversations/c/messages", Payload: []NewMessage{}}}, wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 0 {
					answer(w, 503, "{}")
					return
				}
				answer(w, 200, `[[1,200,{}],[2,200,{}]]`)
			})
			_, _ = newTestClient(t, srv).Batch(t.Context(), tt.ops...)
			if got := rec.count(); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
		})
	}
}

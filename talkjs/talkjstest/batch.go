package talkjstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MaxBatchOperations is how many operations one POST /batch may carry, as
// TalkJS documents.
const MaxBatchOperations = 10

// batch runs POST /v1/{appId}/batch: an array of
// [sequence_number, method, path, payload?, options?] operations, each run as
// if it were its own request (path relative to /v1/{appId}; for a GET the
// payload holds query parameters as strings). The answer is an array of
// [sequence_number, http_status_code, operation_response], in the order the
// operations ran, which is shuffled (see below).
// The docs type operation_response as a string, so each answer is the
// operation's JSON body encoded as a JSON string.
func (e *Emulator) batch(body []byte, version string) (int, any) {
	var ops []json.RawMessage
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '[' || json.Unmarshal(b, &ops) != nil {
		return badRequest("the body must be a JSON array of operations")
	}
	if len(ops) == 0 {
		return badRequest("no operations given")
	}
	if len(ops) > MaxBatchOperations {
		return badRequest("at most %d operations per batch, got %d", MaxBatchOperations, len(ops))
	}
	type op struct {
		seq     json.Number
		method  string
		path    string
		payload json.RawMessage
		version string
	}
	parsed := make([]op, len(ops))
	seen := map[string]bool{}
	for i, raw := range ops {
		var parts []json.RawMessage
		if json.Unmarshal(raw, &parts) != nil || len(parts) < 3 || len(parts) > 5 {
			return badRequest("operation %d must be [sequence_number, method, path, payload?, options?]", i)
		}
		d := json.NewDecoder(bytes.NewReader(parts[0]))
		d.UseNumber()
		var n any
		if d.Decode(&n) != nil {
			return badRequest("operation %d: sequence_number must be a number", i)
		}
		seq, ok := n.(json.Number)
		if !ok {
			return badRequest("operation %d: sequence_number must be a number", i)
		}
		if seen[seq.String()] {
			return badRequest("operation %d: sequence_number %s is used twice", i, seq)
		}
		seen[seq.String()] = true
		o := op{seq: seq, version: version}
		if json.Unmarshal(parts[1], &o.method) != nil || o.method == "" {
			return badRequest("operation %d: method must be a string", i)
		}
		o.method = strings.ToUpper(o.method)
		if json.Unmarshal(parts[2], &o.path) != nil || !strings.HasPrefix(o.path, "/") {
			return badRequest("operation %d: path must be a string starting with /", i)
		}
		if len(parts) > 3 && !isNull(parts[3]) {
			o.payload = parts[3]
		}
		if len(parts) > 4 && !isNull(parts[4]) {
			var opts map[string]string
			if json.Unmarshal(parts[4], &opts) != nil {
				return badRequest(`operation %d: options must be an object like {"api_version": "2021-02-09"}`, i)
			}
			if v, ok := opts["api_version"]; ok {
				var err error
				if o.version, err = e.restVersion(v); err != nil {
					return badRequest("operation %d: %v", i, err)
				}
			}
		}
		parsed[i] = o
	}
	// TalkJS: "The operations may execute in a different order than the one
	// specified in the request." They run here in an order drawn from the
	// seeded generator (SetSeed), and are answered in the order they ran, so
	// a client must match answers by sequence number and must not rely on
	// the order of operations with effects.
	e.mu.Lock()
	e.batchRng.Shuffle(len(parsed), func(i, j int) { parsed[i], parsed[j] = parsed[j], parsed[i] })
	e.mu.Unlock()
	out := make([][3]any, len(parsed))
	for i, o := range parsed {
		status, v := e.runOperation(o.method, o.path, o.payload, o.version)
		if v == nil {
			v = empty
		}
		b, err := json.Marshal(v)
		if err != nil {
			status, b = http.StatusInternalServerError, []byte(`{}`)
		}
		out[i] = [3]any{o.seq, status, string(b)}
	}
	e.mu.Lock()
	e.counters.BatchOperations += len(parsed)
	e.mu.Unlock()
	return http.StatusOK, out
}

func (e *Emulator) runOperation(method, path string, payload json.RawMessage, version string) (int, any) {
	u, err := url.Parse(path)
	if err != nil {
		return badRequest("path %q: %v", path, err)
	}
	segs, ok := splitPath(u)
	if !ok {
		return notFound("no such route: %s %s", method, path)
	}
	q := u.Query()
	var body []byte
	if method == http.MethodGet {
		if payload != nil {
			var params map[string]string
			if json.Unmarshal(payload, &params) != nil {
				return badRequest("a GET payload must be an object of string query parameters")
			}
			for k, v := range params {
				q.Set(k, v)
			}
		}
	} else {
		body = payload
	}
	if body != nil && !json.Valid(body) {
		return badRequest("payload is not valid JSON")
	}
	// A fault scoped to a conversation also hits the operations that name it,
	// so a test can fail part of a batch. Only its Status applies here.
	if len(segs) >= 2 && segs[0] == "conversations" {
		e.mu.Lock()
		f := e.pickStatusFaultLocked(segs[1])
		if f != nil {
			e.counters.Faults++
		}
		e.mu.Unlock()
		if f != nil {
			return f.Status, errBody("INJECTED_FAULT", fmt.Sprintf("talkjstest: injected fault %d %s", f.Status, http.StatusText(f.Status)))
		}
	}
	status, v := e.dispatch(method, segs, q, body, false, version)
	e.mu.Lock()
	if status >= 400 && status < 500 {
		e.counters.Refused++
	}
	e.mu.Unlock()
	if status == http.StatusNotFound && len(segs) == 1 && segs[0] == "batch" {
		return badRequest("a batch cannot hold a batch")
	}
	return status, v
}

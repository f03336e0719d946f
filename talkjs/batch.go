package talkjs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// MaxBatchOperations is how many operations one Batch call may carry.
const MaxBatchOperations = 10

// BatchOperation is one REST call inside a batch request.
type BatchOperation struct {
	// Method is the HTTP method: GET, PUT, PATCH, POST or DELETE.
	Method string
	// Path is below /v1/{appId}, starting with "/"; escape its segments with
	// url.PathEscape, e.g. "/users/" + url.PathEscape(id).
	Path string
	// Payload is the JSON body, or for GET a map of query parameters
	// (string keys and values). Nil sends none.
	Payload any
	// APIVersion pins the API version for this operation; empty for the default.
	APIVersion string
}

// BatchResult is TalkJS's answer to one operation.
type BatchResult struct {
	StatusCode int
	// Body is the operation's answer. TalkJS documents it as a JSON-encoded
	// string; one that holds JSON is unwrapped, so Body is that JSON either
	// way.
	Body json.RawMessage
}

// tuple encodes the operation as TalkJS expects:
// [sequence_number, method, path, payload?, options?].
func (o BatchOperation) tuple(seq int) []any {
	op := []any{seq, o.Method, o.Path}
	if o.Payload != nil || o.APIVersion != "" {
		if o.Payload == nil {
			op = append(op, struct{}{})
		} else {
			op = append(op, o.Payload)
		}
	}
	if o.APIVersion != "" {
		op = append(op, map[string]string{"api_version": o.APIVersion})
	}
	return op
}

// Batch runs 1..10 operations in one request. TalkJS may run them in any
// order; results come back in the order of ops. The batch itself succeeding
// says nothing about each operation: check each result's StatusCode (Err does).
// Batch is retried by the client only when no operation is a POST, because a
// retried POST (a message send) could post twice.
//
// TalkJS docs: https://talkjs.com/docs/Reference/REST_API/Batch/
func (c *Client) Batch(ctx context.Context, ops ...BatchOperation) ([]BatchResult, error) {
	if len(ops) == 0 || len(ops) > MaxBatchOperations {
		return nil, invalidf("%d batch operations given, want 1..%d", len(ops), MaxBatchOperations)
	}
	body := make([][]any, len(ops))
	idempotent := true
	for i, o := range ops {
		switch o.Method {
		case "GET", "PUT", "PATCH", "DELETE":
		case "POST":
			idempotent = false
		default:
			return nil, invalidf("batch operation %d: method %q is not GET, PUT, PATCH, POST or DELETE", i, o.Method)
		}
		if !strings.HasPrefix(o.Path, "/") {
			return nil, invalidf("batch operation %d: path %q does not start with /", i, o.Path)
		}
		body[i] = o.tuple(i + 1)
	}
	var raw []json.RawMessage
	if err := c.do(ctx, call{method: "POST", path: "/batch", body: body, out: &raw, idempotent: idempotent}); err != nil {
		return nil, err
	}
	results := make([]BatchResult, len(ops))
	seen := make([]bool, len(ops))
	for _, r := range raw {
		var tuple []json.RawMessage
		if err := json.Unmarshal(r, &tuple); err != nil || len(tuple) < 2 {
			return nil, fmt.Errorf("talkjs: POST %s/batch: answer item %s is not [seq, status, response]", c.pathPrefix, truncate(string(r), 100))
		}
		var seq, status int
		if json.Unmarshal(tuple[0], &seq) != nil || json.Unmarshal(tuple[1], &status) != nil || seq < 1 || seq > len(ops) {
			return nil, fmt.Errorf("talkjs: POST %s/batch: answer item %s has a bad sequence number or status", c.pathPrefix, truncate(string(r), 100))
		}
		results[seq-1] = BatchResult{StatusCode: status}
		if len(tuple) > 2 {
			results[seq-1].Body = batchBody(tuple[2])
		}
		seen[seq-1] = true
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("talkjs: POST %s/batch: no answer for operation %d", c.pathPrefix, i)
		}
	}
	return results, nil
}

// batchBody unwraps an answer sent as a string of JSON; anything else (an
// object, or a string that is not JSON) is kept as it came.
func batchBody(b json.RawMessage) json.RawMessage {
	var s string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil || !json.Valid([]byte(s)) {
		return b
	}
	return json.RawMessage(s)
}

// Err returns nil for a 2xx result and otherwise an *APIError describing it.
// method and path should be those of the operation.
func (r BatchResult) Err(op BatchOperation) error {
	if r.StatusCode >= 200 && r.StatusCode < 300 {
		return nil
	}
	return &APIError{StatusCode: r.StatusCode, Method: op.Method, Path: op.Path, Body: truncate(string(r.Body), DefaultMaxErrorBody)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

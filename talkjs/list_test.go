package talkjs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// pagingServer serves n users newest first, paging with limit and
// startingAfter the way TalkJS does.
func pagingServer(t *testing.T, n int) (*httptest.Server, *recorder) {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%04d", n-i) // newest first
	}
	return newServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		q := r.URL.Query()
		limit := 10
		if v := q.Get("limit"); v != "" {
			limit, _ = strconv.Atoi(v)
		}
		if limit < 1 || limit > 100 {
			answer(w, 400, `{"error":"limit"}`)
			return
		}
		start := 0
		if after := q.Get("startingAfter"); after != "" {
			start = -1
			for i, id := range ids {
				if id == after {
					start = i + 1
				}
			}
			if start < 0 {
				answer(w, 400, `{"error":"startingAfter"}`)
				return
			}
		}
		end := min(start+limit, len(ids))
		data := []User{}
		for _, id := range ids[start:end] {
			data = append(data, User{ID: id, Name: "n" + id})
		}
		b, _ := json.Marshal(map[string]any{"data": data})
		answer(w, 200, string(b))
	})
}

func TestListPagesToTheEnd(t *testing.T) {
	tests := []struct {
		name      string
		total     int
		opts      ListOptions
		wantItems int
		wantReqs  int
	}{
		{name: "250 in pages of 100", total: 250, opts: ListOptions{Limit: 100}, wantItems: 250, wantReqs: 3},
		{name: "exact multiple needs an empty last page", total: 200, opts: ListOptions{Limit: 100}, wantItems: 200, wantReqs: 3},
		{name: "default page size", total: 25, wantItems: 25, wantReqs: 3},
		{name: "empty listing", total: 0, opts: ListOptions{Limit: 5}, wantItems: 0, wantReqs: 1},
		{name: "starting after a cursor", total: 30, opts: ListOptions{Limit: 100, StartingAfter: "u0011"}, wantItems: 10, wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := pagingServer(t, tt.total)
			c := newTestClient(t, srv)
			seen := map[string]bool{}
			prev := ""
			for u, err := range c.ListUsers(t.Context(), tt.opts) {
				if err != nil {
					t.Fatal(err)
				}
				if seen[u.ID] {
					t.Fatalf("user %s listed twice", u.ID)
				}
				if prev != "" && u.ID > prev {
					t.Fatalf("%s after %s: not newest first", u.ID, prev)
				}
				seen[u.ID], prev = true, u.ID
			}
			if len(seen) != tt.wantItems {
				t.Errorf("%d items, want %d", len(seen), tt.wantItems)
			}
			if got := rec.count(); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
		})
	}
}

func TestListStopsWhenTheLoopBreaks(t *testing.T) {
	srv, rec := pagingServer(t, 500)
	n := 0
	for _, err := range newTestClient(t, srv).ListUsers(t.Context(), ListOptions{Limit: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 150 {
			break
		}
	}
	if got := rec.count(); got != 2 {
		t.Errorf("%d requests after stopping at item 150, want 2", got)
	}
}

func TestListLimitIsValidatedBeforeAnyRequest(t *testing.T) {
	tests := []struct {
		name  string
		limit int
	}{
		{name: "negative", limit: -1},
		{name: "above 100", limit: 101},
		{name: "far above", limit: 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := pagingServer(t, 5)
			c := newTestClient(t, srv)
			calls := map[string]func() error{
				"users": func() error { return firstErr(c.ListUsers(t.Context(), ListOptions{Limit: tt.limit})) },
				"conversations": func() error {
					return firstErr(c.ListConversations(t.Context(), ListOptions{Limit: tt.limit}))
				},
				"user conversations": func() error {
					return firstErr(c.ListUserConversations(t.Context(), "u1", UserConversationsOptions{Limit: tt.limit}))
				},
				"messages": func() error { return firstErr(c.ListMessages(t.Context(), "c1", ListOptions{Limit: tt.limit})) },
			}
			for name, call := range calls {
				if err := call(); !errors.Is(err, ErrInvalidRequest) || Retryable(err) {
					t.Errorf("%s: err = %v, want a permanent ErrInvalidRequest", name, err)
				}
			}
			if got := rec.count(); got != 0 {
				t.Errorf("%d requests made, want none", got)
			}
		})
	}
}

func TestListYieldsErrors(t *testing.T) {
	srv, rec := statusServer(t, 400)
	var errs int
	for _, err := range newTestClient(t, srv).ListConversations(t.Context(), ListOptions{}) {
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
			t.Errorf("err = %v, want the 400", err)
		}
		errs++
	}
	if errs != 1 || rec.count() != 1 {
		t.Errorf("%d errors yielded after %d requests, want 1 and 1", errs, rec.count())
	}
}

// firstErr returns the first error a listing yields, or nil.
func firstErr[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestOrderOptionsAreChecked(t *testing.T) {
	srv, rec := okServer(t, `{"data":[]}`)
	c := newTestClient(t, srv)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
	}{
		{"unknown orderBy", func() error { return firstErr(c.ListConversations(ctx, ListOptions{OrderBy: "lastActivity"})) }},
		{"unknown direction", func() error { return firstErr(c.ListConversations(ctx, ListOptions{OrderDirection: "up"})) }},
		{"negative offsetTs", func() error { return firstErr(c.ListConversations(ctx, ListOptions{OffsetTs: -1})) }},
		{"order on users", func() error { return firstErr(c.ListUsers(ctx, ListOptions{OrderBy: OrderByCreatedAt})) }},
		{"order on messages", func() error { return firstErr(c.ListMessages(ctx, "c1", ListOptions{OrderDirection: Ascending})) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("err = %v, want ErrInvalidRequest", err)
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

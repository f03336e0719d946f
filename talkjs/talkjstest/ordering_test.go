package talkjstest

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// listIDs lists /conversations with query q and the given version header
// ("" for none), and returns the ids in order.
func (f fixture) listIDs(t *testing.T, q url.Values, version string) []string {
	t.Helper()
	var opts []reqOpt
	if version != "" {
		opts = append(opts, withHeader("TalkJS-REST-Version", version))
	}
	status, body := f.call(t, "GET", "/conversations?"+q.Encode(), nil, opts...)
	if status != http.StatusOK {
		t.Fatalf("list %v: status %d, body %s", q, status, body)
	}
	got := decode[struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}](t, body)
	ids := make([]string, 0, len(got.Data))
	for _, c := range got.Data {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestConversationOrdering(t *testing.T) {
	f := newFixture(t)
	now := time.Now().Add(time.Hour)
	f.emu.SetClock(func() time.Time { return now })
	// Created in the order order-1 (by the fixture), a, b, c, one ms apart.
	for _, id := range []string{"a", "b", "c"} {
		now = now.Add(time.Millisecond)
		f.mustOK(t, "PUT", "/conversations/"+id, map[string]any{"participants": []string{"alice"}})
	}
	// A message moves "a" to the top of the activity order.
	now = now.Add(time.Millisecond)
	f.mustOK(t, "POST", "/conversations/a/messages", []map[string]any{{"type": "SystemMessage", "text": "x"}})
	now = now.Add(time.Millisecond)
	msgID := decode[[]struct {
		ID string `json:"id"`
	}](t, f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "SystemMessage", "text": "y"}}))[0].ID
	order1Ms := strconv.FormatInt(now.UnixMilli(), 10)
	// Editing with PUT works as in TalkJS's examples.
	now = now.Add(time.Millisecond)
	f.mustOK(t, "PUT", "/conversations/order-1/messages/"+msgID, map[string]any{"text": "edited"})

	tests := []struct {
		name    string
		query   url.Values
		version string
		want    []string
	}{
		{"default is last activity, latest first", nil, "", []string{"order-1", "a", "c", "b"}},
		{"lastMessageTs DESC", url.Values{"orderBy": {"lastMessageTs"}, "orderDirection": {"DESC"}}, "", []string{"order-1", "a", "c", "b"}},
		{"lastMessageTs asc", url.Values{"orderBy": {"lastMessageTs"}, "orderDirection": {"asc"}}, "", []string{"b", "c", "a", "order-1"}},
		{"createdAt", url.Values{"orderBy": {"createdAt"}}, "", []string{"c", "b", "a", "order-1"}},
		{"createdAt ASC", url.Values{"orderBy": {"createdAt"}, "orderDirection": {"ASC"}}, "", []string{"order-1", "a", "b", "c"}},
		{"paging follows the order", url.Values{"startingAfter": {"a"}, "limit": {"1"}}, "", []string{"c"}},
		{"offsetTs", url.Values{"offsetTs": {order1Ms}}, "", []string{"a", "c", "b"}},
		{"pinned to 2021-02-09", nil, VersionOrdering, []string{"order-1", "a", "c", "b"}},
		{"before 2021-02-09: createdAt DESC", nil, VersionFirst, []string{"c", "b", "a", "order-1"}},
		{"before 2021-02-09: order cannot be changed", url.Values{"orderBy": {"lastMessageTs"}, "orderDirection": {"ASC"}}, VersionFirst, []string{"c", "b", "a", "order-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.listIDs(t, tc.query, tc.version); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("app default version", func(t *testing.T) {
		f.emu.SetDefaultRESTVersion(VersionFirst)
		t.Cleanup(func() { f.emu.SetDefaultRESTVersion(VersionLatest) })
		if got, want := f.listIDs(t, nil, ""), []string{"c", "b", "a", "order-1"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	bad := []struct {
		name    string
		query   url.Values
		version string
	}{
		{"unknown orderBy", url.Values{"orderBy": {"lastActivity"}}, ""},
		{"unknown direction", url.Values{"orderDirection": {"up"}}, ""},
		{"offsetTs not a number", url.Values{"offsetTs": {"soon"}}, ""},
		{"version not a date", nil, "latest"},
		{"version before the first", nil, "2020-12-31"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOpt
			if tc.version != "" {
				opts = append(opts, withHeader("TalkJS-REST-Version", tc.version))
			}
			if status, body := f.call(t, "GET", "/conversations?"+tc.query.Encode(), nil, opts...); status != http.StatusBadRequest {
				t.Errorf("status %d, want 400; body %s", status, body)
			}
		})
	}
}

func TestBatchOperationVersion(t *testing.T) {
	f := newFixture(t)
	f.mustOK(t, "PUT", "/conversations/newer", map[string]any{"participants": []string{"alice"}})
	f.mustOK(t, "POST", "/conversations/order-1/messages", []map[string]any{{"type": "SystemMessage", "text": "x"}})
	got := decode[[][3]any](t, f.mustOK(t, "POST", "/batch", []any{
		[]any{1, "GET", "/conversations"},
		[]any{2, "GET", "/conversations", nil, map[string]string{"api_version": VersionFirst}},
	}))
	first := map[float64]string{}
	for _, op := range got {
		page := decode[struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}](t, []byte(op[2].(string)))
		first[op[0].(float64)] = page.Data[0].ID
	}
	if first[1] != "order-1" || first[2] != "newer" {
		t.Errorf("first conversation by operation: %v, want 1: order-1 (activity), 2: newer (created, old version)", first)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	// A rate so slow that no token comes back during the test: exactly the
	// burst gets through.
	f.emu.SetRateLimit(0.01, 3)
	var statuses []int
	var retryAfter string
	for range 5 {
		status, _, h := f.rawCall(t, "GET", "/v1/"+testApp+"/conversations", nil)
		statuses = append(statuses, status)
		if status == http.StatusTooManyRequests {
			retryAfter = h.Get("Retry-After")
		}
	}
	if want := []int{200, 200, 200, 429, 429}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	// The next token is 100 s away; Retry-After is whole seconds, rounded up.
	if secs, err := strconv.Atoi(retryAfter); err != nil || secs < 99 || secs > 100 {
		t.Errorf("Retry-After %q, want about 100", retryAfter)
	}
	if c := f.emu.Counts(); c.RateLimited != 2 || c.Refused != 0 {
		t.Errorf("counters %+v, want RateLimited 2 and Refused 0", c)
	}

	t.Run("shared by every client", func(t *testing.T) {
		other := fixture{srv: f.srv, emu: f.emu}
		if status, _ := other.call(t, "GET", "/users/alice", nil, withHeader("User-Agent", "another-client/1")); status != http.StatusTooManyRequests {
			t.Errorf("another client got %d, want 429", status)
		}
	})
	t.Run("queue waits instead of refusing", func(t *testing.T) {
		f.emu.SetRateLimit(50, 1)
		f.emu.SetRateLimitQueue(1)
		t.Cleanup(func() { f.emu.SetRateLimitQueue(0) })
		f.mustOK(t, "GET", "/users/alice", nil) // takes the one token
		start := time.Now()
		f.mustOK(t, "GET", "/users/alice", nil) // waits ~20ms for the next
		if waited := time.Since(start); waited < 10*time.Millisecond {
			t.Errorf("a queued request answered after %v, before the next token", waited)
		}
	})
	t.Run("off", func(t *testing.T) {
		f.emu.SetRateLimit(0, 0)
		for range 10 {
			f.mustOK(t, "GET", "/users/alice", nil)
		}
	})
}

func TestUnknownUserConversationsByVersion(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		version string
		want    int
	}{
		{"", http.StatusNotFound},
		{VersionUnknownUser404, http.StatusNotFound},
		{"2021-07-30", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run("version "+tc.version, func(t *testing.T) {
			var opts []reqOpt
			if tc.version != "" {
				opts = append(opts, withHeader("TalkJS-REST-Version", tc.version))
			}
			if status, body := f.call(t, "GET", "/users/nobody/conversations", nil, opts...); status != tc.want {
				t.Errorf("status %d, want %d; body %s", status, tc.want, body)
			}
		})
	}
}

package talkjstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
)

// object decodes a JSON object into its raw fields. Fields not in allowed
// are dropped and counted (Counters.IgnoredFields), as TalkJS is assumed to
// ignore them (its own anonymisation example sends "id" in user and
// conversation bodies); with SetStrictFields(true) they are refused, so a
// test can catch a misspelt field.
func (e *Emulator) object(raw []byte, what string, allowed ...string) (map[string]json.RawMessage, error) {
	m, err := object(raw, what, allowed...)
	if err == nil || !errors.Is(err, errUnknownField) || e.strictFields.Load() {
		return m, err
	}
	m, _ = object(raw, what)
	for k := range m {
		if !slices.Contains(allowed, k) {
			delete(m, k)
			e.ignoredFields.Add(1)
		}
	}
	return m, nil
}

var errUnknownField = errors.New("unknown field")

// object decodes a JSON object into its raw fields and refuses fields not in
// allowed (none given: any field).
func object(raw []byte, what string, allowed ...string) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("%s must be a JSON object", what)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	if allowed == nil {
		return m, nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("%s: %w %q", what, errUnknownField, k)
		}
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// stringField decodes a JSON string; null gives "" with null=true.
func stringField(raw json.RawMessage, name string) (s string, null bool, err error) {
	if isNull(raw) {
		return "", true, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("%s must be a string", name)
	}
	return s, false, nil
}

// stringsField decodes a JSON array of strings, or null.
func stringsField(raw json.RawMessage, name string) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var ss []string
	if err := json.Unmarshal(raw, &ss); err != nil {
		return nil, fmt.Errorf("%s must be an array of strings", name)
	}
	return ss, nil
}

// customField decodes a custom object: every value must be a string. With
// nullDeletes, a null value means "remove this key" and is returned in dels.
func customField(raw json.RawMessage, name string, nullDeletes bool) (set map[string]string, dels []string, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || bytes.TrimSpace(raw)[0] != '{' {
		return nil, nil, fmt.Errorf("%s must be an object of strings", name)
	}
	set = map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		if nullDeletes && isNull(v) {
			dels = append(dels, k)
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil || isNull(v) {
			return nil, nil, fmt.Errorf("%s.%s must be a string, got %s", name, k, shorten(v))
		}
		set[k] = s
	}
	return set, dels, nil
}

func shorten(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// listPage is the body of every listing.
type listPage[T any] struct {
	Data []T `json:"data"`
}

// page cuts one page out of items, which are ordered newest first, following
// TalkJS's listing rules: limit 1..100 (default 10) and startingAfter, the id of
// the last item of the previous page.
func page[T any](items []T, id func(T) string, q url.Values) ([]T, error) {
	limit := 10
	if s := q.Get("limit"); s != "" || q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("limit must be a whole number from 1 to 100, got %q", s)
		}
		if n < 1 || n > 100 {
			return nil, fmt.Errorf("limit must be from 1 to 100, got %d", n)
		}
		limit = n
	}
	if q.Has("startingAfter") {
		after := q.Get("startingAfter")
		i := slices.IndexFunc(items, func(t T) bool { return id(t) == after })
		if i < 0 {
			// The docs do not say what an unknown cursor gives; refusing it
			// makes a client bug visible instead of restarting the listing.
			return nil, fmt.Errorf("startingAfter: no item with id %q", after)
		}
		items = items[i+1:]
	}
	if len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

// msParam reads an optional millisecond timestamp query parameter.
func msParam(q url.Values, name string) (int64, bool, error) {
	if !q.Has(name) {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s must be a Unix timestamp in milliseconds, got %q", name, q.Get(name))
	}
	return n, true, nil
}

// mergeCustom applies a custom object to old: keys given are set, keys given
// as null are removed, others are kept. TalkJS documents custom as acting "as
// a patch" with null removing a property for its SDKs; that the REST API
// merges the same way is assumed.
func mergeCustom(old map[string]string, raw json.RawMessage, name string) (map[string]string, error) {
	set, dels, err := customField(raw, name, true)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(old)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, set)
	for _, k := range dels {
		delete(out, k)
	}
	return out, nil
}

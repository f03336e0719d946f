package talkjs

import (
	"context"
	"iter"
	"net/url"
	"strconv"
)

// DefaultPageSize is the page size TalkJS uses when no limit is given.
const DefaultPageSize = 10

// MaxPageSize is the largest page TalkJS serves.
const MaxPageSize = 100

// ListOptions controls paging of a listing. Listings are newest first.
type ListOptions struct {
	// Limit is the page size, 1..100; 0 means DefaultPageSize. It does not
	// bound the total: the iterator pages until the end.
	Limit int
	// StartingAfter is an id: the listing starts after that item.
	StartingAfter string
}

func (o ListOptions) pageSize() (int, error) {
	switch {
	case o.Limit == 0:
		return DefaultPageSize, nil
	case o.Limit < 1 || o.Limit > MaxPageSize:
		return 0, invalidf("limit %d is outside 1..%d", o.Limit, MaxPageSize)
	}
	return o.Limit, nil
}

type page[T any] struct {
	Data []T `json:"data"`
}

// list pages through a listing endpoint with startingAfter, yielding items
// until a page is shorter than the page size. An invalid limit is yielded as
// an error before any request. Listing is read-only, so pages are retried.
func list[T any](ctx context.Context, c *Client, path string, query url.Values, opts ListOptions, id func(T) string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		size, err := opts.pageSize()
		if err != nil {
			yield(zero, err)
			return
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(size))
		cursor := opts.StartingAfter
		for {
			if cursor != "" {
				q.Set("startingAfter", cursor)
			}
			var p page[T]
			if err := c.do(ctx, call{method: "GET", path: path, query: q, out: &p, idempotent: true}); err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			if len(p.Data) < size {
				return
			}
			next := id(p.Data[len(p.Data)-1])
			if next == "" || next == cursor {
				return // a cursor that does not move would loop forever
			}
			cursor = next
		}
	}
}

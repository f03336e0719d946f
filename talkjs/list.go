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

// ListOptions controls paging of a listing. Users and messages are listed
// newest first; conversations by OrderBy and OrderDirection.
type ListOptions struct {
	// Limit is the page size, 1..100; 0 means DefaultPageSize. It does not
	// bound the total: the iterator pages until the end.
	Limit int
	// StartingAfter is an id: the listing starts after that item.
	StartingAfter string
	// OrderBy sorts a conversation listing. "" means OrderByCreatedAt, which
	// the client then asks for explicitly, and not TalkJS's default
	// (OrderByLastActivity from REST API version 2021-02-09 on): the
	// iterators page with startingAfter, and under last-activity order any
	// message sent while they page (by the caller or by anyone chatting)
	// moves a conversation to the top, so a walk can skip or repeat
	// conversations. Creation order does not move. Ask for
	// OrderByLastActivity for an inbox-like view of a first page. Only
	// conversation listings accept it; other listings refuse it with
	// ErrInvalidRequest.
	OrderBy OrderBy
	// OrderDirection is Descending (latest first, TalkJS's default) or
	// Ascending; "" leaves the default. Only conversation listings accept it.
	OrderDirection OrderDirection
	// OffsetTs, when not 0, lists only conversations whose ordering time
	// (Unix milliseconds) lies past it in the listing's direction: before it
	// when descending. Only conversation listings accept it.
	OffsetTs int64
}

// OrderBy is what a conversation listing is sorted by. TalkJS documents that
// conversations sort "by creation date or by the last activity"; the exact
// parameter values are an assumption (the docs we read cut off before them),
// kept in one place here so a correction is one line.
type OrderBy string

// The sort keys of a conversation listing.
const (
	OrderByCreatedAt    OrderBy = "createdAt"
	OrderByLastActivity OrderBy = "lastMessageTs"
)

// OrderDirection is the direction of a conversation listing.
type OrderDirection string

// The directions of a conversation listing.
const (
	Descending OrderDirection = "DESC"
	Ascending  OrderDirection = "ASC"
)

// orderQuery adds the ordering parameters to q for a conversation listing.
func (o ListOptions) orderQuery(q url.Values) error {
	switch o.OrderBy {
	case "", OrderByCreatedAt, OrderByLastActivity:
	default:
		return invalidf("orderBy %q is not %q or %q", o.OrderBy, OrderByCreatedAt, OrderByLastActivity)
	}
	switch o.OrderDirection {
	case "", Descending, Ascending:
	default:
		return invalidf("orderDirection %q is not %q or %q", o.OrderDirection, Descending, Ascending)
	}
	if o.OffsetTs < 0 {
		return invalidf("offsetTs %d is negative", o.OffsetTs)
	}
	by := o.OrderBy
	if by == "" {
		by = OrderByCreatedAt
	}
	q.Set("orderBy", string(by))
	if o.OrderDirection != "" {
		q.Set("orderDirection", string(o.OrderDirection))
	}
	if o.OffsetTs != 0 {
		q.Set("offsetTs", strconv.FormatInt(o.OffsetTs, 10))
	}
	return nil
}

// unordered refuses ordering options on a listing that has none.
func (o ListOptions) unordered() error {
	if o.OrderBy != "" || o.OrderDirection != "" || o.OffsetTs != 0 {
		return invalidf("only conversation listings take orderBy, orderDirection and offsetTs")
	}
	return nil
}

// listErr is a listing that yields only err.
func listErr[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
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

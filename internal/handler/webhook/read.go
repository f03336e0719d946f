package webhook

import (
	"errors"
	"io"
	"net/http"
)

var errTooLarge = errors.New("body too large")

func readLimited(r *http.Request, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

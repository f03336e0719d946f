// Package strictjson decodes JSON the way the bridge's inbound commands and
// schedule inputs are read: one object, no unknown fields, nothing after it.
// An unknown field is far more often a typo ("converstionId") than an
// intention, and a typo must not send a message somewhere unexpected.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// ErrTrailingData is returned when the JSON value is followed by more data.
var ErrTrailingData = errors.New("data after the JSON value")

// Decode decodes data into v, refusing unknown fields and trailing data. Its
// errors are encoding/json's, or ErrTrailingData; callers wrap them in their
// own sentinel. It is pure and safe to call again.
func Decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrTrailingData
	}
	return nil
}

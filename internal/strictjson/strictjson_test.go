package strictjson

import (
	"errors"
	"testing"
)

func TestDecode(t *testing.T) {
	type in struct {
		A string `json:"a"`
	}
	for _, tc := range []struct {
		name    string
		data    string
		want    string
		wantErr error // nil: no error; errAny: some error
	}{
		{name: "one object", data: `{"a":"x"}`, want: "x"},
		{name: "whitespace after", data: "{\"a\":\"x\"}\n\t ", want: "x"},
		{name: "unknown field", data: `{"a":"x","b":1}`, wantErr: errAny},
		{name: "two objects", data: `{"a":"x"}{"a":"y"}`, wantErr: ErrTrailingData},
		{name: "garbage after", data: `{"a":"x"} ]`, wantErr: ErrTrailingData},
		{name: "not an object", data: `"a"`, wantErr: errAny},
		{name: "empty", data: ``, wantErr: errAny},
		{name: "wrong type", data: `{"a":1}`, wantErr: errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got in
			err := Decode([]byte(tc.data), &got)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Decode: %v", err)
			case tc.wantErr == nil && got.A != tc.want:
				t.Fatalf("a = %q, want %q", got.A, tc.want)
			case tc.wantErr == errAny && err == nil:
				t.Fatal("Decode accepted it")
			case tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("Decode: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

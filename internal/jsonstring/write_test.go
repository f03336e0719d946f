package jsonstring

import (
	"encoding/json"
	"testing"
)

func checkString(t testing.TB, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
		t.Fatalf("AppendString(%q) = %s, encoding/json %s", s, got[1:], want)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	tests := []struct{ name, s string }{
		{"empty", ""},
		{"plain", "github-o-r"},
		{"quotes and backslashes", `a"b\c`},
		{"short escapes", "\b\f\n\r\t"},
		{"other controls", "\x00\x01\x1f\x7f"},
		{"HTML", "<a href='x'>&amp;</a>"},
		{"line separators", "a\u2028b\u2029c"},
		{"multi-byte", "é € 👩‍💻"},
		{"invalid UTF-8", "a\xffb\xc3"},
		{"surrogate half as UTF-8", "\xed\xa0\x80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkString(t, tt.s) })
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"<>&\u2028\xff\x00é")
	f.Fuzz(func(t *testing.T, s string) { checkString(t, s) })
}

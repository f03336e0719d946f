package jsonstring

import (
	"encoding/json"
	"testing"
)

// checkRead holds Read to encoding/json: where Read says ok, encoding/json
// decodes the same string to the same bytes and ends it at the same place.
func checkRead(t testing.TB, in string) (string, bool) {
	t.Helper()
	b := []byte(" " + in + ",")
	s, next, ok := Read(b, 1)
	if !ok {
		return "", false
	}
	var want string
	if err := json.Unmarshal(b[1:next], &want); err != nil {
		t.Fatalf("Read(%q) = %q, but encoding/json refuses %q: %v", in, s, b[1:next], err)
	}
	if string(s) != want {
		t.Fatalf("Read(%q) = %q, encoding/json %q", in, s, want)
	}
	return string(s), true
}

func TestRead(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		ok       bool
	}{
		{"plain", `"github-o-r"`, "github-o-r", true},
		{"empty", `""`, "", true},
		{"multi-byte", `"é € 👩‍💻"`, "é € 👩‍💻", true},
		{"short escapes", `"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t", true},
		{"unicode escape", `"caf\u00e9 \u20AC"`, "café €", true},
		{"text after an escape", `"\n` + "long run of text é" + `"`, "\nlong run of text é", true},
		{"surrogate pair left to encoding/json", `"\ud83d\ude00"`, "", false},
		{"lone surrogate left to encoding/json", `"\udc00"`, "", false},
		{"invalid UTF-8 left to encoding/json", "\"a\xffb\"", "", false},
		{"invalid UTF-8 after an escape", "\"\\n\xff\"", "", false},
		{"control character", "\"a\x01\"", "", false},
		{"unknown escape", `"\x41"`, "", false},
		{"short unicode escape", `"\u12"`, "", false},
		{"bad hex", `"\u12g4"`, "", false},
		{"unterminated", `"abc`, "", false},
		{"unterminated escape", `"abc\`, "", false},
		{"not a string", `abc`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := checkRead(t, tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Read(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestReadOutOfRange(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		i    int
	}{
		{"nil", nil, 0},
		{"negative index", []byte(`"a"`), -1},
		{"index at the end", []byte(`"a"`), 3},
		{"index past the end", []byte(`"a"`), 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, ok := Read(tt.b, tt.i); ok {
				t.Errorf("Read(%q, %d): ok", tt.b, tt.i)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range []string{`"a\u00e9\n"`, "\"\xff\"", `"\ud83d\ude00"`, `"abc`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) { checkRead(t, in) })
}

package webhook

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// checkEventDecode decodes raw with decodeEventFast and with encoding/json:
// where the fast decoder answers it gives what encoding/json gives, and it
// never answers where encoding/json fails. It reports whether it answered.
func checkEventDecode(t testing.TB, raw []byte) bool {
	t.Helper()
	var got, want gatewayEvent
	ok := decodeEventFast(raw, &got)
	if err := json.Unmarshal(raw, &want); err != nil {
		if ok {
			t.Fatalf("%q: encoding/json fails (%v), the fast decoder gave %+v", raw, err, got)
		}
		return false
	}
	if ok && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nfast decoder   %+v\nencoding/json  %+v", raw, got, want)
	}
	return ok
}

func TestDecodeEventFastMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		fast bool
	}{
		{"REST API", `{"resource":"/webhooks/{route}","path":"/webhooks/github","httpMethod":"POST","headers":{"A":"1"},"multiValueHeaders":{"A":["1","2"],"B":[]},` +
			`"queryStringParameters":null,"multiValueQueryStringParameters":{"q":["x"]},"pathParameters":{"route":"github"},"stageVariables":null,` +
			`"requestContext":{"accountId":"1","stage":"prod","path":"/prod/webhooks/github","domainName":"x.example","identity":{"sourceIp":"1.2.3.4","n":[1,2.5e3,-0,true,false,null]}},` +
			`"body":"{\"a\":\"\\u00e9 \\\" \\n\"}","isBase64Encoded":false}`, true},
		{"HTTP API", `{"version":"2.0","routeKey":"POST /webhooks/{route}","rawPath":"/webhooks/x","rawQueryString":"a=1&b=2","cookies":["c=1"],"headers":{"x":"y"},` +
			`"requestContext":{"http":{"method":"POST","path":"/webhooks/x","sourceIp":"1.2.3.4"},"domainName":"d","stage":"$default","timeEpoch":1700000000000},"body":"e30=","isBase64Encoded":true}`, true},
		{"escapes", `{"body":"\u00e9\u20ac\/\b\f\r\t","path":"a\"b"}`, true},
		{"nulls", `{"version":null,"headers":null,"multiValueHeaders":null,"requestContext":null,"isBase64Encoded":null,"body":null}`, true},
		{"http null", `{"requestContext":{"http":null}}`, true},
		{"whitespace", " \n{ \"path\" : \"/webhooks/x\" ,\t\"httpMethod\":\"POST\" }\r\n", true},
		{"empty object", `{}`, true},
		{"other letter case", `{"Path":"/webhooks/x"}`, false},
		{"all capitals, long", `{"MULTIVALUEQUERYSTRINGPARAMETERS":null}`, false},
		{"unknown keys", `{"unknown":1,"resource":"/x","aVeryLongUnknownKeyOfMoreThan32Bytes":[]}`, true},
		{"long s, which folds to s", "{\"requestContext\":{\"\u017ftage\":\"p\"}}", false},
		{"other letter case inside", `{"requestContext":{"DomainName":"d"}}`, false},
		{"method in another case", `{"requestContext":{"http":{"METHOD":"POST"}}}`, false},
		{"duplicate field", `{"path":"a","path":"b"}`, false},
		{"duplicate method", `{"requestContext":{"http":{"method":"A","method":"B"}}}`, false},
		{"duplicate header", `{"headers":{"a":"1","a":"2"}}`, true},
		{"null header value", `{"headers":{"a":null}}`, false},
		{"number for a string", `{"path":1}`, false},
		{"string for a bool", `{"isBase64Encoded":"true"}`, false},
		{"surrogate pair", `{"body":"\ud83d\ude00"}`, false},
		{"invalid utf-8", "{\"body\":\"\xff\"}", false},
		{"invalid utf-8 skipped", "{\"x\":\"\xff\"}", false},
		{"trailing data", `{} x`, false},
		{"not an object", `[1]`, false},
		{"null", `null`, false},
		{"bad number skipped", `{"x":01}`, false},
		{"deep skipped", `{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
		{"truncated", `{"path":"a"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkEventDecode(t, []byte(tt.raw)); got != tt.fast {
				t.Errorf("fast decoder answered %v, want %v", got, tt.fast)
			}
		})
	}
}

// TestDecodeEventFastSamples: every sample webhook event in events/ decodes
// the same both ways, through the fast decoder.
func TestDecodeEventFastSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "events", "webhook-*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d sample events (%v)", len(files), err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !checkEventDecode(t, raw) {
			t.Errorf("%s: the fast decoder did not answer", filepath.Base(f))
		}
	}
}

// FuzzDecodeEventFast: on any input the fast decoder agrees with
// encoding/json or leaves the input to it.
func FuzzDecodeEventFast(f *testing.F) {
	f.Add([]byte(`{"httpMethod":"POST","path":"/webhooks/github","headers":{"A":"1"},"multiValueHeaders":{"A":["1"]},"requestContext":{"stage":"p","x":[1,{"y":null}]},"body":"{\"a\":1}"}`))
	f.Add([]byte(`{"version":"2.0","rawPath":"/webhooks/x","requestContext":{"http":{"method":"POST"}},"isBase64Encoded":true}`))
	f.Add([]byte(`{"PATH":"x","path":"y"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkEventDecode(t, raw)
	})
}

// TestHeaderAdderMatchesAdd: headerAdder builds the Header that Header.Add
// builds, with repeated keys, keys in other letter cases and more values
// than it was sized for.
func TestHeaderAdderMatchesAdd(t *testing.T) {
	pairs := [][2]string{{"x-github-event", "issues"}, {"X-GitHub-Event", "push"}, {"Content-Type", "a"},
		{"X-A", "1"}, {"x-b", "2"}, {"X-A", "3"}, {"x-a", "4"}, {"weird key", "5"}, {"X-C", "6"}}
	for _, size := range []int{0, 3, len(pairs), 20} {
		want := http.Header{}
		ha := newHeaderAdder(size)
		for _, p := range pairs {
			want.Add(p[0], p[1])
			ha.add(p[0], p[1])
		}
		if !reflect.DeepEqual(ha.h, want) {
			t.Errorf("size %d: headerAdder built %v, Header.Add %v", size, ha.h, want)
		}
	}
}

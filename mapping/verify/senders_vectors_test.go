package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The senders' published vectors, copied into testdata/senders with their
// sources (testdata/senders/SOURCES.md). Every vectors.json there must be
// read by one of the tests below: a new sender's file without a test, or a
// missing file, fails.

const senders = "../../testdata/senders"

// vectorFiles are the senders whose vectors.json these tests read.
var vectorFiles = []string{"circleci", "paddle", "pagerduty", "slack", "twilio"}

func TestEveryVectorFileIsTested(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(senders, "*", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range files {
		found = append(found, filepath.Base(filepath.Dir(f)))
	}
	slices.Sort(found)
	if !slices.Equal(found, vectorFiles) {
		t.Fatalf("vector files %v, tests read %v: add a test (or restore the file)", found, vectorFiles)
	}
}

func readVectors(t *testing.T, sender string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(senders, sender, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("%s/vectors.json: %v", sender, err)
	}
}

// headerLine splits "Name: value" as the vector files write headers.
func headerLine(t *testing.T, line string) http.Header {
	t.Helper()
	name, value, ok := strings.Cut(line, ": ")
	if !ok {
		t.Fatalf("vector header %q is not Name: value", line)
	}
	h := http.Header{}
	h.Set(name, value)
	return h
}

func verifier(t *testing.T, preset string, now time.Time, secrets ...string) *Verifier {
	t.Helper()
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		keys[i] = []byte(s)
	}
	v, err := New(Config{Preset: preset}, keys)
	if err != nil {
		t.Fatalf("New(%s): %v", preset, err)
	}
	v.Now = func() time.Time { return now }
	return v
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func TestCircleCIVectors(t *testing.T) {
	var f struct {
		Vectors []struct {
			Body, Secret, Header string
			ExpectedHex          string `json:"expected_hex"`
		}
	}
	readVectors(t, "circleci", &f)
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, vec := range f.Vectors {
		t.Run(vec.Body, func(t *testing.T) {
			h := headerLine(t, vec.Header)
			body := []byte(vec.Body)
			wantErr(t, "published", verifier(t, PresetCircleCI, testNow, vec.Secret).Verify(h, body), nil)
			wantErr(t, "rotation", verifier(t, PresetCircleCI, testNow, "older-secret", vec.Secret).Verify(h, body), nil)
			wantErr(t, "tampered", verifier(t, PresetCircleCI, testNow, vec.Secret).Verify(h, append(body, '.')), ErrSignatureMismatch)
			wantErr(t, "other secret", verifier(t, PresetCircleCI, testNow, vec.Secret+"x").Verify(h, body), ErrSignatureMismatch)
			signed, err := Sign(Config{Preset: PresetCircleCI}, []byte(vec.Secret), "", testNow, body)
			if err != nil || signed.Get(circleciHeader) != "v1="+vec.ExpectedHex {
				t.Fatalf("Sign = %q, %v; want v1=%s", signed.Get(circleciHeader), err, vec.ExpectedHex)
			}
		})
	}
}

// knownMissingBodies are vector bodies the copy in testdata could not
// include (the SDK's fixture is not in the source index); the test fails
// if one appears, so the list is kept honest.
var knownMissingBodies = []string{"paddle/customer.created.special_chars.json"}

func TestPaddleVectors(t *testing.T) {
	var f struct {
		Vectors []struct {
			Secret         string
			Secrets        []string
			BodyFile       string `json:"body_file"`
			Body           string
			Header         string
			PerSecretMatch []bool `json:"per_secret_match"`
		}
	}
	readVectors(t, "paddle", &f)
	tested := 0
	for i, vec := range f.Vectors {
		t.Run(vec.Header, func(t *testing.T) {
			body := []byte(vec.Body)
			if vec.BodyFile != "" {
				b, err := os.ReadFile(filepath.Join(senders, vec.BodyFile))
				if errors.Is(err, os.ErrNotExist) && slices.Contains(knownMissingBodies, vec.BodyFile) {
					return
				}
				if err != nil {
					t.Fatalf("vector %d: %v", i, err)
				}
				if slices.Contains(knownMissingBodies, vec.BodyFile) {
					t.Fatalf("%s is now present: remove it from knownMissingBodies", vec.BodyFile)
				}
				body = bytes.TrimSpace(b) // the SDK test strips the file
			}
			secrets := vec.Secrets
			if vec.Secret != "" {
				secrets = []string{vec.Secret}
			}
			h := headerLine(t, vec.Header)
			ts, _ := parseTimestamp("ts", regexpTS(t, vec.Header), seconds)
			tested++
			wantErr(t, "published", verifier(t, PresetPaddle, ts, secrets...).Verify(h, body), nil)
			wantErr(t, "5 s late: the SDK's default variance", verifier(t, PresetPaddle, ts.Add(5*time.Second), secrets...).Verify(h, body), nil)
			wantErr(t, "6 s late", verifier(t, PresetPaddle, ts.Add(6*time.Second), secrets...).Verify(h, body), ErrTimestampTooOld)
			wantErr(t, "tampered", verifier(t, PresetPaddle, ts, secrets...).Verify(h, append(slices.Clone(body), ' ')), ErrSignatureMismatch)
			for j, match := range vec.PerSecretMatch {
				var want error
				if !match {
					want = ErrSignatureMismatch
				}
				wantErr(t, "secret "+strconv.Itoa(j)+" alone", verifier(t, PresetPaddle, ts, secrets[j]).Verify(h, body), want)
			}
		})
	}
	if tested < 2 {
		t.Fatalf("only %d Paddle vectors could be checked", tested)
	}
}

// regexpTS returns the ts= item of a Paddle-Signature header line.
func regexpTS(t *testing.T, line string) string {
	t.Helper()
	_, v, _ := strings.Cut(line, "ts=")
	ts, _, _ := strings.Cut(v, ";")
	return ts
}

func TestPagerDutyVectors(t *testing.T) {
	var f struct {
		Vectors []struct {
			Secret, Body, Header string
			Expected             string `json:"expected_signature"`
			Signature            string
		}
	}
	readVectors(t, "pagerduty", &f)
	valid, invalid := 0, 0
	for _, vec := range f.Vectors {
		h := http.Header{}
		want := error(nil)
		if vec.Expected != "" {
			h.Set(vec.Header, vec.Expected)
			valid++
		} else {
			h.Set(vec.Header, vec.Signature)
			want = ErrSignatureMismatch
			invalid++
		}
		wantErr(t, vec.Expected+vec.Signature, verifier(t, PresetPagerDuty, testNow, vec.Secret).Verify(h, []byte(vec.Body)), want)
		// Several signatures while a secret rotates: any may match.
		h.Set(vec.Header, "v1="+strings.Repeat("00", 32)+","+h.Get(vec.Header))
		wantErr(t, "in a list", verifier(t, PresetPagerDuty, testNow, vec.Secret).Verify(h, []byte(vec.Body)), want)
	}
	if valid == 0 || invalid == 0 {
		t.Fatalf("%d valid and %d invalid vectors; want both kinds", valid, invalid)
	}
	body, err := os.ReadFile(filepath.Join(senders, "pagerduty", "incident.priority_updated.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != f.Vectors[0].Body {
		t.Fatal("pagerduty/incident.priority_updated.json is not the vector's body")
	}
}

func TestSlackVectors(t *testing.T) {
	var f struct {
		Vectors []struct {
			SigningSecret string `json:"signing_secret"`
			Timestamp     string
			Body          string
			Expected      string `json:"expected_signature"`
		}
	}
	readVectors(t, "slack", &f)
	for _, vec := range f.Vectors {
		h := http.Header{"X-Slack-Signature": {vec.Expected}, "X-Slack-Request-Timestamp": {vec.Timestamp}}
		at, err := parseTimestamp("ts", vec.Timestamp, seconds)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, "published", verifier(t, PresetSlack, at, vec.SigningSecret).Verify(h, []byte(vec.Body)), nil)
		wantErr(t, "tampered", verifier(t, PresetSlack, at, vec.SigningSecret).Verify(h, []byte(vec.Body+"&x=1")), ErrSignatureMismatch)
		wantErr(t, "six minutes late", verifier(t, PresetSlack, at.Add(6*time.Minute), vec.SigningSecret).Verify(h, []byte(vec.Body)), ErrTimestampTooOld)
	}
}

func TestTwilioVectors(t *testing.T) {
	var f struct {
		Vectors []struct {
			Desc      string
			AuthToken string `json:"auth_token"`
			URL       string
			Params    map[string]any
			Expected  string `json:"expected_X-Twilio-Signature"`
			Body      *string
		}
	}
	readVectors(t, "twilio", &f)
	if len(f.Vectors) < 6 {
		t.Fatalf("%d Twilio vectors, want 6", len(f.Vectors))
	}
	for _, vec := range f.Vectors {
		t.Run(vec.Desc, func(t *testing.T) {
			var body []byte
			if vec.Body != nil {
				body = []byte(*vec.Body)
			} else {
				form := url.Values{}
				for k, v := range vec.Params {
					switch v := v.(type) {
					case string:
						form.Add(k, v)
					case []any:
						for _, s := range v {
							form.Add(k, s.(string))
						}
					}
				}
				body = []byte(form.Encode())
			}
			h := http.Header{"X-Twilio-Signature": {vec.Expected}}
			v := verifier(t, PresetTwilio, testNow, vec.AuthToken)
			wantErr(t, "published", v.VerifyRequest(Request{Header: h, Body: body, URL: vec.URL}), nil)
			wantErr(t, "rotation", verifier(t, PresetTwilio, testNow, "secondary-token", vec.AuthToken).VerifyRequest(Request{Header: h, Body: body, URL: vec.URL}), nil)
			wantErr(t, "other URL", v.VerifyRequest(Request{Header: h, Body: body, URL: strings.Replace(vec.URL, "myapp", "yourapp", 1)}), ErrSignatureMismatch)
			wantErr(t, "tampered body", v.VerifyRequest(Request{Header: h, Body: append(slices.Clone(body), "&Extra=1"...), URL: vec.URL}), ErrSignatureMismatch)
			wantErr(t, "other token", verifier(t, PresetTwilio, testNow, "54321").VerifyRequest(Request{Header: h, Body: body, URL: vec.URL}), ErrSignatureMismatch)
			wantErr(t, "no URL", v.Verify(h, body), ErrMissingURL)
			signed, err := SignTwilio([]byte(vec.AuthToken), vec.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			// SignTwilio signs the URL as given; the vector may have been
			// computed over its port-less or port-added spelling.
			wantErr(t, "SignTwilio", v.VerifyRequest(Request{Header: signed, Body: body, URL: vec.URL}), nil)
		})
	}
	t.Run("a signature over the port-less URL verifies when the request URL has :443", func(t *testing.T) {
		vec := f.Vectors[0]
		form := url.Values{}
		for k, v := range vec.Params {
			form.Add(k, v.(string))
		}
		u := strings.Replace(vec.URL, "mycompany.com", "mycompany.com:443", 1)
		h := http.Header{"X-Twilio-Signature": {vec.Expected}}
		wantErr(t, "with :443", verifier(t, PresetTwilio, testNow, vec.AuthToken).VerifyRequest(Request{Header: h, Body: []byte(form.Encode()), URL: u}), nil)
	})
}

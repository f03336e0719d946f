package webhook

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// checkCommandJSON writes send both ways: where appendCommand answers it
// writes encoding/json's bytes. It reports whether it answered.
func checkCommandJSON(t testing.TB, send mapping.Send) bool {
	t.Helper()
	want, err := json.Marshal(queuedCommand{ConversationID: send.ConversationID, Conversation: send.Conversation,
		Users: send.Users, Recipients: send.Recipients, Messages: send.Messages})
	got, ok := appendCommand(nil, send)
	if err != nil {
		if ok {
			t.Fatalf("encoding/json fails (%v), appendCommand wrote %s", err, got)
		}
		return false
	}
	if ok && string(got) != string(want) {
		t.Fatalf("appendCommand wrote\n%s\nencoding/json\n%s", got, want)
	}
	return ok
}

func ptr(s string) *string { return &s }

// awkward holds every character encoding/json escapes in its own way.
const awkward = "q\" b\\ <a href='x'>&amp; \b\f\n\r\t\x00\x1f\x7f é € \u2028\u2029 👩‍💻 \xff\xfe bad"

func TestAppendCommandMatchesEncodingJSON(t *testing.T) {
	full := mapping.Send{
		ConversationID: "github-o-r",
		Conversation: &talkjs.ConversationUpdate{Subject: ptr("GitHub · o/r"), PhotoURL: ptr(""), Participants: []string{"github", "b"},
			Custom: map[string]string{"z": "1", "a": awkward, "m": ""}, WelcomeMessages: []string{"hi", awkward}},
		Users: map[string]talkjs.UserUpdate{
			"github": {Name: ptr("GitHub"), PhotoURL: ptr("https://x/y.png")},
			"a":      {Name: ptr(awkward), Email: []string{"a@x"}, Phone: []string{"+1"}, Role: ptr("r"), Locale: ptr("en"), WelcomeMessage: ptr("w"), Custom: map[string]string{"k": "v"}},
			"empty":  {},
		},
		Recipients: map[string]talkjs.Participation{"u1": {Access: talkjs.AccessRead, Notify: talkjs.NotifyOn}, "u2": {Notify: talkjs.NotifyOff},
			"u3": {Notify: talkjs.NotifyMentionsOnly}, "u4": {}},
		Messages: []talkjs.NewMessage{
			{Type: talkjs.UserMessage, Sender: "github", Text: awkward, Custom: map[string]string{"event": "issues.opened"}, IdempotencyKey: "github:d:0"},
			{Type: talkjs.SystemMessage, Text: "", ReferencedMessageID: "m1", AttachmentToken: "t"},
		},
	}
	tests := []struct {
		name string
		send mapping.Send
		fast bool
	}{
		{"everything", full, true},
		{"bare", mapping.Send{ConversationID: "c", Messages: []talkjs.NewMessage{{Type: talkjs.SystemMessage, Text: "t"}}}, true},
		{"no messages", mapping.Send{ConversationID: awkward}, true},
		{"empty lists and maps", mapping.Send{ConversationID: "c", Conversation: &talkjs.ConversationUpdate{Participants: []string{}, Custom: map[string]string{}},
			Users: map[string]talkjs.UserUpdate{}, Recipients: map[string]talkjs.Participation{}, Messages: []talkjs.NewMessage{}}, true},
		{"conversation clears a field", mapping.Send{ConversationID: "c", Conversation: &talkjs.ConversationUpdate{Clear: []string{talkjs.FieldSubject}}}, false},
		{"user clears a custom key", mapping.Send{ConversationID: "c", Users: map[string]talkjs.UserUpdate{"u": {ClearCustom: []string{"k"}}}}, false},
		{"unknown notify", mapping.Send{ConversationID: "c", Recipients: map[string]talkjs.Participation{"u": {Notify: "sometimes"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkCommandJSON(t, tt.send); got != tt.fast {
				t.Errorf("appendCommand answered %v, want %v", got, tt.fast)
			}
		})
	}
}

func TestAppendQueuedAndResponseMatchEncodingJSON(t *testing.T) {
	for _, q := range [][]queuedSend{nil, {}, {{ConversationID: awkward, QueueMessageID: "m-1"}}, {{"a", "1"}, {"b", "2"}}} {
		want, _ := json.Marshal(queuedBody{Queued: q})
		if got := appendQueued(nil, q); string(got) != string(want) {
			t.Errorf("appendQueued wrote %s, encoding/json %s", got, want)
		}
	}
	for _, h := range []http.Header{nil, {}, {"Content-Type": {"application/json"}, "Allow": {"POST"}, "X-A": {awkward, "second"}},
		{"lower-case": {"x"}, "X-Empty": {}}} {
		flat := flatten(h)
		for _, body := range []string{"", `{"queued":[]}`, awkward} {
			want1, _ := json.Marshal(events.APIGatewayProxyResponse{StatusCode: 202, Headers: flat, Body: body})
			if got := appendResponse(nil, false, 202, h, body); string(got) != string(want1) {
				t.Errorf("v1: appendResponse wrote %s, encoding/json %s", got, want1)
			}
			want2, _ := json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 413, Headers: flat, Body: body})
			if got := appendResponse(nil, true, 413, h, body); string(got) != string(want2) {
				t.Errorf("v2: appendResponse wrote %s, encoding/json %s", got, want2)
			}
		}
	}
	if got, want := string(appendResponse(nil, false, 200, nil, "")), `{"statusCode":200,"headers":{},"multiValueHeaders":null,"body":""}`; got != want {
		t.Errorf("nil headers: %s, want %s", got, want)
	}
}

// FuzzAppendCommand: for any strings in any field, appendCommand writes
// what encoding/json writes.
func FuzzAppendCommand(f *testing.F) {
	f.Add("github-o-r", "GitHub · o/r", "github", "issues.opened", "*Issue #1*\n<x>", "github:d:0", "MentionsOnly")
	f.Add(awkward, awkward, awkward, awkward, awkward, awkward, "true")
	f.Fuzz(func(t *testing.T, conv, subject, user, key, text, idem, notify string) {
		send := mapping.Send{
			ConversationID: conv,
			Conversation:   &talkjs.ConversationUpdate{Subject: &subject, Participants: []string{user}, Custom: map[string]string{key: text, "b": user}},
			Users:          map[string]talkjs.UserUpdate{user: {Name: &text, Custom: map[string]string{key: subject}}, conv: {PhotoURL: &key}},
			Recipients:     map[string]talkjs.Participation{user: {Notify: talkjs.Notify(notify), Access: talkjs.Access(key)}},
			Messages:       []talkjs.NewMessage{{Type: talkjs.MessageType(key), Sender: user, Text: text, Custom: map[string]string{key: idem}, IdempotencyKey: idem}},
		}
		checkCommandJSON(t, send)
		h := http.Header{key: {text}, user: {conv, text}}
		want, _ := json.Marshal(events.APIGatewayProxyResponse{StatusCode: 202, Headers: flatten(h), Body: text})
		if got := appendResponse(nil, false, 202, h, text); string(got) != string(want) {
			t.Fatalf("appendResponse wrote %s, encoding/json %s", got, want)
		}
	})
}

// flatten is the one-value-per-key map the answer carried before
// appendResponse, as encoding/json was given it.
func flatten(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k := range h {
		out[k] = h.Get(k)
	}
	return out
}

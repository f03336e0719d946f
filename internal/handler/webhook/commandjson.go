package webhook

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/talkjs-bridge/talkjs-bridge/internal/jsonstring"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// This file writes the send command (queuedCommand) and the 202 answer as
// encoding/json writes them, without its reflection, for the sends mapping
// makes: no fields to clear (Clear, ClearCustom, which only a hand-written
// command sets) and known notify settings. Anything else returns !ok and
// goes through encoding/json. Tests and a fuzz target compare the two.
// Writing P9's command this way took about two fifths of the time.

// appendCommand appends send as encoding/json writes its queuedCommand.
func appendCommand(b []byte, send mapping.Send) ([]byte, bool) {
	b = append(b, `{"conversationId":`...)
	b = jsonstring.AppendString(b, send.ConversationID)
	if c := send.Conversation; c != nil {
		if len(c.Clear) > 0 || len(c.ClearCustom) > 0 {
			return nil, false
		}
		b = append(b, `,"conversation":`...)
		f := fields{b: b}
		f.ptr("subject", c.Subject)
		f.ptr("photoUrl", c.PhotoURL)
		f.list("participants", c.Participants)
		f.strMap("custom", c.Custom)
		f.list("welcomeMessages", c.WelcomeMessages)
		b = f.end()
	}
	if len(send.Users) > 0 {
		b = append(b, `,"users":{`...)
		for i, id := range sortedKeys(send.Users) {
			u := send.Users[id]
			if len(u.Clear) > 0 || len(u.ClearCustom) > 0 {
				return nil, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonstring.AppendString(b, id)
			b = append(b, ':')
			f := fields{b: b}
			f.ptr("name", u.Name)
			f.list("email", u.Email)
			f.list("phone", u.Phone)
			f.ptr("photoUrl", u.PhotoURL)
			f.ptr("role", u.Role)
			f.ptr("locale", u.Locale)
			f.ptr("welcomeMessage", u.WelcomeMessage)
			f.strMap("custom", u.Custom)
			b = f.end()
		}
		b = append(b, '}')
	}
	if len(send.Recipients) > 0 {
		b = append(b, `,"recipients":{`...)
		for i, id := range sortedKeys(send.Recipients) {
			p := send.Recipients[id]
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonstring.AppendString(b, id)
			b = append(b, ':')
			f := fields{b: b}
			f.str("access", string(p.Access))
			if p.Notify != "" {
				var v string
				switch p.Notify {
				case talkjs.NotifyOn:
					v = "true"
				case talkjs.NotifyOff:
					v = "false"
				case talkjs.NotifyMentionsOnly:
					v = `"MentionsOnly"`
				default:
					return nil, false // encoding/json's error
				}
				f.key("notify")
				f.b = append(f.b, v...)
			}
			b = f.end()
		}
		b = append(b, '}')
	}
	b = append(b, `,"messages":`...)
	if send.Messages == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, m := range send.Messages {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = jsonstring.AppendString(b, string(m.Type))
			f := fields{b: b, n: 1}
			f.str("sender", m.Sender)
			f.key("text")
			f.b = jsonstring.AppendString(f.b, m.Text)
			f.strMap("custom", m.Custom)
			f.str("referencedMessageId", m.ReferencedMessageID)
			f.str("idempotencyKey", m.IdempotencyKey)
			f.str("attachmentToken", m.AttachmentToken)
			b = f.end()
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

// appendResponse appends an API Gateway answer as encoding/json writes
// events.APIGatewayProxyResponse (v1) or events.APIGatewayV2HTTPResponse
// (v2) with these fields and, as its headers, each key of h with its first
// value (h.Get).
func appendResponse(b []byte, v2 bool, status int, h http.Header, body string) []byte {
	b = append(b, `{"statusCode":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"headers":{`...)
	for i, k := range sortedKeys(h) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstring.AppendString(b, k)
		b = append(b, ':')
		b = jsonstring.AppendString(b, h.Get(k))
	}
	b = append(b, `},"multiValueHeaders":null,"body":`...)
	b = jsonstring.AppendString(b, body)
	if v2 {
		b = append(b, `,"cookies":null`...)
	}
	return append(b, '}')
}

// appendQueued appends the 202 answer's body as encoding/json writes
// queuedBody.
func appendQueued(b []byte, q []queuedSend) []byte {
	b = append(b, `{"queued":`...)
	if q == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i, s := range q {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"conversationId":`...)
		b = jsonstring.AppendString(b, s.ConversationID)
		b = append(b, `,"queueMessageId":`...)
		b = jsonstring.AppendString(b, s.QueueMessageID)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// fields writes an object's fields, the omitempty ones only when set.
type fields struct {
	b []byte
	n int // fields written
}

func (f *fields) key(k string) {
	if f.n == 0 {
		f.b = append(f.b, '{')
	} else {
		f.b = append(f.b, ',')
	}
	f.n++
	f.b = append(f.b, '"')
	f.b = append(f.b, k...)
	f.b = append(f.b, '"', ':')
}

func (f *fields) str(k, v string) {
	if v != "" {
		f.key(k)
		f.b = jsonstring.AppendString(f.b, v)
	}
}

func (f *fields) ptr(k string, v *string) {
	if v != nil {
		f.key(k)
		f.b = jsonstring.AppendString(f.b, *v)
	}
}

func (f *fields) list(k string, v []string) {
	if len(v) == 0 {
		return
	}
	f.key(k)
	f.b = append(f.b, '[')
	for i, s := range v {
		if i > 0 {
			f.b = append(f.b, ',')
		}
		f.b = jsonstring.AppendString(f.b, s)
	}
	f.b = append(f.b, ']')
}

func (f *fields) strMap(k string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	f.key(k)
	f.b = append(f.b, '{')
	for i, key := range sortedKeys(m) {
		if i > 0 {
			f.b = append(f.b, ',')
		}
		f.b = jsonstring.AppendString(f.b, key)
		f.b = append(f.b, ':')
		f.b = jsonstring.AppendString(f.b, m[key])
	}
	f.b = append(f.b, '}')
}

// end closes the object ({} when no field was written).
func (f *fields) end() []byte {
	if f.n == 0 {
		return append(f.b, "{}"...)
	}
	return append(f.b, '}')
}

// sortedKeys is slices.Sorted(maps.Keys(m)) in one allocation.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

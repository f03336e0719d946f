package queue

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// parseRecordInTwoSteps is how the handler read a record body before
// parseRecord: kind, then ParseCommand or ParseRouted.
func parseRecordInTwoSteps(body string) (Command, *Routed, error) {
	k, err := kind(body)
	if err != nil {
		return Command{}, nil, err
	}
	if k == "route" {
		r, err := ParseRouted(body)
		if err != nil {
			return Command{}, nil, err
		}
		return Command{}, &r, nil
	}
	c, err := ParseCommand(body)
	return c, nil, err
}

// checkParseRecord fails unless parseRecord reads body exactly as kind and
// the Parse functions did: same command or routed record, same error text.
func checkParseRecord(t *testing.T, body string) {
	t.Helper()
	c, routed, err := parseRecord(body)
	wc, wrouted, werr := parseRecordInTwoSteps(body)
	if fmt.Sprint(err) != fmt.Sprint(werr) || !reflect.DeepEqual(routed, wrouted) || !reflect.DeepEqual(c, wc) {
		t.Errorf("parseRecord(%q) = %+v, %v, %v\nwant %+v, %v, %v", body, c, routed, err, wc, wrouted, werr)
	}
}

// usualCommands are shapes of command queue producers send.
var usualCommands = []string{
	`{"conversationId":"p3","message":{"type":"SystemMessage","text":"Order #1042 has shipped","custom":{"carrier":"ups"},"idempotencyKey":"h1-0"}}`,
	`{"conversationId":"c","idempotencyKey":"k","messages":[{"type":"UserMessage","sender":"u1","text":"a"},{"type":"SystemMessage","text":"b"}]}`,
	` { "conversationId" : "c" , "idempotencyKey":"k", "messages" : [ { "type":"UserMessage" , "sender":"u", "text":"a", "custom":{ "k":"v" , "l":"" }, "referencedMessageId":"r", "idempotencyKey":"i" } , {"type":"SystemMessage","text":"b","custom":{}} ] } `,
}

var recordBodies = append(slices.Clone(usualCommands),
	`{"conversationId":"c","conversation":{"subject":"S","photoUrl":null,"participants":["u1"],"custom":{}},"users":{"u1":{"name":"U"}},"messages":[{"type":"UserMessage","sender":"u1","text":"a"},{"type":"SystemMessage","text":"b"}]}`,
	`{"conversationId":"c","idempotencyKey":"k","messages":[]}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x"},"messages":[{"type":"SystemMessage","text":"y"}]}`,
	`{"CONVERSATIONID":"c","Message":{"Type":"SystemMessage","TEXT":"x"}}`,
	`{"conversationId":"a","conversationId":"b","message":{"type":"SystemMessage","text":"x"},"message":{"text":"y"}}`,
	` {"conversationId":"c","message":{"type":"SystemMessage","text":"x"}} `+"\n",
	`{"route":"github","headers":{"X-GitHub-Event":"issues"},"payload":{}}`,
	`{"route":null}`,
	`{"route":"github","payload":{"a":[1,2]}}`,
	`{"route":"github","headers":null,"payload":null}`,
	`{"route":"","payload":{}}`,
	`{"route":"github"}`,
	`{"route":1,"payload":{}}`,
	`{"route":"github","headers":{"a":1},"payload":{}}`,
	`{"route":"github","headers":{"a":"1"},"payload":{},"conversationId":"c"}`,
	`{"route":"github","payload":{},"message":null}`,
	`{"ROUTE":"x","conversationId":"c"}`,
	`{"conversationId":"c","headers":null,"message":{"type":"SystemMessage","text":"x"}}`,
	`{"conversationId":"c","payload":{},"message":{"type":"SystemMessage","text":"x"}}`,
	`{"conversationId":"c","converstionId":"typo"}`,
	`{"conversationId":1}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x"}}{}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x"}} x`,
	`null`,
	`[]`,
	`"command"`,
	``,
	`{`,
	"{\"conversationId\":\"\xff\"}",
	`{"conversationId":"c","message":{"type":"Bogus","text":"x"}}`,
	`{"conversationId":"c","message":{"type":"UserMessage","text":"x"}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":""}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x","sender":"u"}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x"},"users":{"u":{"name":1}}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"caf\u00e9 \"q\""}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"caf\u00e9"}}`,
	`{"conversationId":"c\/d","message":{"type":"SystemMessage","text":"x"}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"tab	in"}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x","custom":{"k":"1","k":"2"}}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x","text":"y"}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x","custom":null}}`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x","custom":{"k":1}}}`,
	`{"conversationId":"c","message":null}`,
	`{"conversationId":"c","messages":[{"type":"SystemMessage","text":"x"},]}`,
	`{"conversationId":"c","messages":[{"type":"SystemMessage","text":"x"}],}`,
	`{"conversationId":"c" "messages":[]}`,
	`{"conversationId":"c","messages":[{"type":"SystemMessage","text":"x"}]`,
	`{"conversationId":"c","message":{"type":"SystemMessage","text":"x"}}}`,
	`{"conversationId":"","message":{"type":"SystemMessage","text":"x"}}`,
	`{}`,
	`{"conversationId":"c","messages":[],"message":{"type":"SystemMessage","text":"x"}}`,
)

func TestParseRecordReadsAsBefore(t *testing.T) {
	for i, body := range recordBodies {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkParseRecord(t, body) })
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, body := range recordBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Count(body, "[") > 1000 {
			t.Skip("deep nesting only tests encoding/json")
		}
		checkParseRecord(t, body)
	})
}

// BenchmarkParseRecord compares reading the usual command with parseRecord
// against the two decodes it replaced.
func BenchmarkParseRecord(b *testing.B) {
	for _, bb := range []struct {
		name  string
		parse func(string) (Command, *Routed, error)
	}{{"kind=parseRecord", parseRecord}, {"kind=twoSteps", parseRecordInTwoSteps}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := bb.parse(usualCommands[0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package mapping

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

// Every default route refuses an unsigned request before looking at it.
func TestDefaultRoutesRefuseUnsigned(t *testing.T) {
	c := mustDefault(t)
	for _, name := range c.Routes() {
		t.Run(name, func(t *testing.T) {
			_, err := c.Webhook(t.Context(), Request{Route: name, Headers: http.Header{}, Body: []byte(`{}`), Now: testNow}, lookup(testSecrets))
			if !errors.Is(err, ErrUnverified) || !errors.Is(err, verify.ErrUnverified) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestVerifyShorthand(t *testing.T) {
	c := mustParse(t, `
routes:
  gh:
    verify: github
    actions:
      - conversation: {id: x}
        message: {text: hi}
  open:
    verify: none
    actions:
      - conversation: {id: x}
        message: {text: hi}
`)
	vc, _ := c.VerifyConfig("gh")
	if vc.Preset != "github" || len(vc.Secrets) != 1 || vc.Secrets[0] != "gh" {
		t.Errorf("verify: github = %+v, want secrets [gh]", vc)
	}
	body := []byte(`{}`)
	h := http.Header{}
	sign(t, "github", "s3cret", h, body, testNow)
	if _, err := c.Webhook(t.Context(), Request{Route: "gh", Headers: h, Body: body}, lookup(map[string]string{"gh": "s3cret"})); err != nil {
		t.Errorf("signed: %v", err)
	}
	// verify: none needs no secrets at all.
	if _, err := c.Webhook(t.Context(), Request{Route: "open", Headers: http.Header{}, Body: body}, nil); err != nil {
		t.Errorf("none: %v", err)
	}
}

func TestTemplatedUsersAndParticipants(t *testing.T) {
	c := mustParse(t, `
routes:
  r:
    verify: none
    actions:
      - conversation:
          id: 'order-{{ .payload.order }}'
          participants: ['{{ .payload.customer }}', 'support', '{{ get .payload "agent" }}', support]
        users:
          '{{ .payload.customer }}': {name: '{{ .payload.name }}', email: ['{{ .payload.email }}'], custom: {tier: gold}}
        message: {type: UserMessage, sender: '{{ .payload.customer }}', text: hi}
`)
	res, err := runTrusted(t, c, "r", `{"order":7,"customer":"cust-1","name":"Ann <a|b>","email":"a@example.com"}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Sends[0]
	if got := strings.Join(s.Conversation.Participants, ","); got != "cust-1,support" {
		t.Errorf("participants = %q (empty and duplicate ones are dropped)", got)
	}
	u, ok := s.Users["cust-1"]
	if !ok || *u.Name != "Ann <a|b>" || u.Email[0] != "a@example.com" || u.Custom["tier"] != "gold" {
		t.Errorf("users = %+v", s.Users)
	}
	if s.Messages[0].Sender != "cust-1" {
		t.Errorf("sender = %q", s.Messages[0].Sender)
	}
}

func TestAliasBombIsCheap(t *testing.T) {
	bomb := `
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
routes:
  r:
    verify: none
    actions: *f
`
	// Expanded, the aliases are 9^6 = 531,441 strings; the parser must
	// refuse them without walking that.
	var err error
	allocs := testing.AllocsPerRun(1, func() { _, err = Parse([]byte(bomb), "bomb.yaml") })
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	if allocs > 50000 {
		t.Errorf("parsing the alias bomb took %.0f allocations; it was expanded", allocs)
	}
}

func TestFilterSeesHeadersAndTime(t *testing.T) {
	c := mustParse(t, `
routes:
  r:
    verify: none
    actions:
      - when: headers["x-source"] == "ci" && now.Year() == 2026 && route == "r"
        conversation: {id: x}
        message: {text: 'from {{ get .headers "X-Source" }}'}
`)
	res, err := runTrusted(t, c, "r", `{}`, http.Header{"X-Source": {"ci"}})
	if err != nil || res.Sends[0].Messages[0].Text != "from ci" {
		t.Errorf("res = %+v, err = %v", res, err)
	}
	if _, err := runTrusted(t, c, "r", `{}`, http.Header{"X-Source": {"other"}}); !errors.Is(err, ErrEventNotHandled) {
		t.Errorf("err = %v", err)
	}
}

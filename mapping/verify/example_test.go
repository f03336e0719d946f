package verify_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/talkjs-bridge/talkjs-bridge/mapping/verify"
)

// GitHub's documented example delivery, verified the way the webhook
// function does it: build once per route, verify every request, answer 401
// on any ErrUnverified.
func Example() {
	cfg := verify.Config{Preset: "github", Secrets: []string{"github"}}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	// The caller resolves secret names to values (webhookSecrets of the TalkJS secret).
	v, err := verify.New(cfg, [][]byte{[]byte("It's a Secret to Everybody")})
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	fmt.Println(v.Verify(h, []byte("Hello, World!")))

	err = v.Verify(h, []byte("Hello, World?"))
	fmt.Println(errors.Is(err, verify.ErrUnverified), errors.Is(err, verify.ErrSignatureMismatch))
	fmt.Println(err)
	// Output:
	// <nil>
	// true true
	// webhook not verified: signature mismatch: X-Hub-Signature-256 matches no secret
}

// Twilio signs the public URL it posted to, so the caller passes it along
// (twilio-python's published vector: the URL, the form body, the Auth Token).
func ExampleVerifier_VerifyRequest() {
	cfg := verify.Config{Preset: "twilio", Secrets: []string{"twilio"}}
	v, err := verify.New(cfg, [][]byte{[]byte("12345")})
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	h.Set("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
	body := []byte("CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212")
	fmt.Println(cfg.NeedsURL())
	fmt.Println(v.VerifyRequest(verify.Request{Header: h, Body: body, URL: "https://mycompany.com/myapp.php?foo=1&bar=2"}))
	fmt.Println(errors.Is(v.Verify(h, body), verify.ErrMissingURL))
	// Output:
	// true
	// <nil>
	// true
}

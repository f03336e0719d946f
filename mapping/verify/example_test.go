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

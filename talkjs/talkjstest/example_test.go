package talkjstest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

func Example() {
	srv, emu := talkjstest.NewServer("tDemo", "sk_test_demo")
	defer srv.Close()

	do := func(method, path, body string) int {
		req, _ := http.NewRequest(method, srv.URL+"/v1/tDemo"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer sk_test_demo")
		req.Header.Set("User-Agent", "example/1")
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	do("PUT", "/conversations/order-1", `{"subject": "Order 1"}`)
	emu.AddFault(talkjstest.Fault{Status: 503, Times: 1})
	first := do("POST", "/conversations/order-1/messages", `[{"type": "SystemMessage", "text": "Shipped", "idempotencyKey": "ship-1"}]`)
	retry := do("POST", "/conversations/order-1/messages", `[{"type": "SystemMessage", "text": "Shipped", "idempotencyKey": "ship-1"}]`)
	again := do("POST", "/conversations/order-1/messages", `[{"type": "SystemMessage", "text": "Shipped", "idempotencyKey": "ship-1"}]`)
	fmt.Println(first, retry, again, len(emu.Messages("order-1")), emu.Counts().IdempotentReplays)
	// Output: 503 200 200 1 1
}

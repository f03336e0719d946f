package mapping_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
)

func ExampleRoutes_Trusted() {
	cfg, err := mapping.Parse([]byte(`
routes:
  orders:
    verify: none
    event: {field: type}
    actions:
      - on: [order.paid]
        when: payload.total >= 100
        conversation: {id: 'order-{{ .payload.id }}'}
        message:
          text: '*Paid*: order {{ .payload.id }} by {{ .payload.customer }}'
`), "routes.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := cfg.Trusted(context.Background(), mapping.Request{
		Route:   "orders",
		Headers: http.Header{"Content-Type": {"application/json"}},
		Body:    []byte(`{"type":"order.paid","id":1042,"total":250,"customer":"<actionbutton:refund|Refund>"}`),
		Now:     time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.Sends {
		for _, m := range s.Messages {
			fmt.Println(s.ConversationID, m.IdempotencyKey)
			fmt.Println(m.Text)
		}
	}
	// Output:
	// order-1042 orders:sha256-27d41c7d9ecad4236cb2b2f163d4e41e:0
	// *Paid*: order 1042 by ‹actionbutton:refund|Refund›
}

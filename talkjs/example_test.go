package talkjs_test

import (
	"context"
	"fmt"
	"log"

	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs/talkjstest"
)

// A conversation, a bot user in it, and one message from the bot, against
// the emulator; with real TalkJS, drop WithBaseURL and pass your app id and
// key source.
func Example() {
	srv, emu := talkjstest.NewServer("tExample", "sk_test_example_only")
	defer srv.Close()

	c, err := talkjs.NewClient("tExample", talkjs.StaticKey("sk_test_example_only"), talkjs.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	name, subject := "Shipping bot", "Order #1042"
	if err := c.UpsertUser(ctx, "bot", talkjs.UserUpdate{Name: &name}); err != nil {
		log.Fatal(err)
	}
	if err := c.UpsertConversation(ctx, "order-1042", talkjs.ConversationUpdate{Subject: &subject, Participants: []string{"bot"}}); err != nil {
		log.Fatal(err)
	}
	msg := talkjs.NewMessage{Type: talkjs.UserMessage, Sender: "bot", Text: "Your order has shipped", IdempotencyKey: "order-1042-shipped"}
	// The same key twice is one message: a retried send is safe.
	for range 2 {
		if _, err := c.SendMessages(ctx, "order-1042", msg); err != nil {
			log.Fatal(err)
		}
	}
	for _, m := range emu.Messages("order-1042") {
		fmt.Printf("%s from %s: %s\n", m.Type, m.SenderID, m.Text)
	}
	// Output: UserMessage from bot: Your order has shipped
}

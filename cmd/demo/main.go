// Command demo is `make demo`: it builds the three functions, runs their real
// bootstraps under the Lambda runtime emulator against the embedded TalkJS
// emulator and a local AWS endpoint, replays every file in events/ through the
// matching function, and prints what arrived, what the function answered and
// what TalkJS now holds. It exits 0 when every event behaved as
// events/README.md says. With TALKJS_APP_ID and TALKJS_SECRET_KEY set it
// sends to the real TalkJS instead.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

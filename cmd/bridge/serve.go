package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/internal/config"
	"github.com/talkjs-bridge/talkjs-bridge/internal/democreds"
	"github.com/talkjs-bridge/talkjs-bridge/internal/devserver"
	"github.com/talkjs-bridge/talkjs-bridge/internal/setup"
)

// serve runs the development server until interrupted.
func serveFlags(fs *flag.FlagSet) {
	fs.String("addr", "localhost:3000", "address to listen on")
	fs.String("routes", os.Getenv("BRIDGE_CONFIG"), "routes file (default: $BRIDGE_CONFIG, else the embedded one)")
}

func serve(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		return usageError(stderr, "serve", "takes no arguments, got %q", args)
	}
	addr, routesFile := fs.Lookup("addr").Value.String(), fs.Lookup("routes").Value.String()
	routes, name, err := load(routesFile)
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// The demo secrets sign events/; BRIDGE_WEBHOOK_SECRET_<NAME> replaces
	// one, e.g. to receive real GitHub deliveries through a tunnel.
	secrets := democreds.WebhookSecrets()
	maps.Copy(secrets, setup.WebhookSecretsFromEnv(os.Getenv, routes))
	opts := devserver.Options{Routes: routes, Logger: log, WebhookSecrets: secrets}
	if os.Getenv(config.EnvAppID) != "" && os.Getenv(config.EnvSecretKey) != "" {
		// Real TalkJS: the functions' rules apply (a key that looks like
		// one, and never plain http off this machine, as the key travels
		// with every request).
		cfg, err := config.FromEnv(os.Getenv)
		if err != nil {
			fmt.Fprintf(stderr, "bridge serve: %v\n", err)
			return exitError
		}
		opts.AppID, opts.SecretKey, opts.APIURL = cfg.AppID, cfg.SecretKey, cfg.APIURL
	}
	s, err := devserver.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "bridge serve: %v\n", err)
		return exitError
	}
	defer s.Close()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "bridge serve: %v\n", err)
		return exitError
	}
	base := "http://" + ln.Addr().String()
	target := "the embedded TalkJS emulator"
	if s.Emulator == nil {
		target = "TalkJS at " + s.TalkJSURL
	}
	fmt.Fprintf(stdout, `talkjs-bridge dev server on %s (routes: %s; sending to %s)

  inbox:     %s/inbox
  webhook:   curl -X POST %s/webhooks/alertmanager -H 'Authorization: Bearer demo-alertmanager-token' \
               -H 'Content-Type: application/json' --data '{"version":"4","groupKey":"ops/DiskFull","status":"firing","receiver":"ops","groupLabels":{"alertname":"DiskFull"},"alerts":[{"status":"firing","labels":{"alertname":"DiskFull","severity":"critical","instance":"db-1"},"annotations":{"summary":"Disk 95%% full"}}]}' 
  queue:     curl -X POST %s/queue -H 'Content-Type: application/json' --data '{"conversationId":"hello","conversation":{"subject":"Hello"},"message":{"type":"SystemMessage","text":"Hello from the queue"}}'
  reminder:  curl -X POST %s/reminders/standup -H 'Content-Type: application/json'

`, base, name, target, base, base, base, base)

	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "bridge serve: %v\n", err)
		return exitError
	}
	return exitOK
}

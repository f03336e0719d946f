package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
)

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `usage:
  bridge validate [routes.yaml]        check a routes file (default: the embedded one)
  bridge render --route NAME [flags] payload.json|-
                                       print the TalkJS requests an event would cause
  bridge default                       print the embedded routes file
  bridge serve [--addr localhost:3000] [--routes FILE]
                                       run the handlers locally with the inbox page (make run)

render flags:
  --route NAME      route to map through (required)
  -H 'Name: value'  a request header, repeatable (e.g. -H 'X-GitHub-Event: issues')
  --routes FILE     routes file (default: the embedded one)
  --app-id ID       TalkJS app id to show in paths (default: {appId})
  --now TIME        RFC 3339 time the templates see (default: now)
`

// run is the whole command, testable: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "render":
		return render(args[1:], stdout, stderr)
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "default":
		if len(args) > 1 {
			fmt.Fprint(stderr, usage)
			return exitUsage
		}
		stdout.Write(mapping.DefaultRoutesFile())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "bridge: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

func load(path string) (*mapping.Routes, string, error) {
	if path == "" {
		// Strictly, not mapping.Default(), which leaves templates to first
		// use: validate must find every problem now.
		c, err := mapping.Parse(mapping.DefaultRoutesFile(), mapping.DefaultFilename)
		return c, mapping.DefaultFilename, err
	}
	c, err := mapping.Load(path)
	return c, path, err
}

// printLoadError writes one problem per line, file:line: field: message,
// the way compilers do, so editors can jump to them.
func printLoadError(w io.Writer, err error) {
	var le *mapping.LoadError
	if !errors.As(err, &le) {
		fmt.Fprintf(w, "bridge: %v\n", err)
		return
	}
	for _, p := range le.Problems {
		if p.Line > 0 {
			fmt.Fprintf(w, "%s:%d: %s: %s\n", le.File, p.Line, p.Field, p.Msg)
		} else {
			fmt.Fprintf(w, "%s: %s: %s\n", le.File, p.Field, p.Msg)
		}
	}
	fmt.Fprintf(w, "%s: %d problem(s)\n", le.File, len(le.Problems))
}

func validate(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 || len(args) == 1 && strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	path := ""
	if len(args) == 1 {
		path = args[0]
	}
	c, name, err := load(path)
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	var rems []string
	for _, r := range c.Reminders() {
		rems = append(rems, r.Name)
	}
	fmt.Fprintf(stdout, "%s: ok: %d route(s) [%s], %d reminder(s) [%s], max text %d runes\n",
		name, len(c.Routes()), strings.Join(c.Routes(), ", "), len(rems), strings.Join(rems, ", "), c.Limits().MaxTextLength)
	return exitOK
}

type headerFlags http.Header

func (h headerFlags) String() string { return "" }
func (h headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("want 'Name: value', got %q", v)
	}
	http.Header(h).Add(name, strings.TrimSpace(value))
	return nil
}

func render(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	routeName := fs.String("route", "", "")
	routesFile := fs.String("routes", "", "")
	appID := fs.String("app-id", "{appId}", "")
	nowFlag := fs.String("now", "", "")
	headers := http.Header{}
	fs.Var(headerFlags(headers), "H", "")
	// Flags may come before or after the payload file.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			fmt.Fprintf(stderr, "bridge render: %v\n%s", err, usage)
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *routeName == "" || len(positional) != 1 {
		fmt.Fprintf(stderr, "bridge render: need --route and one payload file\n%s", usage)
		return exitUsage
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			fmt.Fprintf(stderr, "bridge render: --now: want an RFC 3339 time, got %q\n", *nowFlag)
			return exitUsage
		}
		now = t
	}
	var body []byte
	var err error
	if positional[0] == "-" {
		body, err = io.ReadAll(os.Stdin)
	} else {
		body, err = os.ReadFile(positional[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "bridge render: %v\n", err)
		return exitError
	}
	c, _, err := load(*routesFile)
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	res, err := c.Trusted(context.Background(), mapping.Request{Route: *routeName, Headers: headers, Body: body, Now: now})
	fmt.Fprintf(stdout, "# route %s", *routeName)
	if res.Event != "" {
		fmt.Fprintf(stdout, ", event %s", res.Event)
	}
	fmt.Fprintln(stdout, " (signature verification skipped)")
	switch {
	case errors.Is(err, mapping.ErrEventNotHandled):
		fmt.Fprintln(stdout, "# nothing would be sent (the webhook would answer 202):")
		for _, s := range res.Skipped {
			fmt.Fprintf(stdout, "#   %s\n", s)
		}
		return exitOK
	case errors.Is(err, mapping.ErrRouteNotFound):
		fmt.Fprintf(stderr, "bridge render: no route %q (routes: %s)\n", *routeName, strings.Join(c.Routes(), ", "))
		return exitError
	case err != nil:
		fmt.Fprintf(stderr, "bridge render: %v\n", err)
		return exitError
	}
	for _, s := range res.Sends {
		printSend(stdout, *appID, s)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(stdout, "# skipped %s\n", s)
	}
	return exitOK
}

// printSend writes the requests the dispatcher makes for one send, in the
// order it makes them: users, conversation, then one messages call.
func printSend(w io.Writer, appID string, s mapping.Send) {
	base := "/v1/" + appID
	fmt.Fprintf(w, "\n# action %d\n", s.Action)
	ids := make([]string, 0, len(s.Users))
	for id := range s.Users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		printRequest(w, "PUT", base+"/users/"+url.PathEscape(id), s.Users[id])
	}
	conv := base + "/conversations/" + url.PathEscape(s.ConversationID)
	if s.Conversation != nil {
		printRequest(w, "PUT", conv, s.Conversation)
	}
	printRequest(w, "POST", conv+"/messages", s.Messages)
}

func printRequest(w io.Writer, method, path string, body any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(body); err != nil {
		fmt.Fprintf(w, "%s %s\n# cannot encode body: %v\n", method, path, err)
		return
	}
	fmt.Fprintf(w, "%s %s\n%s", method, path, buf.String())
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `usage: bridge <command> [flags] [args]

commands:
  validate [-o text|json] [routes.yaml]
                      check a routes file (default: the embedded one)
  render --route NAME [flags] payload.json|-
                      print the TalkJS requests an event would cause
  default             print the embedded routes file
  serve [--addr localhost:3000] [--routes FILE]
                      run the handlers locally with the inbox page (make run)
  version             print the version (also: bridge --version)
  help [command]      print this, or a command's flags (also: bridge <command> --help)

Exit status: 0 ok, 1 the routes file or the payload is invalid, 2 usage.
`

// command is one subcommand: its synopsis for help, and what it runs.
type command struct {
	args    string // after "bridge <name>", for the usage line
	summary string
	flags   func(fs *flag.FlagSet) // defines the command's flags
	run     func(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"validate": {"[-o text|json] [routes.yaml]", "Check a routes file (default: the embedded one); every problem is listed as file:line: field: message.", validateFlags, validate},
		"render":   {"--route NAME [flags] payload.json|-", "Print the TalkJS requests an event would cause, offline (signature verification skipped).", renderFlags, render},
		"default":  {"", "Print the embedded routes file, a starting point for your own.", func(*flag.FlagSet) {}, printDefault},
		"serve":    {"[--addr localhost:3000] [--routes FILE]", "Run the handlers locally with the inbox page (make run).", serveFlags, serve},
		"version":  {"", "Print the version, commit and Go version of this binary.", func(*flag.FlagSet) {}, printVersion},
	}
}

// run is the whole command, testable: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				commandUsage(stdout, args[1], c)
				return exitOK
			}
			fmt.Fprintf(stderr, "bridge: unknown command %q\n%s", args[1], usage)
			return exitUsage
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	case "-version", "--version", "-v":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		what := "command"
		if strings.HasPrefix(name, "-") {
			what = "flag"
		}
		fmt.Fprintf(stderr, "bridge: unknown %s %q\n%s", what, name, usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("bridge "+name, flag.ContinueOnError)
	c.flags(fs)
	positional, code, ok := parse(fs, name, c, args[1:], stdout, stderr)
	if !ok {
		return code
	}
	return c.run(fs, positional, stdout, stderr)
}

// commandUsage prints one command's help, the same way for every command.
func commandUsage(w io.Writer, name string, c command) {
	fs := flag.NewFlagSet("bridge "+name, flag.ContinueOnError)
	c.flags(fs)
	fmt.Fprintf(w, "usage: bridge %s %s\n\n%s\n", name, c.args, c.summary)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// parse parses flags that may come before or after the positional
// arguments. --help prints the command's help on stdout (exit 0); a bad
// flag prints the error and the help on stderr (exit 2).
func parse(fs *flag.FlagSet, name string, c command, args []string, stdout, stderr io.Writer) ([]string, int, bool) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				commandUsage(stdout, name, c)
				return nil, exitOK, false
			}
			fmt.Fprintf(stderr, "bridge %s: %v\n", name, err)
			commandUsage(stderr, name, c)
			return nil, exitUsage, false
		}
		if fs.NArg() == 0 {
			return positional, 0, true
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// usageError reports a wrong use of a command, with its help, exit 2.
func usageError(stderr io.Writer, name, format string, a ...any) int {
	fmt.Fprintf(stderr, "bridge %s: %s\n", name, fmt.Sprintf(format, a...))
	commandUsage(stderr, name, commands[name])
	return exitUsage
}

// outputFlag is -o text|json.
type outputFlag string

func (o *outputFlag) String() string { return string(*o) }
func (o *outputFlag) Set(v string) error {
	if v != "text" && v != "json" {
		return fmt.Errorf("want text or json, got %q", v)
	}
	*o = outputFlag(v)
	return nil
}

func addOutputFlag(fs *flag.FlagSet) {
	o := outputFlag("text")
	fs.Var(&o, "o", "output format: text, or json for machines")
}

func outputOf(fs *flag.FlagSet) string {
	if f := fs.Lookup("o"); f != nil {
		return f.Value.String()
	}
	return "text"
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func printDefault(_ *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		return usageError(stderr, "default", "takes no arguments")
	}
	stdout.Write(mapping.DefaultRoutesFile())
	return exitOK
}

// printVersion prints what the Go toolchain recorded in the binary: the
// module version (a tag when installed with go install ...@v1.2.3,
// "(devel)" in a checkout) and the VCS commit it was built from.
func printVersion(_ *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		return usageError(stderr, "version", "takes no arguments")
	}
	fmt.Fprintln(stdout, versionString())
	return exitOK
}

func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "bridge (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		extra = append(extra, "commit "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		extra = append(extra, t)
	}
	if settings["vcs.modified"] == "true" {
		extra = append(extra, "modified")
	}
	extra = append(extra, bi.GoVersion)
	return fmt.Sprintf("bridge %s (%s)", v, strings.Join(extra, ", "))
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

func validateFlags(fs *flag.FlagSet) { addOutputFlag(fs) }

// validateResult is validate's -o json answer.
type validateResult struct {
	File          string        `json:"file"`
	OK            bool          `json:"ok"`
	Routes        []string      `json:"routes,omitempty"`
	Reminders     []string      `json:"reminders,omitempty"`
	MaxTextLength int           `json:"maxTextLength,omitempty"`
	Problems      []jsonProblem `json:"problems,omitempty"`
}

type jsonProblem struct {
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func validate(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		return usageError(stderr, "validate", "one routes file at most, got %d", len(args))
	}
	path := ""
	if len(args) == 1 {
		path = args[0]
	}
	asJSON := outputOf(fs) == "json"
	c, name, err := load(path)
	if err != nil {
		if !asJSON {
			printLoadError(stderr, err)
			return exitError
		}
		res := validateResult{File: name}
		var le *mapping.LoadError
		if errors.As(err, &le) {
			for _, p := range le.Problems {
				res.Problems = append(res.Problems, jsonProblem{Line: p.Line, Field: p.Field, Message: p.Msg})
			}
		} else {
			res.Problems = []jsonProblem{{Message: err.Error()}}
		}
		writeJSON(stdout, res)
		return exitError
	}
	var rems []string
	for _, r := range c.Reminders() {
		rems = append(rems, r.Name)
	}
	if asJSON {
		writeJSON(stdout, validateResult{File: name, OK: true, Routes: c.Routes(), Reminders: rems, MaxTextLength: c.Limits().MaxTextLength})
		return exitOK
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

func renderFlags(fs *flag.FlagSet) {
	fs.String("route", "", "route to map through (required)")
	fs.String("routes", "", "routes file (default: the embedded one)")
	fs.String("app-id", "{appId}", "TalkJS app id to show in paths")
	fs.String("now", "", "RFC 3339 time the templates see (default: now)")
	fs.Var(headerFlags(http.Header{}), "H", "a request header 'Name: value', repeatable (e.g. -H 'X-GitHub-Event: issues')")
	fs.Var(queryFlags(url.Values{}), "query", "the request's query string 'a=b&c=d', repeatable (Microsoft Graph's validationToken)")
	addOutputFlag(fs)
}

// queryFlags collects --query values.
type queryFlags url.Values

func (q queryFlags) String() string { return url.Values(q).Encode() }
func (q queryFlags) Set(v string) error {
	parsed, err := url.ParseQuery(v)
	if err != nil {
		return fmt.Errorf("want a query string such as 'a=b&c=d': %v", err)
	}
	for k, vs := range parsed {
		q[k] = append(q[k], vs...)
	}
	return nil
}

// renderResult is render's -o json answer: the requests in the order the
// bridge would make them.
type renderResult struct {
	Route    string          `json:"route"`
	Event    string          `json:"event,omitempty"`
	Handled  bool            `json:"handled"`
	Requests []renderRequest `json:"requests"`
	Skipped  []string        `json:"skipped,omitempty"`
	// Handshake names the handshake the request is (answered at the door,
	// nothing sent); Notified who TalkJS would notify of the messages.
	Handshake string   `json:"handshake,omitempty"`
	Notified  []string `json:"notified,omitempty"`
}

type renderRequest struct {
	Action int    `json:"action"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   any    `json:"body"`
}

func render(fs *flag.FlagSet, positional []string, stdout, stderr io.Writer) int {
	get := func(name string) string { return fs.Lookup(name).Value.String() }
	routeName, routesFile, appID, nowFlag := get("route"), get("routes"), get("app-id"), get("now")
	headers := http.Header(fs.Lookup("H").Value.(headerFlags))
	query := url.Values(fs.Lookup("query").Value.(queryFlags))
	if routeName == "" || len(positional) != 1 {
		return usageError(stderr, "render", "need --route and one payload file")
	}
	asJSON := outputOf(fs) == "json"
	now := time.Now()
	if nowFlag != "" {
		t, err := time.Parse(time.RFC3339, nowFlag)
		if err != nil {
			return usageError(stderr, "render", "--now: want an RFC 3339 time, got %q", nowFlag)
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
	c, _, err := load(routesFile)
	if err != nil {
		printLoadError(stderr, err)
		return exitError
	}
	req := mapping.Request{Route: routeName, Headers: headers, Body: body, Now: now, Query: query}
	if kind := c.HandshakeKind(req); kind != "" {
		if asJSON {
			writeJSON(stdout, renderResult{Route: routeName, Handled: true, Requests: []renderRequest{}, Handshake: kind})
			return exitOK
		}
		fmt.Fprintf(stdout, "# route %s: a %s handshake, answered at the door once it verifies; nothing would be sent\n", routeName, kind)
		return exitOK
	}
	res, err := c.Trusted(context.Background(), req)
	switch {
	case errors.Is(err, mapping.ErrRouteNotFound):
		fmt.Fprintf(stderr, "bridge render: no route %q (routes: %s)\n", routeName, strings.Join(c.Routes(), ", "))
		return exitError
	case err != nil && !errors.Is(err, mapping.ErrEventNotHandled):
		fmt.Fprintf(stderr, "bridge render: %v\n", err)
		return exitError
	}
	if asJSON {
		out := renderResult{Route: routeName, Event: res.Event, Handled: err == nil, Requests: []renderRequest{}, Skipped: res.Skipped}
		for _, s := range res.Sends {
			out.Requests = append(out.Requests, requestsOf(appID, s)...)
			for _, id := range s.Notified() {
				if !slices.Contains(out.Notified, id) {
					out.Notified = append(out.Notified, id)
				}
			}
		}
		slices.Sort(out.Notified)
		writeJSON(stdout, out)
		return exitOK
	}
	fmt.Fprintf(stdout, "# route %s", routeName)
	if res.Event != "" {
		fmt.Fprintf(stdout, ", event %s", res.Event)
	}
	fmt.Fprintln(stdout, " (signature verification skipped)")
	if err != nil {
		fmt.Fprintln(stdout, "# nothing would be sent (the webhook would answer 202):")
		for _, s := range res.Skipped {
			fmt.Fprintf(stdout, "#   %s\n", s)
		}
		return exitOK
	}
	for _, s := range res.Sends {
		printSend(stdout, s.Action, requestsOf(appID, s))
		printNotified(stdout, s)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(stdout, "# skipped %s\n", s)
	}
	return exitOK
}

// requestsOf lists the requests the dispatcher makes for one send, in the
// order it makes them: users, conversation, then one messages call.
func requestsOf(appID string, s mapping.Send) []renderRequest {
	base := "/v1/" + appID
	var out []renderRequest
	ids := make([]string, 0, len(s.Users))
	for id := range s.Users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, renderRequest{s.Action, "PUT", base + "/users/" + url.PathEscape(id), s.Users[id]})
	}
	conv := base + "/conversations/" + url.PathEscape(s.ConversationID)
	if s.Conversation != nil {
		out = append(out, renderRequest{s.Action, "PUT", conv, s.Conversation})
	}
	for _, id := range slices.Sorted(maps.Keys(s.Recipients)) {
		out = append(out, renderRequest{s.Action, "PUT", conv + "/participants/" + url.PathEscape(id), s.Recipients[id]})
	}
	return append(out, renderRequest{s.Action, "POST", conv + "/messages", s.Messages})
}

// printNotified says who TalkJS would notify of a send's messages: only
// participants, and only of UserMessages.
func printNotified(w io.Writer, s mapping.Send) {
	user := slices.ContainsFunc(s.Messages, func(m talkjs.NewMessage) bool { return m.Type == talkjs.UserMessage })
	switch n := s.Notified(); {
	case len(n) > 0:
		fmt.Fprintf(w, "# TalkJS would notify: %s (per their notify settings), and any participant already in the conversation\n", strings.Join(n, ", "))
	case user:
		fmt.Fprintln(w, "# TalkJS would notify the conversation's other participants; this route adds none (list them in notify.recipients)")
	default:
		fmt.Fprintln(w, "# TalkJS would notify nobody: SystemMessages notify no one (use notify: in the routes file)")
	}
}

// printSend writes one send's requests as text.
func printSend(w io.Writer, action int, reqs []renderRequest) {
	fmt.Fprintf(w, "\n# action %d\n", action)
	for _, r := range reqs {
		printRequest(w, r.Method, r.Path, r.Body)
	}
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

// Command bridge checks a talkjs-bridge routes file and shows, offline, what
// an event would become: the exact TalkJS requests the bridge would send.
//
//	bridge validate [-o json] [routes.yaml]
//	bridge render --route github -H 'X-GitHub-Event: issues' [--routes routes.yaml] [-o json] payload.json
//	bridge default > routes.yaml
//	bridge serve [--addr localhost:3000] [--routes FILE]
//	bridge version | bridge --version
//	bridge help [command] | bridge <command> --help
//
// Every command parses its flags with the standard flag package, before or
// after its arguments, and prints its help the same way. Help goes to
// stdout (exit 0); a usage error goes to stderr with the command's help.
// Exit status: 0 ok, 1 the routes file or the payload is invalid, 2 usage.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

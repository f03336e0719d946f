// Command bridge checks a talkjs-bridge routes file and shows, offline, what
// an event would become: the exact TalkJS requests the bridge would send.
//
//	bridge validate [routes.yaml]
//	bridge render --route github -H 'X-GitHub-Event: issues' [--routes routes.yaml] payload.json
//	bridge default > routes.yaml
//	bridge serve [--addr localhost:3000] [--routes FILE]
//
// Exit status: 0 ok, 1 the routes file or the payload is invalid, 2 usage.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

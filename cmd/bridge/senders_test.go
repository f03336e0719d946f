package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderSenderFixtures renders every sender payload in testdata/senders
// through its route of the embedded routes file, with its delivery headers,
// as a user would with `bridge render`: each prints the TalkJS requests with
// a message and says who would be notified, or that it is a handshake.
func TestRenderSenderFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "senders")
	routes := map[string]string{
		"alertmanager": "alertmanager", "bitbucket": "bitbucket", "circleci": "circleci", "gitlab": "gitlab",
		"grafana": "grafana", "paddle": "paddle", "pagerduty": "pagerduty", "postmark": "postmark",
		"sentry": "sentry", "slack": "slack", "stripe": "stripe", "talkjs": "talkjs", "twilio": "twilio",
		"uptime-kuma": "uptime-kuma",
	}
	// Payloads a route deliberately sends nothing for.
	silent := map[string]bool{"paddle/customer.created.json": true, "talkjs/message.sent.from-bridge.json": true}
	n := 0
	for sender, route := range routes {
		files, err := filepath.Glob(filepath.Join(dir, sender, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures for %s: %v", sender, err)
		}
		for _, f := range files {
			ext := filepath.Ext(f)
			base := strings.TrimSuffix(filepath.Base(f), ext)
			if ext != ".json" && ext != ".form" || base == "vectors" || strings.Contains(base, "expected_response") {
				continue
			}
			rel := sender + "/" + filepath.Base(f)
			t.Run(rel, func(t *testing.T) {
				args := []string{"render", "--route", route, "--now", "2026-01-02T03:04:05Z"}
				if hb, err := os.ReadFile(filepath.Join(dir, sender, base+".headers")); err == nil {
					for _, line := range strings.Split(strings.TrimSpace(string(hb)), "\n") {
						if k, _, ok := strings.Cut(line, ":"); ok && !strings.EqualFold(k, "X-Gitlab-Token") {
							args = append(args, "-H", line)
						}
					}
				}
				code, out, stderr := runCmd(append(args, f)...)
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				switch {
				case silent[rel]:
					if !strings.Contains(out, "nothing would be sent") {
						t.Errorf("want nothing sent:\n%s", out)
					}
				case strings.Contains(out, "handshake"):
				default:
					if !strings.Contains(out, "/messages\n") || !strings.Contains(out, "# TalkJS would notify") {
						t.Errorf("want a message and who is notified:\n%s", out)
					}
				}
			})
			n++
		}
	}
	if n < 30 {
		t.Errorf("rendered %d fixtures, want every sender payload (30 or more)", n)
	}
}

func TestRenderShowsWhoIsNotified(t *testing.T) {
	routes := writeFile(t, "notify.yaml", `routes:
  ops:
    verify: none
    notify:
      bot: {id: ops-bot, name: Ops}
      recipients: [{id: alice, notify: true}, {id: bob, access: Read, notify: false}]
    actions:
      - conversation: {id: ops}
        message: {text: 'deploy {{ .payload.v }}'}
      - conversation: {id: ops}
        message: {type: SystemMessage, text: 'note {{ .payload.v }}'}
`)
	payload := writeFile(t, "p.json", `{"v":"1.2"}`)
	code, out, stderr := runCmd("render", "--routes", routes, "--route", "ops", payload)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"PUT /v1/{appId}/conversations/ops/participants/bob\n{\n  \"access\": \"Read\",\n  \"notify\": false\n}",
		"# TalkJS would notify: alice (per their notify settings)",
		"# TalkJS would notify nobody: SystemMessages notify no one",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRenderHandshake(t *testing.T) {
	routes := writeFile(t, "graph.yaml", "routes:\n  graph:\n    verify: none\n    handshake: graph\n    actions:\n      - conversation: {id: c}\n        message: {text: x}\n")
	payload := writeFile(t, "empty.txt", "")
	code, out, stderr := runCmd("render", "--routes", routes, "--route", "graph", "--query", "validationToken=abc", payload)
	if code != exitOK || !strings.Contains(out, "a graph handshake") || strings.Contains(out, "POST") {
		t.Errorf("exit %d, out %q, stderr %q: want the graph handshake, nothing sent", code, out, stderr)
	}
}

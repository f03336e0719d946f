package mapping

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkWebhookGitHubIssue(b *testing.B) {
	dir := filepath.Join("..", "testdata", "github", "issues", "opened.payload.json")
	body, err := os.ReadFile(dir)
	if err != nil {
		b.Fatal(err)
	}
	c := mustDefault(b)
	h := http.Header{"X-Github-Event": {"issues"}, "X-Github-Delivery": {"d-1"}}
	h.Set("X-Hub-Signature-256", "sha256="+hexMAC([]byte(testSecrets["github"]), body))
	secrets := lookup(testSecrets)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Webhook(b.Context(), Request{Route: "github", Headers: h, Body: body, Now: testNow}, secrets); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseStrict is what a routes file given as BRIDGE_CONFIG costs
// at start-up, and `bridge validate`: every template and filter compiled.
func BenchmarkParseStrict(b *testing.B) {
	data := DefaultRoutesFile()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, DefaultFilename); err != nil {
			b.Fatal(err)
		}
	}
}

package e2e

import (
	"debug/buildinfo"
	"path/filepath"
	"strings"
	"testing"

	"github.com/talkjs-bridge/talkjs-bridge/localrun"
)

// TestBootstrapsTrustOnlyTheirOwnRoots checks each function binary verifies
// TLS with the roots compiled into it, so an outdated CA bundle on the host
// cannot break calls to TalkJS (the //go:debug line in each main.go).
func TestBootstrapsTrustOnlyTheirOwnRoots(t *testing.T) {
	for _, fn := range localrun.Functions {
		t.Run(fn, func(t *testing.T) {
			info, err := buildinfo.ReadFile(filepath.Join(buildDir, fn, "bootstrap"))
			if err != nil {
				t.Fatal(err)
			}
			var godebug string
			fallback := false
			for _, s := range info.Settings {
				if s.Key == "DefaultGODEBUG" {
					godebug = s.Value
				}
			}
			for _, dep := range info.Deps {
				if dep.Path == "golang.org/x/crypto/x509roots/fallback" {
					fallback = true
				}
			}
			if !strings.Contains(godebug, "x509usefallbackroots=1") || !fallback {
				t.Errorf("DefaultGODEBUG %q, fallback roots linked: %v; want x509usefallbackroots=1 with the roots linked in", godebug, fallback)
			}
		})
	}
}

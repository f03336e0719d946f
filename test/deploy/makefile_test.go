package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// makeCommand finds make, or skips: the Makefile's own behaviour cannot be
// checked without it (CI's machine has it).
func makeCommand(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not on PATH: the Makefile's targets were not run")
	}
	return p
}

// `make help` lists every target that has a ## comment, from those comments.
func TestMakeHelpListsTheDocumentedTargets(t *testing.T) {
	mk := makeCommand(t)
	data, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), mk, "--no-print-directory", "help")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	documented := regexp.MustCompile(`(?m)^## ([A-Za-z0-9_<>%-]+):`).FindAllSubmatch(data, -1)
	if len(documented) < 10 {
		t.Fatalf("%d documented targets in the Makefile; want the usual ones (build, test, demo, run, invoke, ...)", len(documented))
	}
	for _, m := range documented {
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(string(m[1])) + `\s`).Match(out) {
			t.Errorf("make help does not list %s:\n%s", m[1], out)
		}
	}
	targets := makefileTargets(t)
	for _, name := range []string{"build", "test", "demo", "run", "invoke", "deploy", "help"} {
		if !targets[name] || !strings.Contains(string(out), "  "+name+" ") {
			t.Errorf("target %s is missing or undocumented in make help", name)
		}
	}
}

// sam build sets ARTIFACTS_DIR; without it the build-<LogicalId> targets
// would write /bootstrap at the filesystem root, so they refuse.
func TestMakeBuildTargetsNeedArtifactsDir(t *testing.T) {
	mk := makeCommand(t)
	for _, id := range wantFunctions {
		t.Run(id, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), mk, "--no-print-directory", "build-"+id, "ARTIFACTS_DIR=")
			cmd.Dir = "../.."
			cmd.Env = append(os.Environ(), "ARTIFACTS_DIR=")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("make build-%s without ARTIFACTS_DIR succeeded:\n%s", id, out)
			}
			if !strings.Contains(string(out), "ARTIFACTS_DIR is not set") {
				t.Errorf("the refusal does not say why:\n%s", out)
			}
			if strings.Contains(string(out), "go build") {
				t.Errorf("make ran the build before refusing:\n%s", out)
			}
		})
	}
	// With it, the recipe builds the function's own main into that directory.
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), mk, "-n", "--no-print-directory", "build-QueueFunction", "ARTIFACTS_DIR="+dir)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build-QueueFunction: %v\n%s", err, out)
	}
	if want := "-o " + filepath.Join(dir, "bootstrap") + " ./functions/queue"; !strings.Contains(string(out), want) {
		t.Errorf("make -n build-QueueFunction does not run %q:\n%s", want, out)
	}
}

// A user's routes file is validated by every build and packaged next to the
// bootstrap; an invalid one fails the build naming the route.
func TestMakePackagesTheUsersRoutes(t *testing.T) {
	mk := makeCommand(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "routes:\n  mine:\n    verify: none\n    actions:\n      - conversation: {id: mine}\n        message: {text: 'hi {{ .payload.name }}'}\n")
	bad := write("bad.yaml", "routes:\n  orders:\n    verify: none\n    actions:\n      - conversation: {id: x}\n        message: {text: '{{ .payload.a '}\n")
	for _, tc := range []struct {
		name, routes string
		ok           bool
		want         string // in the output
	}{
		{"valid file is packaged", good, true, "good.yaml: ok: 1 route(s) [mine]"},
		{"invalid file fails naming the route", bad, false, "routes.orders.actions[0].message.text"},
		{"a named file must exist", filepath.Join(dir, "absent.yaml"), false, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "artifacts")
			cmd := exec.CommandContext(t.Context(), mk, "--no-print-directory", "package-routes", "ARTIFACTS_DIR="+out, "ROUTES="+tc.routes)
			cmd.Dir = "../.."
			got, err := cmd.CombinedOutput()
			if (err == nil) != tc.ok || !strings.Contains(string(got), tc.want) {
				t.Fatalf("make package-routes ROUTES=%s: err %v, want ok=%v and %q in:\n%s", filepath.Base(tc.routes), err, tc.ok, tc.want, got)
			}
			packaged, readErr := os.ReadFile(filepath.Join(out, "routes.yaml"))
			if tc.ok {
				want, _ := os.ReadFile(tc.routes)
				if readErr != nil || string(packaged) != string(want) {
					t.Errorf("routes.yaml not packaged as given (%v)", readErr)
				}
			} else if readErr == nil {
				t.Error("a routes.yaml was packaged although the build failed")
			}
		})
	}
	// Every function build packages it, before compiling.
	cmd := exec.CommandContext(t.Context(), mk, "-n", "--no-print-directory", "build-WebhookFunction", "ARTIFACTS_DIR="+dir, "ROUTES="+good)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if v, b := strings.Index(s, "cmd/bridge validate"), strings.Index(s, "go build"); v < 0 || b < 0 || v > b {
		t.Errorf("make build-WebhookFunction does not validate the routes file before building:\n%s", s)
	}
}

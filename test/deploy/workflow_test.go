package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const workflowPath = ".github/workflows/deploy.yml"

// goCommand finds the go command that runs `go tool actionlint`.
func goCommand() (string, bool) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, true
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p, true
	}
	return "", false
}

func TestWorkflowPassesActionlint(t *testing.T) {
	goBin, ok := goCommand()
	if !ok {
		t.Skip("go command not found in PATH or GOROOT: cannot run `go tool actionlint`")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "tool", "actionlint", workflowPath)
	cmd.Dir = "../.." // the module root, where go.mod declares the tool
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool actionlint %s: %v\n%s", workflowPath, err, out)
	}
}

// workflow is the part of a GitHub Actions workflow these tests read.
type workflow struct {
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress bool   `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Jobs map[string]struct {
		Needs       any               `yaml:"needs"`
		Permissions map[string]string `yaml:"permissions"`
		Steps       []step            `yaml:"steps"`
	} `yaml:"jobs"`
}

type step struct {
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

func TestWorkflowDeploysThroughOIDC(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", workflowPath))
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("parse %s: %v", workflowPath, err)
	}

	t.Run("triggers", func(t *testing.T) {
		push, _ := wf.On["push"].(map[string]any)
		branches, _ := push["branches"].([]any)
		if !slices.Contains(branches, any("main")) {
			t.Errorf("on.push.branches = %v, want main", branches)
		}
		if _, ok := wf.On["workflow_dispatch"]; !ok {
			t.Error("no workflow_dispatch trigger")
		}
	})

	t.Run("one deployment at a time", func(t *testing.T) {
		if wf.Concurrency.Group == "" || wf.Concurrency.CancelInProgress {
			t.Errorf("concurrency = %+v, want a group that does not cancel a deployment in progress", wf.Concurrency)
		}
	})

	t.Run("test job", func(t *testing.T) {
		job, ok := wf.Jobs["test"]
		if !ok {
			t.Fatal("no test job")
		}
		if !slices.ContainsFunc(job.Steps, func(s step) bool { return strings.TrimSpace(s.Run) == "make test" }) {
			t.Error("the test job does not run `make test`")
		}
	})

	t.Run("deploy job", func(t *testing.T) {
		job, ok := wf.Jobs["deploy"]
		if !ok {
			t.Fatal("no deploy job")
		}
		needs := job.Needs
		if l, ok := needs.([]any); ok && len(l) == 1 {
			needs = l[0]
		}
		if needs != "test" {
			t.Errorf("deploy needs %v, want test", job.Needs)
		}
		if job.Permissions["id-token"] != "write" || job.Permissions["contents"] != "read" {
			t.Errorf("deploy permissions = %v, want id-token: write, contents: read (OIDC)", job.Permissions)
		}
		var creds, sam, build, deploy bool
		for _, s := range job.Steps {
			if strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") {
				creds = true
				if s.With["role-to-assume"] != "${{ vars.AWS_DEPLOY_ROLE_ARN }}" || s.With["aws-region"] != "${{ vars.AWS_REGION }}" {
					t.Errorf("configure-aws-credentials with %v, want role-to-assume and aws-region from repository variables", s.With)
				}
				for k := range s.With {
					if strings.Contains(k, "access-key") || strings.Contains(k, "session-token") {
						t.Errorf("configure-aws-credentials gets %s: use OIDC, not long-lived keys", k)
					}
				}
			}
			sam = sam || strings.HasPrefix(s.Uses, "aws-actions/setup-sam@")
			build = build || strings.TrimSpace(s.Run) == "sam build"
			if strings.Contains(s.Run, "sam deploy") {
				deploy = true
				for _, flag := range []string{"--no-confirm-changeset", "--no-fail-on-empty-changeset", "--parameter-overrides", "TalkJSSecretArn="} {
					if !strings.Contains(s.Run, flag) {
						t.Errorf("sam deploy step lacks %s", flag)
					}
				}
			}
		}
		if !creds || !sam || !build || !deploy {
			t.Errorf("deploy job steps: configure-aws-credentials %v, setup-sam %v, sam build %v, sam deploy %v; want all", creds, sam, build, deploy)
		}
	})

	t.Run("actions pinned to a major version", func(t *testing.T) {
		pinned := regexp.MustCompile(`^[\w.-]+/[\w.-]+@v\d+$`)
		for name, job := range wf.Jobs {
			for _, s := range job.Steps {
				if s.Uses != "" && !pinned.MatchString(s.Uses) {
					t.Errorf("job %s uses %q, want owner/repo@v<major>", name, s.Uses)
				}
			}
		}
	})
}

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

const (
	deployWorkflow = ".github/workflows/deploy.yml"
	stackWorkflow  = ".github/workflows/deploy-stack.yml"
	prWorkflow     = ".github/workflows/pr.yml"
)

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

// workflowFiles lists every workflow, as paths from the module root.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join("..", "..", ".github", "workflows", pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(filepath.Join("..", ".."), f)
			files = append(files, filepath.ToSlash(rel))
		}
	}
	for _, want := range []string{deployWorkflow, stackWorkflow, prWorkflow} {
		if !slices.Contains(files, want) {
			t.Errorf("no %s", want)
		}
	}
	return files
}

func TestWorkflowsPassActionlint(t *testing.T) {
	goBin, ok := goCommand()
	if !ok {
		t.Skip("go command not found in PATH or GOROOT: cannot run `go tool actionlint`")
	}
	files := workflowFiles(t)
	cmd := exec.CommandContext(t.Context(), goBin, append([]string{"tool", "actionlint"}, files...)...)
	cmd.Dir = "../.." // the module root, where go.mod declares the tool
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool actionlint %s: %v\n%s", strings.Join(files, " "), err, out)
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
	Jobs map[string]job `yaml:"jobs"`
}

type job struct {
	Needs       any               `yaml:"needs"`
	Permissions map[string]string `yaml:"permissions"`
	Environment any               `yaml:"environment"`
	Uses        string            `yaml:"uses"`
	With        map[string]string `yaml:"with"`
	Steps       []step            `yaml:"steps"`
}

type step struct {
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

func loadWorkflow(t *testing.T, path string) workflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return wf
}

func needsOf(j job) string {
	if l, ok := j.Needs.([]any); ok && len(l) == 1 {
		s, _ := l[0].(string)
		return s
	}
	s, _ := j.Needs.(string)
	return s
}

func runs(j job, cmd string) bool {
	return slices.ContainsFunc(j.Steps, func(s step) bool { return strings.TrimSpace(s.Run) == cmd })
}

func uses(j job, action string) bool {
	return slices.ContainsFunc(j.Steps, func(s step) bool { return strings.HasPrefix(s.Uses, action+"@") })
}

// installsCfnLint: the job installs cfn-lint before make test, so the
// template is linted (make test skips cfn-lint when it is missing).
func installsCfnLint(t *testing.T, j job) bool {
	t.Helper()
	req, err := os.ReadFile("../../.github/requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^cfn-lint==`).Match(req) {
		t.Errorf(".github/requirements.txt does not pin cfn-lint")
	}
	return runs(j, "pip install -r .github/requirements.txt")
}

func TestPullRequestWorkflow(t *testing.T) {
	wf := loadWorkflow(t, prWorkflow)
	if _, ok := wf.On["pull_request"]; !ok {
		t.Error("pr.yml does not run on pull_request")
	}
	if wf.Permissions["contents"] != "read" || len(wf.Permissions) != 1 {
		t.Errorf("permissions = %v, want contents: read only (pull requests get no AWS access)", wf.Permissions)
	}
	var makeTest, lint, samValidate bool
	for name, j := range wf.Jobs {
		if j.Permissions["id-token"] != "" {
			t.Errorf("job %s asks for id-token: a pull request must not reach AWS", name)
		}
		if runs(j, "make test") {
			makeTest = true
			lint = installsCfnLint(t, j)
		}
		for _, s := range j.Steps {
			if strings.HasPrefix(strings.TrimSpace(s.Run), "sam validate --lint") {
				samValidate = uses(j, "aws-actions/setup-sam")
			}
		}
	}
	if !makeTest || !lint || !samValidate {
		t.Errorf("pr.yml: make test %v, cfn-lint installed for it %v, sam validate --lint (after setup-sam) %v; want all", makeTest, lint, samValidate)
	}
}

func TestDeployWorkflowGoesThroughStaging(t *testing.T) {
	wf := loadWorkflow(t, deployWorkflow)

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
		j, ok := wf.Jobs["test"]
		if !ok {
			t.Fatal("no test job")
		}
		if !runs(j, "make test") || !installsCfnLint(t, j) {
			t.Error("the test job does not install cfn-lint and run `make test`")
		}
	})

	t.Run("test, then staging, then production behind its environment", func(t *testing.T) {
		for _, tc := range []struct{ job, needs, environment string }{
			{"staging", "test", "staging"},
			{"production", "staging", "production"},
		} {
			j, ok := wf.Jobs[tc.job]
			if !ok {
				t.Errorf("no %s job", tc.job)
				continue
			}
			if got := needsOf(j); got != tc.needs {
				t.Errorf("%s needs %v, want %s", tc.job, j.Needs, tc.needs)
			}
			if j.Uses != "./"+stackWorkflow || j.With["environment"] != tc.environment {
				t.Errorf("%s: uses %q with %v, want %s with environment %s", tc.job, j.Uses, j.With, stackWorkflow, tc.environment)
			}
			if j.Permissions["id-token"] != "write" || j.Permissions["contents"] != "read" {
				t.Errorf("%s permissions = %v, want id-token: write, contents: read (OIDC)", tc.job, j.Permissions)
			}
		}
		if s, p := wf.Jobs["staging"].With["default-stack-name"], wf.Jobs["production"].With["default-stack-name"]; s == "" || s == p {
			t.Errorf("default stack names: staging %q, production %q; want two different stacks", s, p)
		}
	})
}

func TestDeployStackWorkflowUsesOIDC(t *testing.T) {
	wf := loadWorkflow(t, stackWorkflow)
	if _, ok := wf.On["workflow_call"]; !ok || len(wf.On) != 1 {
		t.Errorf("on = %v, want workflow_call only (deploy.yml calls it)", wf.On)
	}
	j, ok := wf.Jobs["deploy"]
	if !ok {
		t.Fatal("no deploy job")
	}
	if j.Environment != "${{ inputs.environment }}" {
		t.Errorf("environment = %v, want ${{ inputs.environment }}: its variables and required reviewers must apply", j.Environment)
	}
	if j.Permissions["id-token"] != "write" || j.Permissions["contents"] != "read" {
		t.Errorf("deploy permissions = %v, want id-token: write, contents: read (OIDC)", j.Permissions)
	}
	var creds, build, deploy bool
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") {
			creds = true
			if s.With["role-to-assume"] != "${{ vars.AWS_DEPLOY_ROLE_ARN }}" || s.With["aws-region"] != "${{ vars.AWS_REGION }}" {
				t.Errorf("configure-aws-credentials with %v, want role-to-assume and aws-region from the environment's variables", s.With)
			}
			for k := range s.With {
				if strings.Contains(k, "access-key") || strings.Contains(k, "session-token") {
					t.Errorf("configure-aws-credentials gets %s: use OIDC, not long-lived keys", k)
				}
			}
		}
		build = build || strings.TrimSpace(s.Run) == "sam build"
		if strings.Contains(s.Run, "sam deploy") {
			deploy = true
			for _, flag := range []string{"--stack-name", "--no-confirm-changeset", "--no-fail-on-empty-changeset", "--parameter-overrides", "TalkJSSecretArn="} {
				if !strings.Contains(s.Run, flag) {
					t.Errorf("sam deploy step lacks %s", flag)
				}
			}
		}
	}
	if !creds || !uses(j, "aws-actions/setup-sam") || !build || !deploy {
		t.Errorf("deploy job steps: configure-aws-credentials %v, setup-sam %v, sam build %v, sam deploy %v; want all", creds, uses(j, "aws-actions/setup-sam"), build, deploy)
	}
}

// Third-party actions are pinned to a full commit SHA (a tag can be moved
// to other code), with the version in a comment for people and Dependabot.
func TestActionsPinnedByCommit(t *testing.T) {
	pinned := regexp.MustCompile(`^uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s*v\d+(\.\d+)*\s*$`)
	for _, f := range workflowFiles(t) {
		data, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			l := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
			if !strings.HasPrefix(l, "uses:") || strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(l, "uses:")), "./") {
				continue
			}
			if !pinned.MatchString(l) {
				t.Errorf("%s:%d: %q: pin the action to a commit SHA with its version in a comment (owner/repo@<40 hex> # vX.Y.Z)", f, i+1, l)
			}
		}
	}
}

func TestDependabotCoversModulesAndActions(t *testing.T) {
	data, err := os.ReadFile("../../.github/dependabot.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int `yaml:"version"`
		Updates []struct {
			Ecosystem string `yaml:"package-ecosystem"`
			Directory string `yaml:"directory"`
		} `yaml:"updates"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range cfg.Updates {
		got[u.Ecosystem] = u.Directory
	}
	if cfg.Version != 2 || got["gomod"] != "/" || got["github-actions"] != "/" || got["pip"] != "/.github" {
		t.Errorf("dependabot.yml: version %d, updates %v; want version 2 with gomod /, github-actions / and pip /.github", cfg.Version, got)
	}
}

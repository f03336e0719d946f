package setup

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const ownRoutes = `routes:
  mine:
    verify: none
    actions:
      - conversation: {id: mine}
        message: {text: 'hello {{ .payload.name }}'}
`

// A user's routes.yaml, packaged next to the bootstrap by make build or sam
// build, is what the function serves; BRIDGE_CONFIG still wins; without
// either the embedded routes apply; a broken packaged file fails start-up.
func TestPackagedRoutesFile(t *testing.T) {
	withFile := t.TempDir()
	if err := os.WriteFile(filepath.Join(withFile, PackagedRoutesFile), []byte(ownRoutes), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, PackagedRoutesFile), []byte("routes:\n  bad:\n    verify: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	configured := filepath.Join(t.TempDir(), "configured.yaml")
	if err := os.WriteFile(configured, []byte(strings.ReplaceAll(ownRoutes, "mine", "configured")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, taskRoot, config string
		want                   []string // routes; nil: start-up fails
		wantErr                string
	}{
		{name: "packaged file", taskRoot: withFile, want: []string{"mine"}},
		{name: "BRIDGE_CONFIG wins", taskRoot: withFile, config: configured, want: []string{"configured"}},
		{name: "nothing packaged: embedded routes", taskRoot: t.TempDir(), want: []string{"github"}},
		{name: "not under Lambda: embedded routes", want: []string{"github"}},
		{name: "broken packaged file", taskRoot: broken, wantErr: "routes.bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"TALKJS_SECRET_KEY": "sk_test_x_0123456789", "TALKJS_APP_ID": "t1",
				"LAMBDA_TASK_ROOT": tc.taskRoot, "BRIDGE_CONFIG": tc.config}
			d, err := From(t.Context(), func(k string) string { return env[k] }, "webhook", &bytes.Buffer{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.want {
				if !slices.Contains(d.Routes.Routes(), r) {
					t.Errorf("routes %v, want %s among them", d.Routes.Routes(), r)
				}
			}
			if tc.want[0] != "github" && slices.Contains(d.Routes.Routes(), "github") {
				t.Errorf("routes %v: the embedded routes are mixed in", d.Routes.Routes())
			}
		})
	}
}

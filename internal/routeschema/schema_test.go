package routeschema

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite routes.schema.json from the Go types")

const checkedIn = "../../routes.schema.json"

func TestSchemaIsCurrent(t *testing.T) {
	got, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(checkedIn, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(checkedIn)
	if err != nil {
		t.Fatalf("%v (go test ./internal/routeschema -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("routes.schema.json is not what the Go types generate: run go test ./internal/routeschema -update and commit it")
	}
}

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource(ID, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(ID)
	if err != nil {
		t.Fatalf("the generated schema does not compile: %v", err)
	}
	return s
}

// yamlToJSON decodes a YAML document into the values a JSON Schema sees.
func yamlToJSON(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// examples are every routes file the project shows: the embedded one and
// each whole routes file in the README.
func examples(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	b, err := os.ReadFile("../../mapping/routes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out["mapping/routes.yaml"] = b
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	for _, m := range re.FindAllSubmatchIndex(readme, -1) {
		block := readme[m[2]:m[3]]
		if !regexp.MustCompile(`(?m)^routes:`).Match(block) {
			continue // a fragment, not a whole file
		}
		out[fmt.Sprintf("README.md:%d", bytes.Count(readme[:m[2]], []byte("\n"))+1)] = block
	}
	return out
}

func TestEveryExampleValidates(t *testing.T) {
	s := compile(t)
	for name, src := range examples(t) {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(yamlToJSON(t, src)); err != nil {
				t.Errorf("%s does not validate against routes.schema.json: %v", name, err)
			}
		})
	}
}

// The schema refuses what the parser refuses for its shape, so an editor
// flags it while typing.
func TestSchemaRefusesBadShapes(t *testing.T) {
	s := compile(t)
	for _, tc := range []struct{ name, src string }{
		{"unknown top-level key", "routes: {}\nroute: {}\n"},
		{"unknown action key", "routes:\n  r:\n    verify: none\n    actions:\n      - conversation: {id: x}\n        message: {text: hi}\n        mesage: {text: typo}\n"},
		{"unknown preset", "routes:\n  r:\n    verify: githubb\n    actions:\n      - conversation: {id: x}\n        message: {text: hi}\n"},
		{"route without actions", "routes:\n  r:\n    verify: none\n"},
		{"message without text", "routes:\n  r:\n    verify: none\n    actions:\n      - conversation: {id: x}\n        message: {type: SystemMessage}\n"},
		{"bad message type", "routes:\n  r:\n    verify: none\n    actions:\n      - conversation: {id: x}\n        message: {type: Shout, text: hi}\n"},
		{"limit too small", "routes: {}\nlimits: {maxTextLength: 5}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Validate(yamlToJSON(t, []byte(tc.src))); err == nil {
				t.Errorf("the schema accepts:\n%s", tc.src)
			}
		})
	}
}

// TestKeysMatchTheParser: the keys of every closed object of the schema are
// exactly the key lists the parser accepts (parse.go, reminder.go, notify.go), so a key
// added to one is added to the other.
func TestKeysMatchTheParser(t *testing.T) {
	vars := map[string]string{}
	var src string
	for _, f := range []string{"../../mapping/parse.go", "../../mapping/reminder.go", "../../mapping/notify.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src += string(b)
	}
	for _, m := range regexp.MustCompile(`var (\w+Keys) = \[\]string\{([^}]*)\}`).FindAllStringSubmatch(src, -1) {
		vars[m[1]] = m[2]
	}
	parser := map[string]bool{}
	for _, m := range regexp.MustCompile(`p\.mapping\(([^()]*)\)`).FindAllStringSubmatch(src, -1) {
		args := strings.Split(m[1], ", ")
		if len(args) <= 3 {
			continue // a free-form mapping (custom, users, routes by name)
		}
		list := strings.Join(args[3:], ", ")
		if v := regexp.MustCompile(`(\w+Keys)\.\.\.`).FindStringSubmatch(list); v != nil {
			list = vars[v[1]]
		}
		parser[keySet(regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(list, -1))] = true
	}
	if len(parser) < 8 {
		t.Fatalf("found %d key lists in the parser; the pattern no longer matches parse.go", len(parser))
	}

	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	schema := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok && v["additionalProperties"] == false {
				var keys [][]string
				for k := range props {
					keys = append(keys, []string{"", k})
				}
				schema[keySet(keys)] = true
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(root)
	for k := range parser {
		if !schema[k] {
			t.Errorf("the parser accepts keys {%s}; no object of the schema has exactly those", k)
		}
	}
	for k := range schema {
		if !parser[k] {
			t.Errorf("the schema has an object with keys {%s}; the parser has no such list", k)
		}
	}
}

func keySet(matches [][]string) string {
	var keys []string
	for _, m := range matches {
		keys = append(keys, m[1])
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

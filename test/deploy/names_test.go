package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// nameProperties are the properties that fix a resource's physical name.
// CloudFormation generates a unique name when they are left out; a literal
// value keeps a second stack (staging next to production) from being created
// in the same account and region.
var nameProperties = []string{
	"Name", "FunctionName", "QueueName", "LogGroupName", "RuleName", "DashboardName",
	"AlarmName", "TopicName", "RoleName", "StateMachineName", "TableName", "BucketName",
	"ScheduleGroupName",
}

// fixedNames lists every physical name in props that is fixed: a literal, or
// an intrinsic that does not involve the stack name. where prefixes each.
func fixedNames(where string, props map[string]any) []string {
	var out []string
	for _, k := range nameProperties {
		v, ok := props[k]
		if !ok {
			continue
		}
		if !derivedFromStack(v) {
			out = append(out, fmt.Sprintf("%s: %s = %v is fixed; derive it from ${AWS::StackName} or leave it out", where, k, v))
		}
	}
	return out
}

// derivedFromStack reports whether v mentions the stack's name, which is
// unique per account and region.
func derivedFromStack(v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	s := string(b)
	return strings.Contains(s, `${AWS::StackName}`) || strings.Contains(s, `"Ref":"AWS::StackName"`) || strings.Contains(s, `"Ref":"AWS::StackId"`)
}

// samEventNames lists the physical names SAM would fix for a function's
// event: a Schedule rule's Name, and a ScheduleV2 schedule, which SAM names
// <FunctionId><EventName> unless OmitName is true or Name is derived.
func samEventNames(fn, name string, ev samEvent) []string {
	where := fmt.Sprintf("%s event %s (%s)", fn, name, ev.Type)
	switch ev.Type {
	case "Schedule", "EventBridgeRule", "CloudWatchEvent":
		return fixedNames(where, ev.Properties)
	case "ScheduleV2":
		if n, ok := ev.Properties["Name"]; ok {
			return fixedNames(where, map[string]any{"Name": n})
		}
		if ev.Properties["OmitName"] != true {
			return []string{fmt.Sprintf("%s: SAM names the schedule %s%s; set OmitName: true or a Name derived from the stack", where, fn, name)}
		}
	}
	return nil
}

// referencesFunction are the resource types whose FunctionName property
// points at an existing function instead of naming a new resource.
var referencesFunction = map[string]bool{
	"AWS::Lambda::Permission":         true,
	"AWS::Lambda::EventSourceMapping": true,
	"AWS::Lambda::EventInvokeConfig":  true,
}

func TestNoFixedPhysicalNames(t *testing.T) {
	tmpl := loadTemplate(t)
	var problems []string
	for id, r := range tmpl.Resources {
		var props map[string]any
		if len(r.Properties) > 0 {
			if err := json.Unmarshal(r.Properties, &props); err != nil {
				t.Fatalf("%s: decode: %v", id, err)
			}
		}
		if referencesFunction[r.Type] {
			// Its FunctionName says which function it is about (a Ref of
			// one of ours); it names nothing of its own.
			delete(props, "FunctionName")
		}
		problems = append(problems, fixedNames(id, props)...)
	}
	for id, f := range tmpl.functions(t) {
		for name, ev := range f.Events {
			problems = append(problems, samEventNames(id, name, ev)...)
		}
	}
	slices.Sort(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

// The checker itself, on names it must accept and refuse.
func TestFixedNameChecker(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]any
		fixed bool
	}{
		{"no name", map[string]any{"Description": "x"}, false},
		{"literal rule name", map[string]any{"Name": "standup"}, true},
		{"literal queue name", map[string]any{"QueueName": "commands"}, true},
		{"derived with Sub", map[string]any{"Name": map[string]any{"Fn::Sub": "${AWS::StackName}-standup"}}, false},
		{"Ref of a parameter", map[string]any{"FunctionName": map[string]any{"Ref": "FnName"}}, true},
		{"Ref of the stack name", map[string]any{"TopicName": map[string]any{"Ref": "AWS::StackName"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(fixedNames("r", tc.props)) > 0; got != tc.fixed {
				t.Errorf("fixed = %v, want %v", got, tc.fixed)
			}
		})
	}
	if got := samEventNames("Fn", "Daily", samEvent{Type: "ScheduleV2", Properties: map[string]any{}}); len(got) == 0 {
		t.Error("a ScheduleV2 event without OmitName or Name was not reported: SAM names it FnDaily")
	}
	if got := samEventNames("Fn", "Daily", samEvent{Type: "ScheduleV2", Properties: map[string]any{"OmitName": true}}); len(got) != 0 {
		t.Errorf("OmitName: true reported: %v", got)
	}
}

// TestCfnLint runs cfn-lint, informational findings included, when it is
// installed (CI installs it; `pip install cfn-lint` locally). Its findings
// cover what these tests do not: property types, SAM transform errors,
// DeletionPolicy on stateful resources (I3011).
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not on PATH (pip install cfn-lint); template.yaml was not linted")
	}
	if _, err := os.Stat("../../template.yaml"); err != nil {
		t.Fatal(err)
	}
	// -t before --include-checks: the latter takes a list and would
	// swallow a file name after it.
	cmd := exec.CommandContext(t.Context(), bin, "-t", "template.yaml", "--include-checks", "I")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cfn-lint -t template.yaml --include-checks I: %v\n%s", err, out)
	}
}

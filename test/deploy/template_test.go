package deploy

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/sqs"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/talkjs-bridge/talkjs-bridge/internal/config"
)

// The functions template.yaml must define, by logical id. sam build runs
// `make build-<LogicalId>` for each, so the Makefile must have those targets.
var wantFunctions = []string{"WebhookFunction", "QueueFunction", "ScheduleFunction"}

// samTemplate is the part of template.yaml these tests read.
//
// The file is read with goformation's intrinsics.ProcessYAML, which turns the
// short-form tags (!Ref, !GetAtt, !Sub, !If) into their long JSON form. It is
// not decoded into goformation's typed AWS::Serverless::Function: v7.14.9's SAM
// model predates LoggingConfig, the SQS event's FunctionResponseTypes and
// ScalingConfig, and ScheduleV2, and it rejects unknown fields, so
// goformation.ParseYAML fails on a current SAM template. Functions are decoded
// into samFunction below instead; parameters, outputs and SQS queues use
// goformation's own types.
type samTemplate struct {
	Transform  any
	Parameters map[string]cloudformation.Parameter
	Conditions map[string]any
	Globals    struct {
		Function samFunction
	}
	Resources map[string]resource
	Outputs   map[string]cloudformation.Output

	raw any // the whole template, for walking every intrinsic function
}

type resource struct {
	Type       string
	Condition  string
	Metadata   map[string]any
	Properties json.RawMessage
	raw        json.RawMessage
}

func (r *resource) UnmarshalJSON(b []byte) error {
	type plain resource
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = resource(p)
	r.raw = append(json.RawMessage(nil), b...)
	return nil
}

type samFunction struct {
	Description   string
	CodeUri       any
	Runtime       string
	Architectures []string
	Handler       string
	MemorySize    int
	Timeout       int
	Tracing       string
	LoggingConfig map[string]any
	Environment   struct {
		Variables map[string]any
	}
	Events   map[string]samEvent
	Policies []any
}

type samEvent struct {
	Type       string
	Properties map[string]any
}

// loadTemplate parses ../template.yaml.
func loadTemplate(t *testing.T) samTemplate {
	t.Helper()
	data, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	// NoProcess keeps intrinsic functions as they are written instead of
	// resolving them against parameter defaults, so the tests see which
	// resource a Ref or GetAtt points at.
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	var tmpl samTemplate
	if err := json.Unmarshal(js, &tmpl); err != nil {
		t.Fatalf("decode template.yaml: %v", err)
	}
	if err := json.Unmarshal(js, &tmpl.raw); err != nil {
		t.Fatalf("decode template.yaml: %v", err)
	}
	if len(tmpl.Resources) == 0 {
		t.Fatal("template.yaml has no Resources")
	}
	return tmpl
}

// functions returns every AWS::Serverless::Function by logical id, with the
// Globals applied the way the SAM transform applies them: a scalar on the
// function wins, lists are concatenated (global first), maps are merged.
func (tmpl samTemplate) functions(t *testing.T) map[string]samFunction {
	t.Helper()
	g := tmpl.Globals.Function
	fns := map[string]samFunction{}
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		var f samFunction
		if err := json.Unmarshal(r.Properties, &f); err != nil {
			t.Fatalf("%s: decode properties: %v", id, err)
		}
		if f.Runtime == "" {
			f.Runtime = g.Runtime
		}
		f.Architectures = append(slices.Clone(g.Architectures), f.Architectures...)
		if f.Handler == "" {
			f.Handler = g.Handler
		}
		if f.MemorySize == 0 {
			f.MemorySize = g.MemorySize
		}
		if f.Timeout == 0 {
			f.Timeout = g.Timeout
		}
		if f.Tracing == "" {
			f.Tracing = g.Tracing
		}
		if f.CodeUri == nil {
			f.CodeUri = g.CodeUri
		}
		logging := map[string]any{}
		for k, v := range g.LoggingConfig {
			logging[k] = v
		}
		for k, v := range f.LoggingConfig {
			logging[k] = v
		}
		f.LoggingConfig = logging
		vars := map[string]any{}
		for k, v := range g.Environment.Variables {
			vars[k] = v
		}
		for k, v := range f.Environment.Variables {
			vars[k] = v
		}
		f.Environment.Variables = vars
		fns[id] = f
	}
	return fns
}

// queue decodes an AWS::SQS::Queue with goformation's type.
func (tmpl samTemplate) queue(t *testing.T, id string) *sqs.Queue {
	t.Helper()
	r, ok := tmpl.Resources[id]
	if !ok || r.Type != "AWS::SQS::Queue" {
		t.Fatalf("%s is not an AWS::SQS::Queue in template.yaml", id)
	}
	var raw any
	if err := json.Unmarshal(r.raw, &raw); err != nil {
		t.Fatalf("%s: decode queue: %v", id, err)
	}
	// goformation's typed fields cannot hold an Fn::If (FifoQueue's, say):
	// the queue is decoded as deployed with the parameters' defaults.
	b, err := json.Marshal(resolveIfs(raw, defaultConditions))
	if err != nil {
		t.Fatal(err)
	}
	var q sqs.Queue
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatalf("%s: decode queue: %v", id, err)
	}
	return &q
}

// defaultConditions are the template's conditions with every parameter at
// its default: queued intake, a standard command queue.
var defaultConditions = map[string]bool{"QueuedIntake": true, "FifoCommandQueue": false}

// resolveIfs replaces each Fn::If whose condition conds knows with the
// branch it picks, dropping a key or list element whose value becomes
// AWS::NoValue.
func resolveIfs(v any, conds map[string]bool) any {
	noValue := func(x any) bool { return ref(x) == "AWS::NoValue" }
	switch v := v.(type) {
	case map[string]any:
		if args, ok := v["Fn::If"].([]any); ok && len(v) == 1 && len(args) == 3 {
			name, _ := args[0].(string)
			if c, known := conds[name]; known {
				if c {
					return resolveIfs(args[1], conds)
				}
				return resolveIfs(args[2], conds)
			}
		}
		out := map[string]any{}
		for k, x := range v {
			if r := resolveIfs(x, conds); !noValue(r) {
				out[k] = r
			}
		}
		return out
	case []any:
		var out []any
		for _, x := range v {
			if r := resolveIfs(x, conds); !noValue(r) {
				out = append(out, r)
			}
		}
		return out
	}
	return v
}

// ifArgs returns the condition and both branches of {"Fn::If": [c, a, b]}.
func ifArgs(v any) (cond string, yes, no any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, nil, false
	}
	args, isList := m["Fn::If"].([]any)
	if !isList || len(args) != 3 {
		return "", nil, nil, false
	}
	cond, _ = args[0].(string)
	return cond, args[1], args[2], cond != ""
}

// ref returns X for {"Ref": X}, else "".
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return ""
	}
	s, _ := m["Ref"].(string)
	return s
}

// getAtt returns the resource and attribute of {"Fn::GetAtt": "X.Y"} or
// {"Fn::GetAtt": [X, Y]}.
func getAtt(v any) (res, attr string) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", ""
	}
	switch a := m["Fn::GetAtt"].(type) {
	case string:
		res, attr, _ = strings.Cut(a, ".")
	case []any:
		if len(a) == 2 {
			res, _ = a[0].(string)
			attr, _ = a[1].(string)
		}
	}
	return res, attr
}

// makefileTargets returns the targets defined in ../Makefile.
func makefileTargets(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile("../../Makefile")
	if err != nil {
		want := make([]string, len(wantFunctions))
		for i, id := range wantFunctions {
			want[i] = "build-" + id
		}
		t.Fatalf("read ../Makefile: %v; sam build needs its targets %s", err, strings.Join(want, ", "))
	}
	targets := map[string]bool{}
	// "a b c: ..." (several targets, or a static pattern rule) defines each.
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z0-9_.%/ -]+?)\s*:([^=]|$)`).FindAllSubmatch(data, -1) {
		for _, name := range strings.Fields(string(m[1])) {
			targets[name] = true
		}
	}
	return targets
}

func TestTemplate(t *testing.T) {
	tmpl := loadTemplate(t)
	fns := tmpl.functions(t)

	t.Run("SAM transform", func(t *testing.T) {
		if s, _ := tmpl.Transform.(string); s != "AWS::Serverless-2016-10-31" {
			t.Errorf("Transform = %v, want AWS::Serverless-2016-10-31", tmpl.Transform)
		}
	})

	t.Run("functions", func(t *testing.T) {
		var got []string
		for id := range fns {
			got = append(got, id)
		}
		sort.Strings(got)
		want := slices.Sorted(slices.Values(wantFunctions))
		if !slices.Equal(got, want) {
			t.Errorf("functions = %v, want %v", got, want)
		}
	})

	t.Run("every function builds with a Makefile target", func(t *testing.T) {
		targets := makefileTargets(t)
		for id, f := range fns {
			if bm, _ := tmpl.Resources[id].Metadata["BuildMethod"].(string); bm != "makefile" {
				t.Errorf("%s: Metadata.BuildMethod = %q, want makefile", id, bm)
			}
			if f.CodeUri != "." {
				t.Errorf("%s: CodeUri = %v, want . (the directory holding the Makefile)", id, f.CodeUri)
			}
			if target := "build-" + id; !targets[target] {
				t.Errorf("%s: ../Makefile has no %s target; sam build runs `make %s` with ARTIFACTS_DIR set", id, target, target)
			}
		}
	})

	t.Run("runtime", func(t *testing.T) {
		for id, f := range fns {
			if f.Runtime != "provided.al2023" {
				t.Errorf("%s: Runtime = %q, want provided.al2023", id, f.Runtime)
			}
			if !slices.Equal(f.Architectures, []string{"arm64"}) {
				t.Errorf("%s: Architectures = %v, want [arm64] (the Makefile builds GOARCH=arm64)", id, f.Architectures)
			}
			if f.Handler != "bootstrap" {
				t.Errorf("%s: Handler = %q, want bootstrap", id, f.Handler)
			}
			if f.MemorySize != 128 {
				t.Errorf("%s: MemorySize = %d, want 128 (the bridge is built to work in the smallest size)", id, f.MemorySize)
			}
			if f.Timeout <= 0 {
				t.Errorf("%s: Timeout = %d, want a positive number of seconds", id, f.Timeout)
			}
		}
	})

	t.Run("logs are JSON", func(t *testing.T) {
		for id, f := range fns {
			if f.LoggingConfig["LogFormat"] != "JSON" {
				t.Errorf("%s: LoggingConfig.LogFormat = %v, want JSON", id, f.LoggingConfig["LogFormat"])
			}
			for _, k := range []string{"ApplicationLogLevel", "SystemLogLevel"} {
				if f.LoggingConfig[k] == nil {
					t.Errorf("%s: LoggingConfig.%s is not set", id, k)
				}
			}
		}
	})

	t.Run("environment variables are ones the code reads", func(t *testing.T) {
		for id, f := range fns {
			for name := range f.Environment.Variables {
				if !slices.Contains(config.Variables, name) {
					t.Errorf("%s: sets %s, which the code never reads (config.Variables: %v)", id, name, config.Variables)
				}
			}
			// A key in an environment variable is visible to anyone who can
			// read the function's configuration; deployed functions read it
			// from Secrets Manager.
			if _, ok := f.Environment.Variables[config.EnvSecretKey]; ok {
				t.Errorf("%s: sets %s; deployed functions must read the key from Secrets Manager", id, config.EnvSecretKey)
			}
			if got := ref(f.Environment.Variables[config.EnvSecretID]); got != "TalkJSSecretArn" {
				t.Errorf("%s: %s = %v, want !Ref TalkJSSecretArn", id, config.EnvSecretID, f.Environment.Variables[config.EnvSecretID])
			}
		}
		q := fns["QueueFunction"]
		if got := ref(q.Environment.Variables[config.EnvRejectsQueueURL]); got != "RejectsQueue" {
			t.Errorf("QueueFunction: %s = %v, want !Ref RejectsQueue", config.EnvRejectsQueueURL, q.Environment.Variables[config.EnvRejectsQueueURL])
		}
		tmpl.queue(t, "RejectsQueue")
	})

	t.Run("webhook intake: queued by default, FIFO on demand", func(t *testing.T) {
		for name, def := range map[string]string{"WebhookIntake": "queued", "CommandQueueFifo": "false"} {
			p, ok := tmpl.Parameters[name]
			if !ok {
				t.Errorf("no parameter %s", name)
				continue
			}
			if p.Default != def {
				t.Errorf("parameter %s: Default = %v, want %q", name, p.Default, def)
			}
		}
		if got := tmpl.Parameters["WebhookIntake"].AllowedValues; !slices.Equal(got, []any{"queued", "direct"}) {
			t.Errorf("WebhookIntake AllowedValues = %v, want [queued direct]", got)
		}
		for name, want := range map[string]string{
			"QueuedIntake":     `{"Fn::Equals":[{"Ref":"WebhookIntake"},"queued"]}`,
			"FifoCommandQueue": `{"Fn::Equals":[{"Ref":"CommandQueueFifo"},"true"]}`,
		} {
			if b, _ := json.Marshal(tmpl.Conditions[name]); string(b) != want {
				t.Errorf("condition %s = %s, want %s", name, b, want)
			}
		}
		for id, f := range fns {
			v, set := f.Environment.Variables[config.EnvCommandQueueURL]
			if id != "WebhookFunction" {
				if set {
					t.Errorf("%s sets %s; only the webhook function enqueues", id, config.EnvCommandQueueURL)
				}
				continue
			}
			cond, yes, no, ok := ifArgs(v)
			if !ok || cond != "QueuedIntake" || ref(yes) != "CommandQueue" || ref(no) != "AWS::NoValue" {
				t.Errorf("WebhookFunction %s = %v, want !If [QueuedIntake, !Ref CommandQueue, !Ref AWS::NoValue]", config.EnvCommandQueueURL, v)
			}
		}
		for _, id := range []string{"CommandQueue", "DeadLetterQueue"} {
			var q struct{ Properties map[string]any }
			if err := json.Unmarshal(tmpl.Resources[id].raw, &q); err != nil {
				t.Fatal(err)
			}
			cond, yes, no, ok := ifArgs(q.Properties["FifoQueue"])
			if !ok || cond != "FifoCommandQueue" || yes != true || ref(no) != "AWS::NoValue" {
				t.Errorf("%s FifoQueue = %v, want !If [FifoCommandQueue, true, !Ref AWS::NoValue] (a FIFO queue needs a FIFO dead-letter queue)", id, q.Properties["FifoQueue"])
			}
		}
	})

	t.Run("tracing is active", func(t *testing.T) {
		for id, f := range fns {
			if f.Tracing != "Active" {
				t.Errorf("%s: Tracing = %q, want Active", id, f.Tracing)
			}
		}
		apis := 0
		for id, r := range tmpl.Resources {
			if r.Type != "AWS::Serverless::Api" {
				continue
			}
			apis++
			var api struct{ TracingEnabled bool }
			if err := json.Unmarshal(r.Properties, &api); err != nil {
				t.Fatalf("%s: decode: %v", id, err)
			}
			if !api.TracingEnabled {
				t.Errorf("%s: TracingEnabled is not true", id)
			}
		}
		if apis == 0 {
			t.Error("no AWS::Serverless::Api: the webhook needs a REST API")
		}
	})

	t.Run("webhook route", func(t *testing.T) {
		// The front doors are resources under a condition, not SAM events:
		// SAM would generate an event's permission without the condition.
		for name, ev := range fns["WebhookFunction"].Events {
			switch ev.Type {
			case "Api", "HttpApi":
				t.Errorf("WebhookFunction event %s (%s): wire the front door as a resource with its own permission (see WebhookFrontDoor)", name, ev.Type)
			}
		}
		checkWebhookRoutes(t, tmpl)
	})

	t.Run("SQS event reports batch item failures", func(t *testing.T) {
		var sqsEvents []samEvent
		for _, ev := range fns["QueueFunction"].Events {
			if ev.Type == "SQS" {
				sqsEvents = append(sqsEvents, ev)
			}
		}
		if len(sqsEvents) != 1 {
			t.Fatalf("QueueFunction has %d SQS events, want 1", len(sqsEvents))
		}
		p := sqsEvents[0].Properties
		types, _ := p["FunctionResponseTypes"].([]any)
		if !slices.Contains(types, any("ReportBatchItemFailures")) {
			t.Errorf("FunctionResponseTypes = %v, want [ReportBatchItemFailures]: without it one failed record makes SQS deliver the whole batch again", p["FunctionResponseTypes"])
		}
		scaling, _ := p["ScalingConfig"].(map[string]any)
		window := p["MaximumBatchingWindowInSeconds"]
		// Lambda refuses a batching window on a FIFO queue: the window is
		// left out when CommandQueueFifo makes the queue FIFO.
		if cond, yes, no, ok := ifArgs(window); ok {
			if cond != "FifoCommandQueue" || ref(yes) != "AWS::NoValue" {
				t.Errorf("MaximumBatchingWindowInSeconds = %v, want !If [FifoCommandQueue, !Ref AWS::NoValue, !Ref <parameter>]", window)
			}
			window = no
		}
		for key, v := range map[string]any{
			"BatchSize":                        p["BatchSize"],
			"MaximumBatchingWindowInSeconds":   window,
			"ScalingConfig.MaximumConcurrency": scaling["MaximumConcurrency"],
		} {
			param := ref(v)
			if _, ok := tmpl.Parameters[param]; !ok {
				t.Errorf("%s = %v, want a !Ref to a template parameter", key, v)
			}
		}
		if p, ok := tmpl.Parameters["QueueMaxConcurrency"]; !ok || p.MinValue == nil || *p.MinValue < 2 {
			t.Error("parameter QueueMaxConcurrency needs MinValue 2 (SQS refuses a maximum concurrency below 2)")
		}
		if q, attr := getAtt(p["Queue"]); q != "CommandQueue" || attr != "Arn" {
			t.Errorf("Queue = %v, want !GetAtt CommandQueue.Arn", p["Queue"])
		}
	})

	t.Run("command queue redrive and visibility timeout", func(t *testing.T) {
		q := tmpl.queue(t, "CommandQueue")
		timeout := fns["QueueFunction"].Timeout
		if q.VisibilityTimeout == nil || *q.VisibilityTimeout < 6*timeout {
			t.Errorf("CommandQueue VisibilityTimeout = %v, want at least 6 x QueueFunction Timeout (%d s) = %d s", deref(q.VisibilityTimeout), timeout, 6*timeout)
		}
		redrive, _ := q.RedrivePolicy.(map[string]any)
		if n, _ := redrive["maxReceiveCount"].(float64); n != 5 {
			t.Errorf("RedrivePolicy.maxReceiveCount = %v, want 5", redrive["maxReceiveCount"])
		}
		dlq, attr := getAtt(redrive["deadLetterTargetArn"])
		if dlq == "" || dlq == "CommandQueue" || attr != "Arn" {
			t.Fatalf("RedrivePolicy.deadLetterTargetArn = %v, want !GetAtt <another queue>.Arn", redrive["deadLetterTargetArn"])
		}
		if dlq != "DeadLetterQueue" {
			t.Errorf("dead-letter queue is %s, want DeadLetterQueue (the DeadLetterQueueUrl output and alarm refer to it)", dlq)
		}
		d := tmpl.queue(t, dlq)
		if d.MessageRetentionPeriod == nil || (q.MessageRetentionPeriod != nil && *d.MessageRetentionPeriod <= *q.MessageRetentionPeriod) {
			t.Errorf("%s MessageRetentionPeriod = %v, want longer than CommandQueue's %v: a record keeps its enqueue time when it moves", dlq, deref(d.MessageRetentionPeriod), deref(q.MessageRetentionPeriod))
		}
	})

	t.Run("policies grant no Resource *", func(t *testing.T) {
		// SAM itself attaches managed policies whose statements use Resource
		// "*": AWSLambdaBasicExecutionRole (logs), AWSXrayWriteOnlyAccess for
		// Tracing: Active (X-Ray's PutTraceSegments and sampling calls have no
		// resource-level permissions) and AWSLambdaSQSQueueExecutionRole for
		// the SQS event. They come from the transform, not from this template,
		// and are the one documented exception; the template adds no managed
		// policies of its own, so every grant it writes is checked here.
		// A policy under !If [Condition, policy, !Ref AWS::NoValue] is
		// granted only under that condition: "<resource> if <Condition>".
		want := map[string]map[string]string{
			"WebhookFunction":  {"secretsmanager:GetSecretValue": "Ref TalkJSSecretArn", "kms:Decrypt": "Ref SecretKmsKeyArn if HasSecretKmsKey", "sqs:SendMessage": "GetAtt CommandQueue.Arn if QueuedIntake"},
			"QueueFunction":    {"secretsmanager:GetSecretValue": "Ref TalkJSSecretArn", "kms:Decrypt": "Ref SecretKmsKeyArn if HasSecretKmsKey", "sqs:SendMessage": "GetAtt RejectsQueue.Arn"},
			"ScheduleFunction": {"secretsmanager:GetSecretValue": "Ref TalkJSSecretArn", "kms:Decrypt": "Ref SecretKmsKeyArn if HasSecretKmsKey"},
		}
		for id, f := range fns {
			got := map[string]string{}
			for i, p := range f.Policies {
				suffix := ""
				if cond, yes, no, ok := ifArgs(p); ok {
					if ref(no) != "AWS::NoValue" {
						t.Errorf("%s: Policies[%d] = %v: a conditional policy must be !If [Condition, policy, !Ref AWS::NoValue]", id, i, p)
						continue
					}
					p, suffix = yes, " if "+cond
				}
				m, ok := p.(map[string]any)
				if !ok {
					t.Errorf("%s: Policies[%d] = %v: managed policies are not allowed here (they grant Resource \"*\"); write a statement", id, i, p)
					continue
				}
				stmts, ok := m["Statement"].([]any)
				if !ok || len(m) != 1 {
					t.Errorf("%s: Policies[%d] is not an inline policy with only a Statement list (SAM policy templates hide their resources): %v", id, i, m)
					continue
				}
				for j, s := range stmts {
					for action, res := range checkStatement(t, fmt.Sprintf("%s: Policies[%d].Statement[%d]", id, i, j), s) {
						got[action] = res + suffix
					}
				}
			}
			if !maps.Equal(got, want[id]) {
				t.Errorf("%s grants %v, want exactly %v", id, got, want[id])
			}
		}
	})

	t.Run("example schedules", func(t *testing.T) {
		var v2, rule bool
		for name, ev := range fns["ScheduleFunction"].Events {
			switch ev.Type {
			case "ScheduleV2":
				v2 = true
				var in struct{ Reminder string }
				s, _ := ev.Properties["Input"].(string)
				if err := json.Unmarshal([]byte(s), &in); err != nil || in.Reminder != "standup" {
					t.Errorf("%s: Input = %q, want {\"reminder\":\"standup\"}", name, s)
				}
				if ev.Properties["ScheduleExpression"] == nil {
					t.Errorf("%s: no ScheduleExpression", name)
				}
			case "Schedule":
				rule = true
				if ev.Properties["Enabled"] != false {
					t.Errorf("%s: Enabled = %v; the rule-style example is documented as disabled", name, ev.Properties["Enabled"])
				}
			}
		}
		if !v2 || !rule {
			t.Errorf("ScheduleFunction events: ScheduleV2 %v, Schedule %v; want one of each", v2, rule)
		}
	})

	t.Run("alarms", func(t *testing.T) {
		// Each alarm, keyed by namespace, metric and dimensions (a resource
		// named by Ref or GetAtt, a parameter or stack-derived name by its
		// short form), with the threshold it must cross.
		want := map[string]string{
			"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=DeadLetterQueue":         "0",
			"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=RejectsQueue":            "0",
			"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=ScheduleDeadLetterQueue": "0",
			// A TalkJS or secret outage answers 502/503 without a Lambda error.
			"AWS/ApiGateway 5XXError ApiName=${AWS::StackName}-webhook Stage=StageName": "0",
			// Commands waiting: the outage the DLQ alarm only sees hours later.
			"AWS/SQS ApproximateAgeOfOldestMessage QueueName=CommandQueue": "Ref QueueAgeAlarmSeconds",
		}
		for _, id := range wantFunctions {
			want["AWS/Lambda Errors FunctionName="+id] = "0"
		}
		got := map[string]string{}
		for id, r := range tmpl.Resources {
			if r.Type != "AWS::CloudWatch::Alarm" {
				continue
			}
			var a struct {
				Namespace, MetricName, ComparisonOperator string
				Threshold                                 any
				Dimensions                                []struct {
					Name  string
					Value any
				}
				AlarmActions, OKActions any
			}
			if err := json.Unmarshal(r.Properties, &a); err != nil {
				t.Fatalf("%s: decode: %v", id, err)
			}
			if a.ComparisonOperator != "GreaterThanThreshold" {
				t.Errorf("%s: ComparisonOperator %s, want GreaterThanThreshold", id, a.ComparisonOperator)
			}
			if a.AlarmActions == nil || a.OKActions == nil {
				t.Errorf("%s: no AlarmActions/OKActions: it would notify no one even with AlarmTopicArn set", id)
			}
			key := a.Namespace + " " + a.MetricName
			for _, d := range a.Dimensions {
				key += " " + d.Name + "=" + shortName(d.Value)
			}
			threshold := fmt.Sprint(a.Threshold)
			if p := ref(a.Threshold); p != "" {
				threshold = "Ref " + p
			}
			got[key] = threshold
		}
		for k, th := range want {
			g, ok := got[k]
			switch {
			case !ok:
				t.Errorf("no alarm on %s (alarms: %v)", k, slices.Sorted(maps.Keys(got)))
			case g != th:
				t.Errorf("alarm on %s: threshold %s, want %s", k, g, th)
			}
		}
	})

	t.Run("parameters", func(t *testing.T) {
		for name, def := range map[string]any{
			"TalkJSSecretArn":     nil,
			"TalkJSAppId":         "",
			"TalkJSApiUrl":        "https://api.talkjs.com",
			"QueueBatchSize":      float64(10),
			"QueueBatchingWindow": nil,
			"QueueMaxConcurrency": nil,
			"AlarmTopicArn":       "",
			// Operations: alarm threshold, API throttling and access logs,
			// scheduled runs' retries, the secret's KMS key.
			"QueueAgeAlarmSeconds":       nil,
			"WebhookThrottleRate":        nil,
			"WebhookThrottleBurst":       nil,
			"WebhookAccessLogs":          nil,
			"WebhookReservedConcurrency": float64(-1),
			"ScheduleMaxRetryAttempts":   nil,
			"ScheduleMaxEventAgeSeconds": nil,
			"SecretKmsKeyArn":            "",
		} {
			p, ok := tmpl.Parameters[name]
			if !ok {
				t.Errorf("no parameter %s", name)
				continue
			}
			if def != nil && p.Default != def {
				t.Errorf("parameter %s: Default = %#v, want %#v", name, p.Default, def)
			}
		}
		if p := tmpl.Parameters["TalkJSSecretArn"]; p.Default != nil {
			t.Errorf("TalkJSSecretArn has Default %v; it must be given at deploy time", p.Default)
		}
	})

	t.Run("outputs", func(t *testing.T) {
		for _, name := range []string{"WebhookUrl", "QueueUrl", "DeadLetterQueueUrl", "RejectsQueueUrl"} {
			if _, ok := tmpl.Outputs[name]; !ok {
				t.Errorf("no output %s", name)
			}
		}
		// WebhookUrl per front door: TestWebhookFrontDoor.
		// Every queue, including ones added later, needs an output: an
		// operator has to find it to redrive or inspect it.
		output := map[string]bool{}
		for _, o := range tmpl.Outputs {
			output[ref(o.Value)] = true
		}
		for id, r := range tmpl.Resources {
			if r.Type == "AWS::SQS::Queue" && !output[id] {
				t.Errorf("queue %s has no output giving its URL (!Ref %s)", id, id)
			}
		}
		for name, want := range map[string]string{"QueueUrl": "CommandQueue", "DeadLetterQueueUrl": "DeadLetterQueue", "RejectsQueueUrl": "RejectsQueue", "ScheduleDeadLetterQueueUrl": "ScheduleDeadLetterQueue"} {
			if got := ref(tmpl.Outputs[name].Value); got != want {
				t.Errorf("output %s = %v, want !Ref %s", name, tmpl.Outputs[name].Value, want)
			}
		}
	})

	t.Run("every reference resolves", func(t *testing.T) {
		for _, problem := range tmpl.unresolved(tmpl.raw) {
			t.Error(problem)
		}
	})
}

// shortName prints an alarm dimension's value: the resource or parameter a
// Ref or GetAtt names, the text of a Sub, or the literal.
func shortName(v any) string {
	if r := ref(v); r != "" {
		return r
	}
	if res, _ := getAtt(v); res != "" {
		return res
	}
	if m, ok := v.(map[string]any); ok {
		if s, ok := m["Fn::Sub"].(string); ok {
			return s
		}
	}
	return fmt.Sprint(v)
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// checkStatement reports a statement that is not a plain Allow on named
// resources and returns its actions mapped to a short form of its resource
// ("Ref X", "GetAtt X.Arn").
func checkStatement(t *testing.T, where string, s any) map[string]string {
	t.Helper()
	m, ok := s.(map[string]any)
	if !ok {
		t.Errorf("%s: not a statement: %v", where, s)
		return nil
	}
	for _, k := range []string{"NotResource", "NotAction"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s: uses %s, which grants everything but the list", where, k)
		}
	}
	if m["Effect"] != "Allow" {
		t.Errorf("%s: Effect = %v, want Allow", where, m["Effect"])
	}
	actions := asList(m["Action"])
	resources := asList(m["Resource"])
	if len(actions) == 0 || len(resources) == 0 {
		t.Errorf("%s: needs Action and Resource", where)
		return nil
	}
	var short []string
	for _, r := range resources {
		switch {
		case r == "*" || (isString(r) && strings.Contains(r.(string), "*")):
			t.Errorf("%s: Resource %q: no statement may grant a wildcard resource", where, r)
		case ref(r) != "":
			short = append(short, "Ref "+ref(r))
		default:
			res, attr := getAtt(r)
			if res == "" {
				t.Errorf("%s: Resource %v: want a !Ref or !GetAtt of one named resource", where, r)
				continue
			}
			short = append(short, "GetAtt "+res+"."+attr)
		}
	}
	out := map[string]string{}
	for _, a := range actions {
		s, _ := a.(string)
		if s == "" || strings.Contains(s, "*") {
			t.Errorf("%s: Action %v: name each action, no wildcards", where, a)
			continue
		}
		out[s] = strings.Join(short, ",")
	}
	return out
}

func isString(v any) bool { _, ok := v.(string); return ok }

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// unresolved walks the template and lists every Ref, GetAtt, Sub variable or
// If condition that names nothing the template declares.
func (tmpl samTemplate) unresolved(root any) []string {
	declared := func(name string) bool {
		if strings.HasPrefix(name, "AWS::") {
			return true
		}
		_, p := tmpl.Parameters[name]
		_, r := tmpl.Resources[name]
		return p || r
	}
	var problems []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if name, ok := v["Ref"].(string); ok && len(v) == 1 && !declared(name) {
				problems = append(problems, fmt.Sprintf("%s: Ref %s names no parameter or resource", path, name))
			}
			if _, ok := v["Fn::GetAtt"]; ok {
				if res, _ := getAtt(v); tmpl.Resources[res].Type == "" {
					problems = append(problems, fmt.Sprintf("%s: GetAtt %v names no resource", path, v["Fn::GetAtt"]))
				}
			}
			if s, ok := v["Fn::Sub"].(string); ok {
				for _, m := range subVar.FindAllStringSubmatch(s, -1) {
					name, _, _ := strings.Cut(m[1], ".")
					if !declared(name) {
						problems = append(problems, fmt.Sprintf("%s: Sub ${%s} names no parameter or resource", path, m[1]))
					}
				}
			}
			if args, ok := v["Fn::If"].([]any); ok && len(args) == 3 {
				if c, _ := args[0].(string); tmpl.Conditions[c] == nil {
					problems = append(problems, fmt.Sprintf("%s: If condition %v is not declared", path, args[0]))
				}
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, v[k])
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("template", root)
	return problems
}

// The secret ARN is the one parameter every deploy must get right; its
// pattern should catch a bare name or a wildcard before CloudFormation runs.
func TestTemplateSecretParameterIsConstrained(t *testing.T) {
	tmpl := loadTemplate(t)
	p := tmpl.Parameters["TalkJSSecretArn"]
	if p.AllowedPattern == nil {
		t.Fatal("TalkJSSecretArn has no AllowedPattern: a typo would deploy a bridge that cannot read its key")
	}
	re, err := regexp.Compile(*p.AllowedPattern)
	if err != nil {
		t.Fatalf("AllowedPattern %q: %v", *p.AllowedPattern, err)
	}
	for _, tc := range []struct {
		name, arn string
		ok        bool
	}{
		{"secret ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:talkjs-bridge-AbCdEf", true},
		{"GovCloud partition", "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:talkjs-AbCdEf", true},
		{"secret name only", "talkjs-bridge", false},
		{"wildcard", "*", false},
		{"another service", "arn:aws:ssm:us-east-1:123456789012:parameter/talkjs", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := re.MatchString(tc.arn); got != tc.ok {
				t.Errorf("AllowedPattern matches %q = %v, want %v", tc.arn, got, tc.ok)
			}
		})
	}
}

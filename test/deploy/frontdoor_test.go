package deploy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// What each WebhookFrontDoor value must deploy: the one resource senders
// call, the Lambda permissions that let it invoke the webhook function (in
// permissionKey's short form), the alarm on its 5xx answers (in the alarms
// test's key form) and how the WebhookUrl output starts.
var frontDoors = map[string]struct {
	door, doorType string
	permissions    []string
	alarm          string
	urlPrefix      string
}{
	"rest": {
		door: "WebhookApi", doorType: "AWS::Serverless::Api",
		permissions: []string{"lambda:InvokeFunction apigateway.amazonaws.com SourceArn=WebhookApi"},
		alarm:       "AWS/ApiGateway 5XXError ApiName=${AWS::StackName}-webhook Stage=StageName",
		urlPrefix:   "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${StageName}/",
	},
	"httpapi": {
		door: "WebhookHttpApi", doorType: "AWS::ApiGatewayV2::Api",
		permissions: []string{"lambda:InvokeFunction apigateway.amazonaws.com SourceArn=WebhookHttpApi"},
		alarm:       "AWS/ApiGateway 5xx ApiId=WebhookHttpApi",
		urlPrefix:   "https://${WebhookHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/",
	},
	// A public function URL needs both actions for principal "*" (Lambda's
	// function URL authorization model since October 2025).
	"functionurl": {
		door: "WebhookFunctionUrl", doorType: "AWS::Lambda::Url",
		permissions: []string{
			"lambda:InvokeFunction * InvokedViaFunctionUrl=true",
			"lambda:InvokeFunctionUrl * FunctionUrlAuthType=NONE",
		},
		alarm:     "AWS/Lambda Url5xxCount FunctionName=WebhookFunction",
		urlPrefix: "${WebhookFunctionUrl.FunctionUrl}",
	},
}

// doorTypes are the resource types that can serve the webhook URL.
var doorTypes = map[string]bool{
	"AWS::Serverless::Api": true, "AWS::Serverless::HttpApi": true,
	"AWS::ApiGateway::RestApi": true, "AWS::ApiGatewayV2::Api": true, "AWS::Lambda::Url": true,
}

func TestWebhookFrontDoor(t *testing.T) {
	tmpl := loadTemplate(t)

	p, ok := tmpl.Parameters["WebhookFrontDoor"]
	if !ok {
		t.Fatal("no parameter WebhookFrontDoor")
	}
	if p.Default != "rest" {
		t.Errorf("WebhookFrontDoor Default = %v, want rest (what existing stacks have)", p.Default)
	}
	if got, want := p.AllowedValues, []any{"rest", "httpapi", "functionurl"}; !slices.Equal(got, want) {
		t.Errorf("WebhookFrontDoor AllowedValues = %v, want %v", got, want)
	}

	for _, value := range []string{"rest", "httpapi", "functionurl"} {
		want := frontDoors[value]
		t.Run(value, func(t *testing.T) {
			conds := tmpl.evalConditions(t, map[string]any{"WebhookFrontDoor": value})
			exists := func(cond string) bool { return cond == "" || conds[cond] }

			var doors, perms, alarms []string
			for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
				r := tmpl.Resources[id]
				if !exists(r.Condition) {
					continue
				}
				var props map[string]any
				if err := json.Unmarshal(r.Properties, &props); err != nil {
					t.Fatalf("%s: decode: %v", id, err)
				}
				props, _ = resolveIfs(props, conds).(map[string]any)
				switch {
				case doorTypes[r.Type]:
					doors = append(doors, id)
					if id == want.door && r.Type != want.doorType {
						t.Errorf("%s is %s, want %s", id, r.Type, want.doorType)
					}
				case r.Type == "AWS::Lambda::Permission" && ref(props["FunctionName"]) == "WebhookFunction":
					perms = append(perms, permissionKey(props))
				case r.Type == "AWS::CloudWatch::Alarm":
					if k := alarmKey(props); strings.Contains(k, "5XXError") || strings.Contains(k, "5xx") {
						alarms = append(alarms, k)
					}
				}
			}
			if !slices.Equal(doors, []string{want.door}) {
				t.Errorf("front doors deployed = %v, want exactly [%s]", doors, want.door)
			}
			slices.Sort(perms)
			if !slices.Equal(perms, want.permissions) {
				t.Errorf("permissions to invoke WebhookFunction = %q, want exactly %q", perms, want.permissions)
			}
			if !slices.Equal(alarms, []string{want.alarm}) {
				t.Errorf("5xx alarms deployed = %q, want exactly [%s]", alarms, want.alarm)
			}

			out := tmpl.Outputs["WebhookUrl"]
			if out.Condition != nil && !conds[*out.Condition] {
				t.Fatalf("output WebhookUrl is not deployed (condition %s)", *out.Condition)
			}
			v := resolveIfs(out.Value, conds)
			m, _ := v.(map[string]any)
			s, _ := m["Fn::Sub"].(string)
			if !strings.HasPrefix(s, want.urlPrefix) || !strings.HasSuffix(s, "webhooks/{route}") {
				t.Errorf("WebhookUrl = %v, want !Sub %swebhooks/{route}", v, want.urlPrefix)
			}

			// Nothing deployed may refer to a resource its condition left out.
			for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
				r := tmpl.Resources[id]
				if !exists(r.Condition) {
					continue
				}
				var raw any
				if err := json.Unmarshal(r.raw, &raw); err != nil {
					t.Fatal(err)
				}
				for _, name := range referenced(resolveIfs(raw, conds)) {
					if res, ok := tmpl.Resources[name]; ok && !exists(res.Condition) {
						t.Errorf("%s refers to %s, which is not deployed (condition %s)", id, name, res.Condition)
					}
				}
			}
			for _, name := range referenced(v) {
				if res, ok := tmpl.Resources[name]; ok && !exists(res.Condition) {
					t.Errorf("output WebhookUrl refers to %s, which is not deployed (condition %s)", name, res.Condition)
				}
			}
		})
	}
}

// permissionKey is "<Action> <Principal> <what limits it>": the resource its
// SourceArn names, or the function URL property that scopes it.
func permissionKey(props map[string]any) string {
	k := fmt.Sprint(props["Action"], " ", props["Principal"])
	switch {
	case props["SourceArn"] != nil:
		k += " SourceArn=" + strings.Join(referenced(props["SourceArn"]), ",")
	case props["FunctionUrlAuthType"] != nil:
		k += fmt.Sprint(" FunctionUrlAuthType=", props["FunctionUrlAuthType"])
	case props["InvokedViaFunctionUrl"] != nil:
		k += fmt.Sprint(" InvokedViaFunctionUrl=", props["InvokedViaFunctionUrl"])
	}
	return k
}

// alarmKey is "<Namespace> <MetricName> <Dimension>=<short value>...".
func alarmKey(props map[string]any) string {
	k := fmt.Sprint(props["Namespace"], " ", props["MetricName"])
	dims, _ := props["Dimensions"].([]any)
	for _, d := range dims {
		m, _ := d.(map[string]any)
		k += fmt.Sprint(" ", m["Name"], "=", shortName(m["Value"]))
	}
	return k
}

// referenced lists the resources and parameters v names with Ref, GetAtt
// or a Sub variable, in order of appearance, without AWS:: pseudo
// parameters.
func referenced(v any) []string {
	var out []string
	add := func(name string) {
		if name != "" && !strings.HasPrefix(name, "AWS::") && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			add(ref(v))
			if res, _ := getAtt(v); res != "" {
				add(res)
			}
			if s, ok := v["Fn::Sub"].(string); ok {
				for _, m := range subVar.FindAllStringSubmatch(s, -1) {
					name, _, _ := strings.Cut(m[1], ".")
					add(name)
				}
			}
			if args, ok := v["Fn::Sub"].([]any); ok && len(args) == 2 {
				s, _ := args[0].(string)
				vars, _ := args[1].(map[string]any)
				for _, m := range subVar.FindAllStringSubmatch(s, -1) {
					if name, _, _ := strings.Cut(m[1], "."); vars[name] == nil {
						add(name)
					}
				}
				walk(args[1])
				return
			}
			for _, k := range slices.Sorted(maps.Keys(v)) {
				walk(v[k])
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// evalConditions evaluates every condition of the template with each
// parameter at its default, except those in params.
func (tmpl samTemplate) evalConditions(t *testing.T, params map[string]any) map[string]bool {
	t.Helper()
	value := func(v any) any {
		if name := ref(v); name != "" {
			if p, ok := params[name]; ok {
				return p
			}
			if p, ok := tmpl.Parameters[name]; ok {
				return p.Default
			}
			t.Fatalf("condition refers to %s, which is no parameter", name)
		}
		return v
	}
	done := map[string]bool{}
	var eval func(v any) bool
	cond := func(name string) bool {
		if c, ok := done[name]; ok {
			return c
		}
		def, ok := tmpl.Conditions[name]
		if !ok {
			t.Fatalf("condition %s is not declared", name)
		}
		done[name] = eval(def)
		return done[name]
	}
	eval = func(v any) bool {
		// goformation turns !Condition X into the bare name.
		if s, ok := v.(string); ok {
			return cond(s)
		}
		m, _ := v.(map[string]any)
		if len(m) != 1 {
			t.Fatalf("condition %v: want one Fn:: function", v)
		}
		for fn, arg := range m {
			args, _ := arg.([]any)
			switch fn {
			case "Fn::Equals":
				return len(args) == 2 && fmt.Sprint(value(args[0])) == fmt.Sprint(value(args[1]))
			case "Fn::Not":
				return len(args) == 1 && !eval(args[0])
			case "Fn::And", "Fn::Or":
				all, any := true, false
				for _, a := range args {
					c := eval(a)
					all, any = all && c, any || c
				}
				if fn == "Fn::And" {
					return all
				}
				return any
			case "Condition":
				s, _ := arg.(string)
				return cond(s)
			}
			t.Fatalf("condition %v: %s is not evaluated here", v, fn)
		}
		return false
	}
	for name := range tmpl.Conditions {
		cond(name)
	}
	return done
}

// checkWebhookRoutes checks that each front door sends POST
// /webhooks/{route} to the webhook function, in the payload format the
// function expects of it, throttled where the door can be.
func checkWebhookRoutes(t *testing.T, tmpl samTemplate) {
	t.Helper()
	props := func(id, typ string) map[string]any {
		t.Helper()
		r, ok := tmpl.Resources[id]
		if !ok || r.Type != typ {
			t.Fatalf("%s is not an %s of template.yaml", id, typ)
		}
		var p map[string]any
		if err := json.Unmarshal(r.Properties, &p); err != nil {
			t.Fatalf("%s: decode: %v", id, err)
		}
		return p
	}
	toWebhookFunction := func(v any) bool {
		res, attr := getAtt(v)
		if res == "WebhookFunction" && attr == "Arn" {
			return true
		}
		m, _ := v.(map[string]any)
		s, _ := m["Fn::Sub"].(string)
		return strings.Contains(s, "${WebhookFunction.Arn}")
	}

	// REST: the OpenAPI body's one operation is a Lambda proxy integration.
	api := props("WebhookApi", "AWS::Serverless::Api")
	body, _ := api["DefinitionBody"].(map[string]any)
	paths, _ := body["paths"].(map[string]any)
	if got := slices.Sorted(maps.Keys(paths)); !slices.Equal(got, []string{"/webhooks/{route}"}) {
		t.Errorf("WebhookApi paths = %v, want [/webhooks/{route}]", got)
	}
	ops, _ := paths["/webhooks/{route}"].(map[string]any)
	if got := slices.Sorted(maps.Keys(ops)); !slices.Equal(got, []string{"post"}) {
		t.Errorf("WebhookApi /webhooks/{route} methods = %v, want [post]", got)
	}
	post, _ := ops["post"].(map[string]any)
	integ, _ := post["x-amazon-apigateway-integration"].(map[string]any)
	if integ["type"] != "aws_proxy" || integ["httpMethod"] != "POST" || !toWebhookFunction(integ["uri"]) {
		t.Errorf("WebhookApi POST /webhooks/{route} integration = %v, want aws_proxy, httpMethod POST, to WebhookFunction", integ)
	}
	if api["TracingEnabled"] != true {
		t.Error("WebhookApi: TracingEnabled is not true")
	}

	// HTTP API: route, integration with payload 2.0, throttled stage.
	route := props("WebhookHttpApiRoute", "AWS::ApiGatewayV2::Route")
	if route["RouteKey"] != "POST /webhooks/{route}" || ref(route["ApiId"]) != "WebhookHttpApi" {
		t.Errorf("WebhookHttpApiRoute = %v %v, want POST /webhooks/{route} on WebhookHttpApi", route["ApiId"], route["RouteKey"])
	}
	if got := referenced(route["Target"]); !slices.Equal(got, []string{"WebhookHttpApiIntegration"}) {
		t.Errorf("WebhookHttpApiRoute Target = %v, want !Sub integrations/${WebhookHttpApiIntegration}", route["Target"])
	}
	hi := props("WebhookHttpApiIntegration", "AWS::ApiGatewayV2::Integration")
	if hi["IntegrationType"] != "AWS_PROXY" || hi["PayloadFormatVersion"] != "2.0" || !toWebhookFunction(hi["IntegrationUri"]) {
		t.Errorf("WebhookHttpApiIntegration = %v, want AWS_PROXY, payload 2.0, to WebhookFunction", hi)
	}
	stage := props("WebhookHttpApiStage", "AWS::ApiGatewayV2::Stage")
	rs, _ := stage["DefaultRouteSettings"].(map[string]any)
	if ref(rs["ThrottlingRateLimit"]) != "WebhookThrottleRate" || ref(rs["ThrottlingBurstLimit"]) != "WebhookThrottleBurst" || stage["AutoDeploy"] != true {
		t.Errorf("WebhookHttpApiStage = %v, want AutoDeploy and throttling by WebhookThrottleRate/WebhookThrottleBurst", stage)
	}
	if cond, yes, _, ok := ifArgs(stage["AccessLogSettings"]); !ok || cond != "HasHttpApiAccessLogs" || !slices.Contains(referenced(yes), "WebhookAccessLogGroup") {
		t.Errorf("WebhookHttpApiStage AccessLogSettings = %v, want !If [HasHttpApiAccessLogs, {DestinationArn: WebhookAccessLogGroup...}, ...]", stage["AccessLogSettings"])
	}

	// Function URL: public, to the webhook function.
	u := props("WebhookFunctionUrl", "AWS::Lambda::Url")
	if u["AuthType"] != "NONE" || !toWebhookFunction(u["TargetFunctionArn"]) {
		t.Errorf("WebhookFunctionUrl = %v, want AuthType NONE on WebhookFunction", u)
	}
}

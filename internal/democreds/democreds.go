package democreds

// AppID and SecretKey are the embedded TalkJS emulator's app and key.
const (
	AppID     = "tDemoBridge"
	SecretKey = "sk_test_demo_bridge_local_only"
)

// WebhookSecrets are the demo webhook secrets by the names the default
// routes file uses (events/README.md lists them). "generic" is a Standard
// Webhooks secret: whsec_ and the base64 of "demo-generic-secret".
func WebhookSecrets() map[string]string {
	return map[string]string{
		"github":       "demo-github-secret",
		"stripe":       "whsec_demo_stripe",
		"alertmanager": "demo-alertmanager-token",
		"generic":      "whsec_ZGVtby1nZW5lcmljLXNlY3JldA==",
		"shopify":      "demo-shopify-secret",
		"slack":        "demo-slack-secret",
		"gitlab":       "demo-gitlab-token",
		"bitbucket":    "demo-bitbucket-secret",
		"circleci":     "demo-circleci-secret",
		"sentry":       "demo-sentry-secret",
		"pagerduty":    "demo-pagerduty-secret",
		"grafana":      "demo-grafana-secret",
		"uptime-kuma":  "demo-uptimekuma-token",
		"paddle":       "demo-paddle-secret",
		"postmark":     "demo-postmark-secret",
		"twilio":       "demo-twilio-token",
		"talkjs":       "demo-talkjs-secret",
	}
}

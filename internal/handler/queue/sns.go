package queue

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
)

// SNSRouteAttribute is the SNS message attribute that names the route an
// SNS notification is mapped through; without it, the topic's name is the
// route (a topic named cloudwatch-alarm goes to the cloudwatch-alarm route).
const SNSRouteAttribute = "route"

// snsEnvelope is an SNS message as SNS delivers it to an SQS queue whose
// subscription does not use raw message delivery: the JSON document below,
// with the published message as a string in Message.
type snsEnvelope struct {
	Type              string `json:"Type"`
	MessageID         string `json:"MessageId"`
	TopicArn          string `json:"TopicArn"`
	Subject           string `json:"Subject"`
	Message           string `json:"Message"`
	Timestamp         string `json:"Timestamp"`
	SubscribeURL      string `json:"SubscribeURL"`
	MessageAttributes map[string]struct {
		Type  string `json:"Type"`
		Value string `json:"Value"`
	} `json:"MessageAttributes"`
}

// ParseSNS reads a record body as the handler does when it is an SNS
// envelope: ok is false for any other body. A pure function, for tools and
// tests that vet records.
func ParseSNS(body string) (r Routed, ok bool, err error) {
	rt, ok, err := snsRecord(body)
	if rt != nil {
		r = *rt
	}
	return r, ok, err
}

// snsRecord reads an SQS record body that is an SNS envelope as a routed
// record: the route from the message attribute SNSRouteAttribute or else
// the topic's name, the payload the published message (JSON as is, other
// text as a JSON string), and the envelope's facts as x-amz-sns-* headers
// for templates and delivery ids. ok is false when the body is not an SNS
// envelope. The record is trusted like every queue record: SNS signatures
// are not checked here (SQS is the trust boundary).
func snsRecord(body string) (r *Routed, ok bool, err error) {
	if !strings.Contains(body, `"TopicArn"`) || !strings.Contains(body, `"Type"`) {
		return nil, false, nil
	}
	var env snsEnvelope
	if json.Unmarshal([]byte(body), &env) != nil || env.TopicArn == "" || env.Type == "" {
		return nil, false, nil
	}
	bad := func(format string, a ...any) (*Routed, bool, error) {
		return nil, true, fmt.Errorf("%w: SNS %s from %s: %s", dispatch.ErrInvalidRecord, env.Type, env.TopicArn, fmt.Sprintf(format, a...))
	}
	switch env.Type {
	case "Notification":
	case "SubscriptionConfirmation":
		// Kept in the rejects queue, where an operator finds the URL.
		return bad("confirm the subscription by visiting its SubscribeURL (%s); nothing is sent", env.SubscribeURL)
	default:
		return bad("not a Notification; nothing is sent")
	}
	route := env.TopicArn[strings.LastIndexByte(env.TopicArn, ':')+1:]
	if a, ok := env.MessageAttributes[SNSRouteAttribute]; ok && strings.TrimSpace(a.Value) != "" {
		route = strings.TrimSpace(a.Value)
	}
	if route == "" {
		return bad("no route: the topic ARN has no name and there is no %q message attribute", SNSRouteAttribute)
	}
	payload := json.RawMessage(env.Message)
	if t := strings.TrimSpace(env.Message); t == "" || (t[0] != '{' && t[0] != '[') || !json.Valid([]byte(t)) {
		payload, _ = json.Marshal(env.Message) // a string always encodes
	}
	headers := map[string]string{
		"X-Amz-Sns-Message-Id": env.MessageID,
		"X-Amz-Sns-Topic-Arn":  env.TopicArn,
		"X-Amz-Sns-Timestamp":  env.Timestamp,
	}
	if env.Subject != "" {
		headers["X-Amz-Sns-Subject"] = env.Subject
	}
	return &Routed{Route: route, Headers: headers, Payload: payload}, true, nil
}

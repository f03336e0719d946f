// Package tracing wires AWS X-Ray (github.com/aws/aws-xray-sdk-go/v2) into
// the bridge: the AWS SDK clients are instrumented (InstrumentAWS), the
// TalkJS HTTP client is wrapped so each TalkJS call is a subsegment annotated
// with its conversation id and status (HTTPClient), and Record makes a
// subsegment around a unit of work such as one SQS record.
//
// In Lambda the trace comes from the invocation's context (aws-lambda-go puts
// the trace header there; the SDK makes a facade segment from it). Outside
// Lambda, or with an empty trace header as some emulators send, there is no
// trace: every function here then calls straight through, without touching
// the SDK, so nothing panics and nothing is logged per call.
package tracing

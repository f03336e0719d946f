// Command hello is a tiny Lambda function used by the rietest tests: it echoes
// its event together with facts about the process it runs in, so tests can
// check what the emulator passes through.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Echo  json.RawMessage `json:"echo,omitempty"`
	Env   string          `json:"env,omitempty"`   // name of a variable to read
	Fail  string          `json:"fail,omitempty"`  // return an error with this message
	Exit  int             `json:"exit,omitempty"`  // exit the process with this code
	Sleep string          `json:"sleep,omitempty"` // Go duration to sleep before answering
	Print string          `json:"print,omitempty"` // line to write to stdout
}

type answer struct {
	Echo      json.RawMessage `json:"echo,omitempty"`
	EnvValue  string          `json:"envValue"`
	RequestID string          `json:"requestId"`
	PID       int             `json:"pid"`
	Deadline  time.Time       `json:"deadline"`
}

type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func handle(ctx context.Context, ev event) (answer, error) {
	if ev.Print != "" {
		fmt.Println(ev.Print)
	}
	if ev.Sleep != "" {
		d, err := time.ParseDuration(ev.Sleep)
		if err != nil {
			return answer{}, fmt.Errorf("hello: bad sleep %q: %w", ev.Sleep, err)
		}
		// Ignore ctx: a handler that returned at its deadline would race
		// the emulator's own timeout, which is what the tests look for.
		time.Sleep(d)
	}
	if ev.Exit != 0 {
		os.Exit(ev.Exit)
	}
	if ev.Fail != "" {
		return answer{}, failure{ev.Fail}
	}
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return answer{}, errors.New("hello: no lambda context")
	}
	a := answer{Echo: ev.Echo, RequestID: lc.AwsRequestID, PID: os.Getpid()}
	if ev.Env != "" {
		a.EnvValue = os.Getenv(ev.Env)
	}
	a.Deadline, _ = ctx.Deadline()
	return a, nil
}

func main() { lambda.Start(handle) }

package awstest_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/talkjs-bridge/talkjs-bridge/internal/awstest"
)

func start(t *testing.T) (*awstest.Server, aws.Config) {
	t.Helper()
	s := awstest.New()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, awstest.Config(ts.URL)
}

func TestGetSecretValue(t *testing.T) {
	s, cfg := start(t)
	s.SetSecret("talkjs/prod", `{"secretKey":"sk_test_1"}`)
	sm := secretsmanager.NewFromConfig(cfg)

	tests := []struct {
		name     string
		id       string
		want     string
		wantCode string
	}{
		{name: "by name", id: "talkjs/prod", want: `{"secretKey":"sk_test_1"}`},
		{name: "by ARN", id: awstest.SecretARN("talkjs/prod"), want: `{"secretKey":"sk_test_1"}`},
		{name: "unknown secret", id: "nope", wantCode: "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(tt.id)})
			if tt.wantCode != "" {
				var rnf *smtypes.ResourceNotFoundException
				if !errors.As(err, &rnf) || rnf.ErrorCode() != tt.wantCode {
					t.Fatalf("err = %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetSecretValue: %v", err)
			}
			if aws.ToString(out.SecretString) != tt.want || aws.ToString(out.Name) != "talkjs/prod" || aws.ToString(out.VersionId) == "" {
				t.Errorf("got %q name %q version %q", aws.ToString(out.SecretString), aws.ToString(out.Name), aws.ToString(out.VersionId))
			}
		})
	}
	if got := s.Calls(awstest.GetSecretValue); got != 3 {
		t.Errorf("Calls = %d, want 3", got)
	}
	if u := s.Unsigned(); len(u) != 0 {
		t.Errorf("unsigned requests from the SDK: %v", u)
	}
}

func TestRotationChangesVersion(t *testing.T) {
	s, cfg := start(t)
	sm := secretsmanager.NewFromConfig(cfg)
	s.SetSecret("k", "sk_test_old")
	a, err := sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecret("k", "sk_test_new")
	b, err := sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(b.SecretString) != "sk_test_new" || aws.ToString(a.VersionId) == aws.ToString(b.VersionId) {
		t.Errorf("after rotation got %q version %q (was %q)", aws.ToString(b.SecretString), aws.ToString(b.VersionId), aws.ToString(a.VersionId))
	}
}

func TestFaults(t *testing.T) {
	s, cfg := start(t)
	s.SetSecret("k", "sk_test_1")
	sm := secretsmanager.NewFromConfig(cfg)
	get := func() error {
		_, err := sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("k")})
		return err
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return ""
	}

	s.FailNext(2)
	for i := range 2 {
		if err := get(); code(err) != "InternalServiceError" {
			t.Errorf("call %d: err = %v, want InternalServiceError", i, err)
		}
	}
	if err := get(); err != nil {
		t.Errorf("after FailNext(2) ran out: %v", err)
	}
	s.Fail(true)
	for i := range 3 {
		if err := get(); code(err) != "ServiceUnavailable" {
			t.Errorf("Fail(true) call %d: err = %v, want ServiceUnavailable", i, err)
		}
	}
	s.Fail(false)
	if err := get(); err != nil {
		t.Errorf("after Fail(false): %v", err)
	}
	if got := s.Calls(awstest.GetSecretValue); got != 7 {
		t.Errorf("Calls = %d, want 7 (failed calls count)", got)
	}
}

func TestSendMessageThroughEnvironment(t *testing.T) {
	s := awstest.New()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	// The path a deployed-but-local function takes: endpoint from the standard variable.
	t.Setenv("AWS_ENDPOINT_URL_SQS", ts.URL)
	t.Setenv("AWS_REGION", awstest.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTESTTESTTESTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	cfg, err := awsconfig.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	url := awstest.QueueURL("rejects")
	out, err := q.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"reason":"bad json"}`)})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	sent := s.Sent()
	if len(sent) != 1 || sent[0].Body != `{"reason":"bad json"}` || sent[0].QueueURL != url || sent[0].MessageID != aws.ToString(out.MessageId) {
		t.Errorf("Sent = %+v, out id %q", sent, aws.ToString(out.MessageId))
	}
	_, err = q.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url + ".fifo"), MessageBody: aws.String("x")})
	if err == nil || !strings.Contains(err.Error(), "MessageGroupId") {
		t.Errorf("FIFO send without group: err = %v", err)
	}
	if got := s.Calls(awstest.SendMessage); got != 2 {
		t.Errorf("Calls = %d, want 2", got)
	}
}

func TestRejectsUnsigned(t *testing.T) {
	s := awstest.New()
	s.SetSecret("k", "sk_test_1")
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	tests := []struct {
		name, auth string
	}{
		{"no header", ""},
		{"basic auth", "Basic dXNlcjpwYXNz"},
		{"wrong service", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.URL, strings.NewReader(`{"SecretId":"k"}`))
			req.Header.Set("X-Amz-Target", awstest.GetSecretValue)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Date", "20260101T000000Z")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status = %d, want 403", resp.StatusCode)
			}
		})
	}
	if got, want := len(s.Unsigned()), len(tests); got != want {
		t.Errorf("Unsigned = %d entries, want %d", got, want)
	}
	if got := s.Calls(awstest.GetSecretValue); got != 0 {
		t.Errorf("unsigned requests counted as calls: %d", got)
	}
}

// TestFIFODeduplication: a FIFO queue stores a deduplication id once and
// answers its repeat with the first message's id; a standard queue stores
// every message.
func TestFIFODeduplication(t *testing.T) {
	s, cfg := start(t)
	q := sqs.NewFromConfig(cfg)
	send := func(url, dedup string) string {
		t.Helper()
		in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("b-" + dedup)}
		if strings.HasSuffix(url, ".fifo") {
			in.MessageGroupId, in.MessageDeduplicationId = aws.String("g"), aws.String(dedup)
		}
		out, err := q.SendMessage(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.MessageId)
	}
	fifo, std := awstest.QueueURL("c.fifo"), awstest.QueueURL("c")
	first := send(fifo, "d1")
	if again := send(fifo, "d1"); again != first {
		t.Errorf("repeat answered id %s, want the first's %s", again, first)
	}
	send(fifo, "d2")
	send(std, "d1")
	send(std, "d1")
	count := map[string]int{}
	for _, m := range s.Sent() {
		count[m.QueueURL]++
	}
	if count[fifo] != 2 || count[std] != 2 {
		t.Errorf("stored %v, want 2 FIFO messages (one deduplicated) and 2 standard ones", count)
	}
}

// TestFailOperation fails SendMessage while secrets stay readable.
func TestFailOperation(t *testing.T) {
	s, cfg := start(t)
	s.SetSecret("x", "v")
	s.FailOperation(awstest.SendMessage, true)
	q, sm := sqs.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg)
	if _, err := q.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(awstest.QueueURL("c")), MessageBody: aws.String("b")}); err == nil {
		t.Error("SendMessage succeeded while failing")
	}
	if _, err := sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("x")}); err != nil {
		t.Errorf("GetSecretValue failed with only SendMessage failing: %v", err)
	}
	s.FailOperation(awstest.SendMessage, false)
	if _, err := q.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(awstest.QueueURL("c")), MessageBody: aws.String("b")}); err != nil {
		t.Errorf("SendMessage after the fault: %v", err)
	}
}

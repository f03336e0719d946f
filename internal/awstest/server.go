package awstest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Operation names as they appear in the X-Amz-Target header.
const (
	GetSecretValue = "secretsmanager.GetSecretValue"
	SendMessage    = "AmazonSQS.SendMessage"
)

// The JSON protocol version each service speaks; the SDK sends it as the
// Content-Type and expects it back.
var contentTypes = map[string]string{
	"secretsmanager": "application/x-amz-json-1.1",
	"AmazonSQS":      "application/x-amz-json-1.0",
}

// Account and region used in the ARNs and queue URLs the server makes up.
const (
	Account = "123456789012"
	Region  = "us-east-1"
)

// Server is the local endpoint. The zero value is not usable; call New.
// All methods are safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	secrets  map[string]secret
	versions int
	calls    map[string]int
	unsigned []string
	sent     []Message
	failNext int
	failAll  bool
	failOps  map[string]bool
	// dedup maps a FIFO queue URL and deduplication id to the message id
	// SendMessage gave the first message with them.
	dedup map[string]string
}

type secret struct {
	value   string
	version string
	created time.Time
}

// Message is one message the server accepted through SendMessage.
type Message struct {
	MessageID              string
	QueueURL               string
	Body                   string
	MessageGroupID         string
	MessageDeduplicationID string
	// Attributes holds the string value of each message attribute.
	Attributes map[string]string
}

// New returns an empty endpoint: no secrets, no messages, no faults.
func New() *Server {
	return &Server{secrets: map[string]secret{}, calls: map[string]int{}, failOps: map[string]bool{}, dedup: map[string]string{}}
}

// SetSecret creates the secret id or gives it a new current value (a new
// version), as rotation does. GetSecretValue finds it by its name or its ARN.
func (s *Server) SetSecret(id, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions++
	s.secrets[secretName(id)] = secret{
		value:   value,
		version: fmt.Sprintf("00000000-0000-4000-8000-%012d", s.versions),
		created: time.Now(),
	}
}

// SecretARN is the ARN the server reports for the secret name.
func SecretARN(name string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf", Region, Account, name)
}

// QueueURL is a well-formed queue URL for name; SendMessage accepts any URL.
func QueueURL(name string) string {
	return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", Region, Account, name)
}

var arnSuffix = regexp.MustCompile(`^arn:aws:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$`)

func secretName(id string) string {
	if m := arnSuffix.FindStringSubmatch(id); m != nil {
		return m[1]
	}
	return id
}

// FailNext makes the next n requests fail with 500 InternalServiceError
// (InternalError for SQS), which the SDK retries.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// Fail makes every request fail with 503 ServiceUnavailable until Fail(false).
func (s *Server) Fail(on bool) {
	s.mu.Lock()
	s.failAll = on
	s.mu.Unlock()
}

// FailOperation makes every request for operation (SendMessage,
// GetSecretValue) fail with 503 ServiceUnavailable until
// FailOperation(operation, false), while the other operations work: SQS
// down while the secret is still readable, say.
func (s *Server) FailOperation(operation string, on bool) {
	s.mu.Lock()
	s.failOps[operation] = on
	s.mu.Unlock()
}

// Calls is how many signed requests for operation (GetSecretValue,
// SendMessage) reached the server, failed ones included.
func (s *Server) Calls(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operation]
}

// Unsigned lists, one line each, the requests rejected for lacking a valid
// SigV4 Authorization header. A test that uses the SDK expects it empty.
func (s *Server) Unsigned() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unsigned...)
}

// Sent returns the messages accepted by SendMessage, in arrival order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// sigV4 matches the Authorization header aws-sdk-go-v2 writes:
// AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=a;b, Signature=hex
var sigV4 = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=[^/\s]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$`)

// signingNames maps a target prefix to the service name in the credential scope.
var signingNames = map[string]string{"secretsmanager": "secretsmanager", "AmazonSQS": "sqs"}

// ServeHTTP answers one AWS JSON protocol request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	service, _, _ := strings.Cut(target, ".")
	ct, known := contentTypes[service]
	if !known {
		ct = "application/x-amz-json-1.1"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("req-%d", time.Now().UnixNano()))
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "only POST / is served")
		return
	}
	if !known {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("unknown X-Amz-Target %q", target))
		return
	}
	if got := r.Header.Get("Content-Type"); got != ct {
		writeError(w, http.StatusBadRequest, "SerializationException", fmt.Sprintf("Content-Type %q, want %q", got, ct))
		return
	}
	if why := checkSignature(r, signingNames[service]); why != "" {
		s.mu.Lock()
		s.unsigned = append(s.unsigned, target+": "+why)
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "IncompleteSignatureException", why)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "unreadable body")
		return
	}

	s.mu.Lock()
	s.calls[target]++
	fault := ""
	switch {
	case s.failAll, s.failOps[target]:
		fault = "unavailable"
	case s.failNext > 0:
		s.failNext--
		fault = "internal"
	}
	s.mu.Unlock()
	switch fault {
	case "unavailable":
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "injected fault: service unavailable")
		return
	case "internal":
		code := "InternalServiceError"
		if service == "AmazonSQS" {
			code = "InternalError"
		}
		writeError(w, http.StatusInternalServerError, code, "injected fault: internal error")
		return
	}

	switch target {
	case GetSecretValue:
		s.getSecretValue(w, body)
	case SendMessage:
		s.sendMessage(w, body)
	default:
		writeError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("operation %q is not emulated", target))
	}
}

func checkSignature(r *http.Request, signingName string) string {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "no Authorization header"
	}
	m := sigV4.FindStringSubmatch(auth)
	if m == nil {
		return "Authorization header is not AWS4-HMAC-SHA256 Credential=... SignedHeaders=... Signature=..."
	}
	if m[1] != signingName {
		return fmt.Sprintf("credential scope names service %q, want %q", m[1], signingName)
	}
	signed := ";" + m[2] + ";"
	for _, h := range []string{"host", "x-amz-date"} {
		if !strings.Contains(signed, ";"+h+";") {
			return "SignedHeaders lacks " + h
		}
	}
	if r.Header.Get("X-Amz-Date") == "" {
		return "no X-Amz-Date header"
	}
	return ""
}

func (s *Server) getSecretValue(w http.ResponseWriter, body []byte) {
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "body is not JSON")
		return
	}
	if in.SecretID == "" {
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
		return
	}
	name := secretName(in.SecretID)
	s.mu.Lock()
	sec, ok := s.secrets[name]
	s.mu.Unlock()
	if !ok || (in.VersionID != "" && in.VersionID != sec.version) || (in.VersionStage != "" && in.VersionStage != "AWSCURRENT") {
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	writeJSON(w, map[string]any{
		"ARN":           SecretARN(name),
		"Name":          name,
		"SecretString":  sec.value,
		"VersionId":     sec.version,
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   float64(sec.created.UnixMilli()) / 1000,
	})
}

func (s *Server) sendMessage(w http.ResponseWriter, body []byte) {
	var in struct {
		QueueURL               string `json:"QueueUrl"`
		MessageBody            string
		MessageGroupID         string `json:"MessageGroupId"`
		MessageDeduplicationID string `json:"MessageDeduplicationId"`
		MessageAttributes      map[string]struct {
			DataType    string
			StringValue string
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "body is not JSON")
		return
	}
	switch {
	case in.QueueURL == "":
		writeError(w, http.StatusBadRequest, "MissingParameter", "QueueUrl is required")
		return
	case in.MessageBody == "":
		writeError(w, http.StatusBadRequest, "MissingParameter", "MessageBody is required")
		return
	case len(in.MessageBody) > 256*1024:
		writeError(w, http.StatusBadRequest, "InvalidParameterValue", "MessageBody is over 256 KiB")
		return
	case strings.HasSuffix(in.QueueURL, ".fifo") && in.MessageGroupID == "":
		writeError(w, http.StatusBadRequest, "MissingParameter", "MessageGroupId is required for FIFO queues")
		return
	}
	attrs := map[string]string{}
	for k, v := range in.MessageAttributes {
		attrs[k] = v.StringValue
	}
	s.mu.Lock()
	// A FIFO queue accepts a message whose deduplication id it has seen
	// and does not deliver it again. SQS does so for 5 minutes; this
	// server for its lifetime, and it answers with the first message's id
	// (the SQS docs do not say which id the accepted duplicate gets).
	dedupKey := ""
	if strings.HasSuffix(in.QueueURL, ".fifo") && in.MessageDeduplicationID != "" {
		dedupKey = in.QueueURL + "\x00" + in.MessageDeduplicationID
		if id, dup := s.dedup[dedupKey]; dup {
			s.mu.Unlock()
			sum := md5.Sum([]byte(in.MessageBody))
			writeJSON(w, map[string]any{"MessageId": id, "MD5OfMessageBody": hex.EncodeToString(sum[:])})
			return
		}
	}
	id := fmt.Sprintf("00000000-0000-4000-9000-%012d", len(s.sent)+1)
	if dedupKey != "" {
		s.dedup[dedupKey] = id
	}
	s.sent = append(s.sent, Message{
		MessageID: id, QueueURL: in.QueueURL, Body: in.MessageBody,
		MessageGroupID: in.MessageGroupID, MessageDeduplicationID: in.MessageDeduplicationID, Attributes: attrs,
	})
	s.mu.Unlock()
	// The SDK checks MD5OfMessageBody against what it sent.
	sum := md5.Sum([]byte(in.MessageBody))
	writeJSON(w, map[string]any{"MessageId": id, "MD5OfMessageBody": hex.EncodeToString(sum[:])})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalServiceError", "encoding the answer failed")
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": code, "message": message})
	_, _ = w.Write(b)
}

package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/talkjs-bridge/talkjs-bridge/internal/config"
	"github.com/talkjs-bridge/talkjs-bridge/internal/dispatch"
	"github.com/talkjs-bridge/talkjs-bridge/internal/logging"
	"github.com/talkjs-bridge/talkjs-bridge/internal/metrics"
	"github.com/talkjs-bridge/talkjs-bridge/internal/secretsource"
	"github.com/talkjs-bridge/talkjs-bridge/internal/tlsroots"
	"github.com/talkjs-bridge/talkjs-bridge/internal/tracing"
	"github.com/talkjs-bridge/talkjs-bridge/mapping"
	"github.com/talkjs-bridge/talkjs-bridge/talkjs"
)

// Secrets is what the functions need from a secret source.
type Secrets interface {
	talkjs.KeySource
	AppID(ctx context.Context) (string, error)
	WebhookSecret(ctx context.Context, name string) (string, error)
	Secrets() []string
}

// Deps are the dependencies a function is built from.
type Deps struct {
	Config  config.Config
	Logger  *slog.Logger
	Secrets Secrets
	TalkJS  *talkjs.Client
	Routes  *mapping.Routes
	// AWS is the SDK configuration, instrumented for X-Ray; nil when no
	// AWS client is needed (a local run with TALKJS_SECRET_KEY).
	AWS *aws.Config
	// Function is the function's name, the metrics dimension.
	Function string
	// Metrics receives the EMF lines, one per invocation.
	Metrics io.Writer
	// Memo remembers upserts across the invocations of this container.
	Memo *dispatch.Memo
}

// appIDTimeout bounds the one secret fetch made at start-up when the app id
// is only in the secret.
const appIDTimeout = 5 * time.Second

// From builds Deps from the environment. function names the function in
// metrics when AWS_LAMBDA_FUNCTION_NAME is unset. Its errors are one line
// naming what is wrong, fit to print before exiting.
func From(ctx context.Context, getenv func(string) string, function string, out io.Writer) (*Deps, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	d := &Deps{Config: cfg, Function: function, Metrics: out, Memo: &dispatch.Memo{}}
	if name := getenv("AWS_LAMBDA_FUNCTION_NAME"); name != "" {
		d.Function = name
	}
	// The secrets to redact are known once the key source exists, below.
	d.Logger = logging.New(out, cfg.LogLevel, func() []string {
		if d.Secrets == nil {
			return nil
		}
		return d.Secrets.Secrets()
	})
	if err := tracing.Setup(d.Logger); err != nil {
		return nil, fmt.Errorf("x-ray: %w", err)
	}

	if file := routesFile(cfg.RoutesFile, getenv); file != "" {
		d.Routes, err = mapping.Load(file)
	} else {
		d.Routes, err = mapping.Default()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvRoutesFile, err)
	}

	if cfg.SecretID != "" {
		awsCfg, err := d.AWSConfig(ctx)
		if err != nil {
			return nil, err
		}
		d.Secrets = secretsource.NewFromConfig(awsCfg, cfg.SecretID, secretsource.Options{TTL: cfg.SecretCacheTTL, Logger: d.Logger})
	} else {
		s, err := secretsource.NewStatic(cfg.SecretKey, cfg.AppID, WebhookSecretsFromEnv(getenv, d.Routes))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvSecretKey, err)
		}
		d.Secrets = s
	}

	if cfg.CommandQueueURL != "" {
		// Loaded here, where errors stop the start, so that Webhook, which
		// cannot fail, finds it.
		if _, err := d.AWSConfig(ctx); err != nil {
			return nil, err
		}
	}

	appID := cfg.AppID
	if appID == "" {
		actx, cancel := context.WithTimeout(ctx, appIDTimeout)
		appID, err = d.Secrets.AppID(actx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s is unset and the app id could not be read from the secret: %w", config.EnvAppID, err)
		}
	}

	d.TalkJS, err = talkjs.NewClient(appID, d.Secrets,
		talkjs.WithBaseURL(cfg.APIURL),
		talkjs.WithHTTPClient(tracing.HTTPClient(talkjs.NewHTTPClient())),
		talkjs.WithAttemptHook(metrics.AttemptHook))
	if err != nil {
		return nil, err
	}

	return d, nil
}

// WebhookSecretsFromEnv reads BRIDGE_WEBHOOK_SECRET_<NAME> for every secret
// name the routes use, for local runs, where there is no Secrets Manager
// JSON to hold them.
func WebhookSecretsFromEnv(getenv func(string) string, routes *mapping.Routes) map[string]string {
	out := make(map[string]string)
	for _, route := range routes.Routes() {
		vc, _ := routes.VerifyConfig(route)
		for _, name := range vc.Secrets {
			if v := getenv(WebhookSecretEnv(name)); v != "" {
				out[name] = v
			}
		}
	}
	return out
}

// WebhookSecretEnv is the variable that holds the webhook secret name for a
// local run (BRIDGE_WEBHOOK_SECRET_GITHUB for "github").
func WebhookSecretEnv(name string) string {
	b := []byte("BRIDGE_WEBHOOK_SECRET_")
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			c = '_'
		}
		b = append(b, c)
	}
	return string(b)
}

// Headroom is kept between the handler's deadline and Lambda's, so a hung
// TalkJS ends the invocation with an answer (batch item failures, a 503)
// and its logs and metrics, rather than a Lambda timeout that redelivers a
// whole batch, sent records included, and counts against maxReceiveCount.
const Headroom = 2 * time.Second

// Invoke wraps a handler so each invocation records metrics into its own
// Recorder, flushed as one EMF line when the invocation ends, and stops
// Headroom (at most a quarter of the time left) before Lambda's deadline.
func Invoke[In, Out any](d *Deps, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-min(Headroom, time.Until(dl)/4)))
			defer cancel()
		}
		rec := metrics.New(d.Config.MetricsNamespace, d.Function)
		ctx = metrics.NewContext(ctx, rec)
		defer func() {
			if err := rec.Flush(d.Metrics); err != nil {
				d.Logger.WarnContext(ctx, "metrics not written", "reason", err.Error())
			}
		}()
		return h(ctx, in)
	}
}

// WebhookSecrets adapts the secret source to mapping's lookup.
func (d *Deps) WebhookSecrets() mapping.SecretLookup {
	return d.Secrets.WebhookSecret
}

// Fatal prints err as one line and exits: for start-up failures only, before
// lambda.Start, so Lambda reports an init error naming the problem.
func Fatal(function string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", function, err)
	os.Exit(1)
}

// AWSConfig returns the SDK configuration, loading it (instrumented for
// X-Ray, verifying TLS against the roots compiled into the binary) the first
// time it is needed.
func (d *Deps) AWSConfig(ctx context.Context) (aws.Config, error) {
	if d.AWS != nil {
		return *d.AWS, nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithHTTPClient(awshttp.NewBuildableClient()))
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	// The option runs after the SDK's own: AWS_CA_BUNDLE (or a profile's
	// ca_bundle) has then put its roots in RootCAs, an explicit choice for
	// AWS (a VPC endpoint's private CA, say) that wins over the embedded ones.
	bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return aws.Config{}, fmt.Errorf("aws config: HTTP client is a %T, not the one given", cfg.HTTPClient)
	}
	cfg.HTTPClient = bc.WithTransportOptions(func(t *http.Transport) {
		if t.TLSClientConfig == nil || t.TLSClientConfig.RootCAs == nil {
			t.TLSClientConfig = tlsroots.Config()
		}
	})
	tracing.InstrumentAWS(&cfg)
	d.AWS = &cfg
	return cfg, nil
}

// TraceRecords makes one X-Ray subsegment per SQS record, or per coalesced
// run of records sent in one TalkJS call, annotated with their message ids.
func TraceRecords(ctx context.Context, ids []string, fn func(context.Context) error) error {
	return tracing.Record(ctx, "SQS record", func(ctx context.Context) error {
		tracing.Annotate(ctx, "message_ids", strings.Join(ids, ","))
		return fn(ctx)
	})
}

// PackagedRoutesFile is the name of the routes file `make build` and
// `sam build` put next to each function's bootstrap when the checkout has
// its own routes.yaml (the Makefile's ROUTES).
const PackagedRoutesFile = "routes.yaml"

// routesFile picks the routes file: BRIDGE_CONFIG when set, else the file
// packaged next to the bootstrap (in LAMBDA_TASK_ROOT, where Lambda unpacks
// the function), else "" for the embedded one.
func routesFile(configured string, getenv func(string) string) string {
	if configured != "" {
		return configured
	}
	root := getenv("LAMBDA_TASK_ROOT")
	if root == "" {
		return ""
	}
	p := filepath.Join(root, PackagedRoutesFile)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	// Any other error is Load's to report: a file that is there but
	// unreadable must not quietly give way to the embedded routes.
	return p
}

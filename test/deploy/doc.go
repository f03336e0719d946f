// Package deploy holds no code, only tests of the deployment files at the
// repository root: template.yaml (the AWS SAM application) is parsed with
// goformation and checked for what the bridge relies on (build targets,
// environment, tracing, batch item failures, redrive, least-privilege
// policies, alarms); every file in events/ is decoded as the aws-lambda-go
// event type its function receives and its signatures are recomputed; no
// physical name is fixed and cfn-lint (when installed) finds nothing; the
// GitHub Actions workflows are run through actionlint and checked for the
// staging-then-production order, OIDC and commit-pinned actions; and the
// Makefile's help, build-<LogicalId> guard and routes-file packaging are run.
package deploy

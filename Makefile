# talkjs-bridge: build, test and run the Lambda functions locally.
# Every target works on a fresh clone with Go installed; see README.md.

SHELL := /bin/bash
GO ?= go
ARCH ?= arm64
FUNCTIONS := webhook queue schedule
BUILD_FLAGS := -trimpath -tags lambda.norpc -ldflags='-s -w'
EVENT ?=
FN ?=
# Your routes file: routes.yaml at the checkout root, or ROUTES=<path>. When it exists,
# the builds validate it and package it next to each bootstrap, where the functions
# read it (LAMBDA_TASK_ROOT/routes.yaml); without it the embedded routes apply.
ROUTES ?= routes.yaml

.PHONY: all help build test vet fmt-check lint demo run invoke bench fuzz soak deploy clean \
	build-WebhookFunction build-QueueFunction build-ScheduleFunction scan-test-output cfn-lint package-routes schema routes-bin

all: build

## help: list the targets and what they do
help:
	@awk '/^## [A-Za-z0-9_<>%-]+:/ { l = substr($$0, 4); i = index(l, ":"); printf "  %-22s %s\n", substr(l, 1, i - 1), substr(l, i + 2); next } \
	  /^## / { printf "  %-22s %s\n", "", substr($$0, 4) }' $(firstword $(MAKEFILE_LIST))

## build: build/<name>/bootstrap for each function (ARCH=arm64 by default; ARCH=amd64 for this machine)
build: $(addprefix build/,$(addsuffix /bootstrap,$(FUNCTIONS)))

build/%/bootstrap: FORCE
	$(call package_routes,build/$*)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(ARCH) $(GO) build $(BUILD_FLAGS) -o $@ ./functions/$*

# package_routes,DIR: validate $(ROUTES) (an invalid file fails the build, each problem
# as file:line: routes.<route>...: message) and copy it to DIR/routes.yaml; without a
# routes file, remove a stale DIR/routes.yaml so the embedded routes apply. A ROUTES
# given on the command line or in the environment must exist.
define package_routes
	@mkdir -p "$(1)"
	@if [ -f "$(ROUTES)" ]; then \
	  $(GO) run ./cmd/bridge validate "$(ROUTES)" || { echo "$(ROUTES) is not valid (above): fix it, or remove it to build with the embedded routes" >&2; exit 1; }; \
	  cp "$(ROUTES)" "$(1)/routes.yaml"; \
	elif [ "$(origin ROUTES)" != "file" ]; then \
	  echo "ROUTES=$(ROUTES): no such file" >&2; exit 1; \
	else rm -f "$(1)/routes.yaml"; fi
endef

## package-routes: validate ROUTES (default routes.yaml) and copy it into ARTIFACTS_DIR,
## as every build does; without the file, the embedded routes apply
package-routes:
	@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set"; exit 2; }
	$(call package_routes,$(ARTIFACTS_DIR))

FORCE:

## build-<LogicalId>: what sam build runs (BuildMethod: makefile), with ARTIFACTS_DIR set;
## refuses to run without it (it would write /bootstrap)
build-WebhookFunction build-QueueFunction build-ScheduleFunction: build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set; sam build sets it. For a local build run 'make build' (build/<name>/bootstrap) or 'make $@ ARTIFACTS_DIR=<dir>'."; exit 2; }
	$(call package_routes,$(ARTIFACTS_DIR))
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | tr A-Z a-z)

## test: formatting, vet, the workflow lint and every test with the race detector;
## the whole suite's output (verbose, in build/test-output.log) is then scanned for
## TalkJS keys and webhook secrets, which must never appear in logs or test output
test: fmt-check vet cfn-lint
	@mkdir -p build
	@echo "go test -race -v ./... (full output in build/test-output.log)"
	@$(GO) test -race -timeout 20m -v ./... > build/test-output.log 2>&1; status=$$?; \
	  grep -E '^(ok|FAIL|panic:)|^\s*--- (FAIL|SKIP)|_test\.go:[0-9]+:' build/test-output.log; \
	  if [ $$status -ne 0 ]; then echo "--- last lines of build/test-output.log:"; tail -n 150 build/test-output.log; fi; \
	  exit $$status
	@$(MAKE) --no-print-directory scan-test-output
	@echo "tests: $$(grep -cE '^\s*--- PASS' build/test-output.log) passed, $$(grep -cE '^\s*--- FAIL' build/test-output.log) failed, $$(grep -cE '^\s*--- SKIP' build/test-output.log) skipped"

## scan-test-output: fail when build/test-output.log holds a TalkJS key or webhook secret
# Secrets look like sk_test_/sk_live_ (TalkJS keys) or whsec_ (webhook secrets), or are
# the demo secrets; none may appear anywhere in what the suite printed.
scan-test-output:
	@if grep -nE 'sk_(test|live)_[A-Za-z0-9]|whsec_[A-Za-z0-9]|demo-[a-z]+-(secret|token)' build/test-output.log; then \
	  echo "a TalkJS key or webhook secret appears in the test output (above)"; exit 1; fi
	@echo "secret scan: no TalkJS key or webhook secret in $$(wc -l < build/test-output.log) lines of test output"

## cfn-lint: lint template.yaml, informational findings included, when cfn-lint is
## installed (pip install cfn-lint; CI installs it); says so and goes on otherwise
cfn-lint:
	@if command -v cfn-lint >/dev/null; then \
	  echo "cfn-lint -t template.yaml --include-checks I"; cfn-lint -t template.yaml --include-checks I; \
	else echo "cfn-lint not installed (pip install cfn-lint): template.yaml not linted"; fi

## fmt-check: fail when gofmt would change a file
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## vet: go vet ./...
vet:
	$(GO) vet ./...

## lint: actionlint on the GitHub workflows
lint:
	@if [ -d .github/workflows ]; then $(GO) tool actionlint; fi

## demo: build the functions, run them under the Lambda runtime emulator against the
## embedded TalkJS emulator, replay events/ and print a transcript (real TalkJS when
## TALKJS_APP_ID and TALKJS_SECRET_KEY are set)
demo:
	$(GO) run ./cmd/demo

## run: the handlers and the /inbox page on http://localhost:3000 (bridge serve), with
## ROUTES (routes.yaml) when it exists
run:
	$(GO) run ./cmd/bridge serve $(if $(wildcard $(ROUTES)),--routes $(ROUTES))

## invoke: one event through one function under the runtime emulator
##   make invoke FN=webhook EVENT=events/webhook-github-issue-rest.json
invoke:
	@test -n "$(EVENT)" || { echo "usage: make invoke FN=<webhook|queue|schedule> EVENT=events/<file>.json"; exit 2; }
	$(GO) run ./cmd/demo -event $(EVENT) $(if $(FN),-fn $(FN))

## bench: cold start, per-send cost, batching, secret fetches and memory against
## their floors, measured side by side in one run; prints the table and rewrites
## the generated block of BENCHMARKS.md (BENCHFLAGS=-warm-only for the quick rows)
bench:
	$(GO) run ./cmd/bench $(BENCHFLAGS)

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

## soak: the fault soak at full size (10,000 records; make test runs a smaller one)
soak:
	SOAK_RECORDS=10000 $(GO) test -run 'TestFaultSoak' -count=1 -v -timeout 30m ./test/soak/

## deploy: sam build && sam deploy (needs the AWS SAM CLI)
deploy:
	@command -v sam >/dev/null || { echo "sam (the AWS SAM CLI) is not installed: see https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"; exit 1; }
	sam build && sam deploy

## schema: regenerate routes.schema.json (the routes file's JSON Schema) from internal/routeschema's Go types
schema:
	$(GO) test ./internal/routeschema -run TestSchemaIsCurrent -update

## routes-bin: regenerate mapping/routes.bin (the embedded routes, pre-decoded) after editing mapping/routes.yaml
# The same as go generate ./mapping. It refuses a routes.yaml that does not parse
# strictly; make test fails while routes.bin is stale.
routes-bin:
	$(GO) test ./mapping -run '^TestRoutesBinIsCurrent$$' -update

## clean: remove build/
clean:
	rm -rf build

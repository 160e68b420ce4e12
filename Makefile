# The two commands a newcomer needs are `make dev` and `make test`; every
# tool they use is built here from pinned versions into .bin (git-ignored).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO_MODULES := proto services/platform services workflows gateway deploy
BIN := $(CURDIR)/.bin
BUILD := $(CURDIR)/.build

# Pinned tool versions (TOOLCHAIN facts: these build offline from the module proxy).
BUF_VERSION         := v1.75.0
PROTOC_GEN_GO       := v1.36.12
PROTOC_GEN_GO_GRPC  := v1.6.0
GRPC_GATEWAY        := v2.33.0
TEMPORAL_CLI        := v1.5.1
STATICCHECK         := v0.8.2
# Production-mode run and deploy checks.
TEMPORAL_SERVER_VERSION := v1.32.1
TEMPORAL_UI_VERSION     := v2.55.0
HELM_VERSION            := v3.22.0
COMPOSE_VERSION         := v5.6.0
KUBECONFORM_VERSION     := v0.7.0
K8S_SCHEMA_VERSION      := v1.37.2
# The API server the chart is dry-run against (its k8s.io/* at v0.<minor>).
KUBE_APISERVER_VERSION  := v1.33.0
# The S3-compatible object store of the production-mode run (attachments).
SEAWEEDFS_VERSION       := v0.0.0-20261109003541-7506e5f91cd6
GOTESTSUM           := v1.13.0
OAPI_CODEGEN        := v2.8.2
# The protovalidate schema (buf/validate/validate.proto) is read from this Go
# module in the module cache, as google/api is read from npm.
PROTOVALIDATE_SCHEMA := v1.2.2

tool = $(BIN)/$(1)-$(2)/$(1)
BUF         := $(call tool,buf,$(BUF_VERSION))
GEN_GO      := $(call tool,protoc-gen-go,$(PROTOC_GEN_GO))
GEN_GO_GRPC := $(call tool,protoc-gen-go-grpc,$(PROTOC_GEN_GO_GRPC))
GEN_GW      := $(call tool,protoc-gen-grpc-gateway,$(GRPC_GATEWAY))
GEN_OAS     := $(call tool,protoc-gen-openapiv3,$(GRPC_GATEWAY))
TEMPORAL    := $(call tool,temporal,$(TEMPORAL_CLI))
STATICCHECK_BIN := $(call tool,staticcheck,$(STATICCHECK))
# Static builds (see STATIC_INSTALL): prod-test runs them and the images copy them.
TEMPORAL_SERVER   := $(BIN)/temporal-server-$(TEMPORAL_SERVER_VERSION)-static/server
TEMPORAL_SQL_TOOL := $(BIN)/temporal-sql-tool-$(TEMPORAL_SERVER_VERSION)-static/sql
TEMPORAL_UI       := $(BIN)/temporal-ui-server-$(TEMPORAL_UI_VERSION)-static/server
HELM              := $(call tool,helm,$(HELM_VERSION))
COMPOSE           := $(BIN)/docker-compose-$(COMPOSE_VERSION)/docker-compose
KUBECONFORM       := $(call tool,kubeconform,$(KUBECONFORM_VERSION))
K8S_SCHEMAS       := $(BIN)/k8s-schemas-$(K8S_SCHEMA_VERSION)
KUBE_APISERVER    := $(call tool,kube-apiserver,$(KUBE_APISERVER_VERSION))
WEED              := $(BIN)/seaweedfs-$(SEAWEEDFS_VERSION)/weed
GOTESTSUM_BIN   := $(call tool,gotestsum,$(GOTESTSUM))
OAPI_CODEGEN_BIN := $(call tool,oapi-codegen,$(OAPI_CODEGEN))
PLUGINS := $(GEN_GO) $(GEN_GO_GRPC) $(GEN_GW) $(GEN_OAS)
PLUGIN_PATH := $(subst $(eval) ,:,$(foreach p,$(PLUGINS),$(dir $(p))))

export CRM_TEMPORAL_BIN ?= $(TEMPORAL)

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# --- tools -------------------------------------------------------------------

$(BUF):
	GOBIN=$(dir $@) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(GEN_GO):
	GOBIN=$(dir $@) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
$(GEN_GO_GRPC):
	GOBIN=$(dir $@) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC)
$(GEN_GW):
	GOBIN=$(dir $@) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY)
$(GEN_OAS):
	GOBIN=$(dir $@) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv3@$(GRPC_GATEWAY)
$(TEMPORAL):
	@echo "building the Temporal CLI $(TEMPORAL_CLI) (dev server and Web UI); the first time takes a few minutes"
	GOBIN=$(dir $@) go install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI)
$(STATICCHECK_BIN):
	GOBIN=$(dir $@) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK)
# Temporal's server, SQL tool and Web UI are built once, static, the way the
# scratch images need them, so prod-test and make images share one build.
STATIC_INSTALL = CGO_ENABLED=0 GOFLAGS=-trimpath GOBIN=$(dir $@) go install -ldflags='-s -w'
$(TEMPORAL_SERVER):
	@echo "building the Temporal server $(TEMPORAL_SERVER_VERSION) (a few minutes the first time)"
	$(STATIC_INSTALL) go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION)
$(TEMPORAL_SQL_TOOL):
	$(STATIC_INSTALL) go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
$(TEMPORAL_UI):
	$(STATIC_INSTALL) github.com/temporalio/ui-server/v2/cmd/server@$(TEMPORAL_UI_VERSION)
# SeaweedFS's go.mod has replace directives, which `go install pkg@version`
# refuses; it is built inside its own module from the module cache instead.
$(WEED):
	@echo "building SeaweedFS $(SEAWEEDFS_VERSION) (many minutes the first time)"
	mkdir -p $(dir $@)
	cd "$$(GOWORK=off go mod download -json github.com/seaweedfs/seaweedfs@$(SEAWEEDFS_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p')" && \
		GOWORK=off GOFLAGS=-mod=readonly go build -trimpath -o $@ ./weed
$(HELM):
	GOBIN=$(dir $@) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
$(KUBECONFORM):
	GOBIN=$(dir $@) go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)
# The compose module's exclude directives stop `go install`; built from a
# copy of its source it works.
$(COMPOSE):
	@src=$$(go mod download -json github.com/docker/compose/v5@$(COMPOSE_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  tmp=$$(mktemp -d); cp -r "$$src/." "$$tmp"; chmod -R u+w "$$tmp"; \
	  echo "building docker compose $(COMPOSE_VERSION) (client only)"; \
	  (cd "$$tmp" && GOWORK=off GOFLAGS=-mod=mod go build -ldflags "-X github.com/docker/compose/v5/internal.Version=$(COMPOSE_VERSION)" -o $@ ./cmd) ; rc=$$?; rm -rf "$$tmp"; exit $$rc
# k8s.io/kubernetes points its k8s.io/* modules at ./staging, which its
# module download leaves out: a copy of its source, with each pointed at the
# release of the same minor (v1.33.0 -> v0.33.0), builds kube-apiserver.
$(KUBE_APISERVER):
	@src=$$(go mod download -json k8s.io/kubernetes@$(KUBE_APISERVER_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  test -n "$$src" || { echo "could not download k8s.io/kubernetes@$(KUBE_APISERVER_VERSION)"; exit 1; }; \
	  tmp=$$(mktemp -d); cp -r "$$src/." "$$tmp"; chmod -R u+w "$$tmp"; \
	  sed -i 's#^\([[:space:]]*\)\(k8s.io/[a-z-]*\) => ./staging/src/.*#\1\2 => \2 $(subst v1.,v0.,$(KUBE_APISERVER_VERSION))#' "$$tmp/go.mod"; \
	  echo "building kube-apiserver $(KUBE_APISERVER_VERSION) (several minutes the first time)"; \
	  if (cd "$$tmp" && GOWORK=off GOFLAGS=-mod=mod go build -trimpath -o $@ ./cmd/kube-apiserver); then rc=0; else rc=$$?; fi; \
	  rm -rf "$$tmp"; exit $$rc
# Per-kind JSON schemas for kubeconform, generated from Kubernetes' own
# OpenAPI document (no schema registry is reachable); made again when the
# generator changes.
$(K8S_SCHEMAS)/.done: deploy/cmd/k8s-schemas/main.go
	@src=$$(go mod download -json k8s.io/kubernetes@$(K8S_SCHEMA_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  go run ./deploy/cmd/k8s-schemas -swagger "$$src/api/openapi-spec/swagger.json" -out $(K8S_SCHEMAS)
	@touch $@
$(GOTESTSUM_BIN):
	GOBIN=$(dir $@) go install gotest.tools/gotestsum@$(GOTESTSUM)
$(OAPI_CODEGEN_BIN):
	GOBIN=$(dir $@) go install github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@$(OAPI_CODEGEN)

# buf.yaml names .build/protovalidate as a module; it points into the Go
# module cache, so the schema is downloaded, never copied into the repo.
PROTOVALIDATE := $(BUILD)/protovalidate
.PHONY: $(PROTOVALIDATE)
$(PROTOVALIDATE):
	@src=$$(go mod download -json github.com/bufbuild/protovalidate@$(PROTOVALIDATE_SCHEMA) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  test -n "$$src" || { echo "could not download github.com/bufbuild/protovalidate@$(PROTOVALIDATE_SCHEMA)"; exit 1; }; \
	  mkdir -p $(BUILD); ln -sfn "$$src/proto/protovalidate" $@

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: tools
tools: $(BUF) $(PLUGINS) $(TEMPORAL) frontend/node_modules/.package-lock.json ## Build the pinned tools.

# --- generated code ----------------------------------------------------------

.PHONY: generate
generate: $(BUF) $(PLUGINS) $(PROTOVALIDATE) $(OAPI_CODEGEN_BIN) frontend/node_modules/.package-lock.json ## Regenerate Go, gateway, OpenAPI, TypeScript, the console's limits and the Go REST client from proto/.
	rm -rf proto/gen gateway/openapi/crm
	PATH="$(PLUGIN_PATH):$$PATH" $(BUF) generate proto
	go run ./gateway/cmd/openapi > gateway/openapi/crm.openapi.json
	go run ./gateway/cmd/limits > frontend/src/api/limits.gen.ts
	cd frontend && npx openapi-typescript ../gateway/openapi/crm.openapi.json -o src/api/schema.d.ts --silent
	$(OAPI_CODEGEN_BIN) -config deploy/apiclient/oapi-codegen.yaml gateway/openapi/crm.openapi.json

.PHONY: lint
lint: $(BUF) $(STATICCHECK_BIN) $(PROTOVALIDATE) frontend/node_modules/.package-lock.json ## buf lint, Redocly over the OpenAPI document, ESLint and Prettier over the console, gofmt, go vet (each module on its own) and staticcheck.
	$(BUF) lint
	cd frontend && npx redocly lint ../gateway/openapi/crm.openapi.json --config ../gateway/openapi/redocly.yaml --format summary
	cd frontend && npm run --silent lint
	@unformatted=$$(gofmt -l $(GO_MODULES)); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	for m in $(GO_MODULES); do (cd $$m && GOWORK=off go vet ./... && $(STATICCHECK_BIN) ./...); done

# --- build and run -----------------------------------------------------------

COMMANDS := services/cmd/customer services/cmd/contract services/cmd/identity services/cmd/task services/cmd/notifier services/cmd/migrate workflows/cmd/worker gateway/cmd/gateway deploy/cmd/crm-probe deploy/cmd/crm-local deploy/cmd/crm-prod deploy/cmd/crm-bench deploy/cmd/crm-drill deploy/cmd/crm-compose

# Static binaries, as the scratch images need them: make images copies
# these rather than building everything again with other flags.
.PHONY: build
build: ## Build every deployable into .build/bin.
	@mkdir -p $(BUILD)/bin
	@for c in $(COMMANDS); do [ -d $$c ] || continue; echo "go build $$c"; (cd $${c%%/cmd/*} && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o $(BUILD)/bin/ ./cmd/$${c##*/cmd/}); done

.PHONY: console
console: frontend/node_modules/.package-lock.json ## Build the operator console into frontend/dist.
	cd frontend && npm run build --silent

.PHONY: dev
dev: build console $(TEMPORAL) ## Build and start the whole local stack; Ctrl-C stops it.
	CRM_BIN_DIR=$(BUILD)/bin CRM_CONSOLE_DIR=$(CURDIR)/frontend/dist $(BUILD)/bin/crm-local

# --- tests -------------------------------------------------------------------

GO_TEST_FLAGS ?= -race -count=1
# gotestsum runs go test over every module and ends with one summary line.
go_test = $(GOTESTSUM_BIN) --format pkgname-and-test-fails --format-hide-empty-pkg -- $(GO_TEST_FLAGS) $(foreach m,$(1),./$(m)/...)

.PHONY: test
test: $(TEMPORAL) $(GOTESTSUM_BIN) frontend/node_modules/.package-lock.json ## Unit and integration tests (SQLite, a real Temporal dev server), console unit tests.
	$(call go_test,$(GO_MODULES))
	cd frontend && npx vitest run

.PHONY: test-postgres
test-postgres: $(GOTESTSUM_BIN) ## The Go suites again on PostgreSQL (CRM_TEST_DATABASE_URL must be set).
	@test -n "$${CRM_TEST_DATABASE_URL:-}" || { echo "set CRM_TEST_DATABASE_URL to a PostgreSQL URL"; exit 2; }
	$(call go_test,services workflows deploy)

# Each Go benchmark once, at a size that takes seconds, so that none stops
# working unnoticed between the runs that measure with it.
.PHONY: bench-smoke
bench-smoke: ## Run every Go benchmark once at a small size on PostgreSQL (CRM_TEST_DATABASE_URL must be set).
	@test -n "$${CRM_TEST_DATABASE_URL:-}" || { echo "set CRM_TEST_DATABASE_URL to a PostgreSQL URL"; exit 2; }
	CRM_BENCH_TASKS=2000 CRM_BENCH_CUSTOMERS=2000 CRM_BENCH_IMPORT_ROWS=200 \
	  go test -run '^$$' -bench . -benchtime 1x $(foreach m,$(GO_MODULES),./$(m)/...)

FUZZ_TIME ?= 10s

# Every Go fuzz target (func Fuzz… in a _test.go file) runs for FUZZ_TIME; a
# failing input is saved under the package's testdata/fuzz and fails the run.
.PHONY: fuzz
fuzz: ## Run each Go fuzz target briefly (FUZZ_TIME, default 10s).
	@targets=$$(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' $(GO_MODULES) | sed 's|/[^/]*:func | |' | sort -u); \
	  test -n "$$targets" || { echo "no fuzz targets found"; exit 1; }; \
	  while read -r dir name; do echo "fuzz $$dir $$name ($(FUZZ_TIME))"; \
	    (cd $$dir && go test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZ_TIME) .) || exit 1; \
	  done <<< "$$targets"

.PHONY: check-generated
check-generated: generate ## Fail when regenerating changes committed files.
	@git diff --exit-code --stat -- proto/gen gateway/openapi frontend/src/api deploy/apiclient || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- proto/gen gateway/openapi frontend/src/api deploy/apiclient)" || { git status --porcelain -- proto/gen gateway/openapi frontend/src/api deploy/apiclient; echo "generated files are not committed"; exit 1; }

.PHONY: e2e
e2e: build console $(TEMPORAL) ## Browser tests of the console (@playwright/test) against a fresh local stack; E2E_ARGS go to playwright.
	CRM_TEMPORAL_BIN=$(TEMPORAL) deploy/scripts/e2e.sh $(E2E_ARGS)

.PHONY: lighthouse
lighthouse: build console $(TEMPORAL) ## The console's speed on a phone (Lighthouse, mobile preset): sign-in and home, LH_RUNS runs each.
	CRM_TEMPORAL_BIN=$(TEMPORAL) deploy/scripts/lighthouse.sh

BENCH_FLAGS ?=

.PHONY: bench
bench: build $(TEMPORAL) ## Transitions/s and latency through the product beside bare Temporal loops.
	@data=$$(mktemp -d); trap 'rm -rf "$$data"' EXIT; \
	CRM_DATA_DIR=$$data CRM_HTTP_ADDR=127.0.0.1:18580 CRM_TEMPORAL_PORT=17533 CRM_TEMPORAL_UI_PORT=18533 \
	CRM_ADMIN_PASSWORD=bench-admin-password CRM_ADMIN_PASSWORD_CHANGE=false CRM_LOG_LEVEL=warn CRM_BIN_DIR=$(BUILD)/bin \
	$(BUILD)/bin/crm-bench $(BENCH_FLAGS)

# The same measurements on the production topology: a Temporal server on
# PostgreSQL, the services on PostgreSQL, mutual TLS (what make prod-test
# starts), with BENCH_WORKERS workers and BENCH_TASK_REPLICAS task services.
BENCH_WORKERS ?= 1
BENCH_TASK_REPLICAS ?= 1

.PHONY: bench-production
bench-production: build prod-tools ## make bench on the production topology; BENCH_WORKERS and BENCH_TASK_REPLICAS scale it.
	$(PROD_ENV) CRM_LOCAL_WORKERS=$(BENCH_WORKERS) CRM_LOCAL_TASK_REPLICAS=$(BENCH_TASK_REPLICAS) \
	CRM_ADMIN_PASSWORD=bench-admin-password CRM_LOG_LEVEL=warn \
	$(BUILD)/bin/crm-bench -topology production $(BENCH_FLAGS)

# --- fault drills --------------------------------------------------------------

# Each drill starts a private stack (free ports, a temporary data folder),
# drives tasks through REST while it hurts the stack, and ends with a
# verdict: PASS or FAIL with the figures; a FAIL exits non-zero and keeps
# the stack's data and logs. DRILL_FLAGS sizes them (crm-drill -h).
DRILL_FLAGS ?=
DRILL = CRM_BIN_DIR=$(BUILD)/bin CRM_TEMPORAL_BIN=$(TEMPORAL) $(BUILD)/bin/crm-drill $(DRILL_FLAGS)

.PHONY: drill-kill drill-restart drill-telegram drills
drill-kill: build $(TEMPORAL) ## Fault drill: kill -9 the worker and each service at random during 1,000 tasks.
	$(DRILL) kill
drill-restart: build $(TEMPORAL) ## Fault drill: restart Temporal and a throwaway PostgreSQL under load.
	$(DRILL) restart
drill-telegram: build $(TEMPORAL) ## Fault drill: the Telegram Bot API (a fake) out of reach, then back.
	$(DRILL) telegram
drills: build $(TEMPORAL) ## All three fault drills, one after another.
	$(DRILL) all

# --- production mode and deploy checks -----------------------------------------

PROD_TOOLS := $(TEMPORAL_SERVER) $(TEMPORAL_SQL_TOOL) $(TEMPORAL_UI) $(TEMPORAL)
PROD_ENV = CRM_BIN_DIR=$(BUILD)/bin CRM_TEMPORAL_BIN=$(TEMPORAL) \
	CRM_TEMPORAL_SERVER_BIN=$(TEMPORAL_SERVER) CRM_TEMPORAL_SQL_TOOL_BIN=$(TEMPORAL_SQL_TOOL) CRM_TEMPORAL_UI_SERVER_BIN=$(TEMPORAL_UI) CRM_WEED_BIN=$(if $(wildcard $(WEED)),$(WEED)) \
	CRM_TEMPORAL_SCHEMA_DIR=$$(go mod download -json go.temporal.io/server@$(TEMPORAL_SERVER_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p')/schema/postgresql/v12 \
	CRM_DEPLOY_DIR=$(CURDIR)/deploy

# The CA and a certificate per component for mutual TLS between them
# (docs/security.md); compose mounts the folder. Valid files are kept.
CERTS_DIR ?= .data/certs
CERTS_FLAGS ?=

.PHONY: certs
certs: ## Make the CA and each component's certificate in CERTS_DIR (.data/certs); CERTS_FLAGS e.g. "-hosts crm.example -days 90", "-renew".
	cd deploy && go run ./cmd/crm-certs -dir $(abspath $(CERTS_DIR)) $(CERTS_FLAGS)

.PHONY: prod-tools
prod-tools: $(PROD_TOOLS) ## Build the Temporal server, temporal-sql-tool and the Web UI server.

# The production-mode run keeps attachments in SeaweedFS's S3 gateway once
# this is built; without it they stay on the local disk.
.PHONY: s3-tool
s3-tool: $(WEED) ## Build SeaweedFS, the S3-compatible server of the production-mode run (long: hundreds of modules).

.PHONY: prod-local
prod-local: build console prod-tools ## Production mode here: Temporal server + services on PostgreSQL (throwaway databases); Ctrl-C stops.
	$(PROD_ENV) CRM_CONSOLE_DIR=$(CURDIR)/frontend/dist $(BUILD)/bin/crm-prod run

.PHONY: prod-test
prod-test: build prod-tools ## Production mode checked: smoke and the end-to-end suite against it; drops what it made.
	$(PROD_ENV) $(BUILD)/bin/crm-prod test

# The images' tag, named once for make images and the compose targets.
CRM_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: images
images: build console $(TEMPORAL_SERVER) $(TEMPORAL_SQL_TOOL) $(TEMPORAL_UI) ## Build every image offline (deploy/docker/Dockerfile, all on scratch): the services, the gateway with the console, Temporal, its SQL tool and Web UI.
	CRM_VERSION=$(CRM_VERSION) CRM_BIN_DIR=$(BUILD)/bin TEMPORAL_SERVER_VERSION=$(TEMPORAL_SERVER_VERSION) TEMPORAL_SERVER_BIN=$(TEMPORAL_SERVER) TEMPORAL_SQL_TOOL_BIN=$(TEMPORAL_SQL_TOOL) TEMPORAL_UI_BIN=$(TEMPORAL_UI) \
		deploy/scripts/images.sh

# The production compose stack on this host (deploy/compose with the
# host-network override), from the images above; COMPOSE_TEST_FLAGS size
# the test (crm-compose test -h).
COMPOSE_RUN = CRM_VERSION=$(CRM_VERSION) CRM_BIN_DIR=$(BUILD)/bin CRM_COMPOSE=$(COMPOSE) deploy/scripts/compose.sh
COMPOSE_TEST_FLAGS ?=

# make bench on the compose stack (the images above, project crm-bench),
# with BENCH_WORKERS workers (1 or 2: the compose file's two).
.PHONY: bench-compose
bench-compose: build images $(COMPOSE) ## make bench on the compose stack (containers); BENCH_WORKERS is 1 or 2.
	CRM_LOCAL_WORKERS=$(BENCH_WORKERS) CRM_ADMIN_PASSWORD=bench-admin-password $(COMPOSE_RUN) bench $(BENCH_FLAGS)

.PHONY: compose-up
compose-up: build images $(COMPOSE) ## Start the production compose stack here (PostgreSQL, Temporal and its UI, every service, two workers); prints the URLs.
	$(COMPOSE_RUN) up

.PHONY: compose-down
compose-down: build $(COMPOSE) ## Stop the compose stack (COMPOSE_DOWN_FLAGS=-volumes drops its database too).
	$(COMPOSE_RUN) down $(COMPOSE_DOWN_FLAGS)

.PHONY: compose-test
compose-test: build images $(COMPOSE) frontend/node_modules/.package-lock.json ## The compose stack tested: the browser suite against it, then the kill drill (docker kill of the worker, task service, Temporal).
	$(COMPOSE_RUN) test $(COMPOSE_TEST_FLAGS)

.PHONY: deploy-tools
deploy-tools: $(COMPOSE) $(HELM) $(KUBECONFORM) $(K8S_SCHEMAS)/.done $(KUBE_APISERVER) ## Build docker compose (client), helm, kubeconform, the Kubernetes schemas and kube-apiserver.

# .ci/run builds these from its start, at the lowest priority, beside the
# test suites: they are what prod-test, deploy-check and make images need.
.PHONY: later-tools
later-tools: $(TEMPORAL_SERVER) $(TEMPORAL_SQL_TOOL) $(TEMPORAL_UI) deploy-tools ## Build the tools of prod-test, deploy-check and the images (not the Temporal CLI make test builds).

.PHONY: kube-apiserver
kube-apiserver: $(KUBE_APISERVER) ## Build the Kubernetes API server the chart is dry-run against (long the first time).

CHART := deploy/k8s/crm

.PHONY: deploy-check
deploy-check: deploy-tools ## Validate the Dockerfile, the compose file and the Helm chart offline, the chart by a real API server's dry run.
	cd deploy/docker/check && GOWORK=off go run . -targets identity,customer,contract,task,notifier,worker,migrate,gateway,temporal-server,temporal-admin-tools,temporal-ui,postgres ../Dockerfile
	CRM_INTERNAL_KEY=check POSTGRES_PASSWORD=check CRM_ADMIN_PASSWORD=check-only-password CRM_CERTS_DIR=/certs $(COMPOSE) -f deploy/compose/compose.yaml config --quiet
	CRM_INTERNAL_KEY=check POSTGRES_PASSWORD=check CRM_ADMIN_PASSWORD=check-only-password CRM_CERTS_DIR=/certs $(COMPOSE) -f deploy/compose/compose.yaml -f deploy/compose/compose.host.yaml config --quiet
	CRM_INTERNAL_KEY=check POSTGRES_PASSWORD=check CRM_ADMIN_PASSWORD=check-only-password CRM_CERTS_DIR=/certs $(COMPOSE) -f deploy/compose/compose.yaml config --services
	$(HELM) lint --strict $(CHART) -f deploy/k8s/min-values.yaml
	$(HELM) lint --strict $(CHART) -f deploy/k8s/ci-values.yaml
	$(HELM) lint --strict $(CHART) -f deploy/k8s/ci-values.yaml -f deploy/k8s/tls-values.yaml
	@mkdir -p $(BUILD)/k8s
	$(HELM) template crm $(CHART) --namespace crm --kube-version 1.33 -f deploy/k8s/min-values.yaml > $(BUILD)/k8s/min.yaml
	$(HELM) template crm $(CHART) --namespace crm --kube-version 1.33 -f deploy/k8s/ci-values.yaml > $(BUILD)/k8s/full.yaml
	$(HELM) template crm $(CHART) --namespace crm --kube-version 1.33 -f deploy/k8s/ci-values.yaml -f deploy/k8s/tls-values.yaml > $(BUILD)/k8s/tls.yaml
	$(KUBECONFORM) -strict -summary -skip Certificate -schema-location '$(K8S_SCHEMAS)/{{.ResourceKind}}{{.KindSuffix}}.json' $(BUILD)/k8s/min.yaml $(BUILD)/k8s/full.yaml $(BUILD)/k8s/tls.yaml
	deploy/scripts/k8s-dry-run.sh $(KUBE_APISERVER) crm $(BUILD)/k8s/min.yaml $(BUILD)/k8s/full.yaml $(BUILD)/k8s/tls.yaml

LOAD_FLAGS ?= -postgres postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: load
load: build $(TEMPORAL) ## Seed PostgreSQL (1M customers) and measure reads, onboarding and a mix through REST beside bare SQL.
	@data=$$(mktemp -d); trap 'rm -rf "$$data"' EXIT; \
	CRM_DATA_DIR=$$data CRM_HTTP_ADDR=127.0.0.1:18680 CRM_TEMPORAL_PORT=17633 CRM_TEMPORAL_UI_PORT=18633 \
	CRM_ADMIN_PASSWORD=bench-admin-password CRM_ADMIN_PASSWORD_CHANGE=false CRM_LOG_LEVEL=warn CRM_BIN_DIR=$(BUILD)/bin \
	$(BUILD)/bin/crm-bench -mode load $(LOAD_FLAGS)

.PHONY: clean
clean: ## Remove build output (keeps .bin tools and .data).
	rm -rf $(BUILD) frontend/dist

# Product Catalog API platform. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
PYTHON := $(VENV)/bin/python
# Node 22 and the pinned cdktf CLI from node_modules come first, then the virtualenv.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
# No version-check call to HashiCorp's checkpoint service from the cdktf CLI or Terraform.
export CHECKPOINT_DISABLE := 1
# environments/$(ENV).toml configures every target (README, Configuration).
ENV ?= dev
export ENV

LAYERS         := network data app edge
REVERSE_LAYERS := edge app data network
CDKTF          := cdktf
DEPLOY_FLAGS   := --skip-synth --auto-approve --ignore-missing-stack-dependencies
# One layer's deploy, the same for every deploy target (the edge's certificate record watcher included).
DEPLOY_LAYER   := scripts/deploy_layer.sh

# Every goal but these reads environments/$(ENV).toml (the synth, the scan, every AWS target):
# a missing file is named while the Makefile is read, before anything is installed and before
# AWS credentials are asked for. The configuration's values are checked by `make preflight`.
ENV_FREE_GOALS := help install clean unit lint lint-workflows service-test service-lint serve bench-service \
                  sale-rehearsal bench docs-check mutation snapshots
ifneq ($(filter-out $(ENV_FREE_GOALS),$(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))),)
  ENV_REFUSAL := $(shell ENV='$(ENV)' $(if $(CATALOG_ENVIRONMENTS_DIR),CATALOG_ENVIRONMENTS_DIR='$(CATALOG_ENVIRONMENTS_DIR)') \
    $(if $(wildcard $(PYTHON)),$(PYTHON),python3) scripts/check_environment.py --file 2>&1)
  ifneq ($(ENV_REFUSAL),)
    $(error $(ENV_REFUSAL))
  endif
endif

# P-07: a destroy goal is refused while the Makefile is read, before anything is installed,
# synthesized or planned, unless CONFIRM names the environment's suffix; $(error) keeps the
# refusal to one line. (make 4.3's $(shell) does not see command-line variables: pass them.)
DESTROY_GOALS := $(filter destroy $(addprefix destroy-,$(LAYERS)),$(MAKECMDGOALS))
ifneq ($(DESTROY_GOALS),)
  DESTROY_REFUSAL := $(shell $(if $(ENV),ENV='$(ENV)') $(if $(CONFIRM),CONFIRM='$(CONFIRM)') \
    $(if $(wildcard $(PYTHON)),$(PYTHON),python3) scripts/confirm_destroy.py "make $(firstword $(DESTROY_GOALS))" 2>&1)
  ifneq ($(DESTROY_REFUSAL),)
    $(error $(DESTROY_REFUSAL))
  endif
endif

PY_STAMP  := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
# checkov pins libraries that conflict with cdktf's, so it lives in its own virtualenv.
SCAN_VENV  := .checkov-venv
SCAN_STAMP := $(SCAN_VENV)/.installed
SCAN_DOMAIN_OUT := .cdktf.out.domain
# boto3 (deploy preflight) needs python-dateutil < 3, the synth pins 4.0.0: its own virtualenv too.
PREFLIGHT_VENV  := .preflight-venv
PREFLIGHT_STAMP := $(PREFLIGHT_VENV)/.installed
# The CI workflow linters go into .venv only when `make lint-workflows` (or `make lint`) needs them.
LINT_STAMP := $(VENV)/.lint-installed

.PHONY: help install synth test unit scan snapshots lint lint-workflows bench docs-check bootstrap deploy destroy outputs preflight clean \
        service-test service-lint serve bench-service sale-rehearsal image promote \
        plan plan-changed changed deploy-changed \
        $(addprefix deploy-,$(LAYERS)) $(addprefix diff-,$(LAYERS)) $(addprefix destroy-,$(LAYERS))

help: ## List the targets
	@awk -F'## ' '/## / && !/^\t/ { split($$1, t, ":"); n = (t[1] ~ /addprefix/) ? t[2] : t[1]; \
	  gsub(/%/, "<layer>", n); gsub(/ /, "", n); printf "  %-22s %s\n", n, $$2 }' $(MAKEFILE_LIST)

install: $(PY_STAMP) $(NPM_STAMP) ## Create .venv and node_modules from the pinned dependency files

# Each install says what it installs, its size and roughly how long it takes: sizes from `du`,
# times rounded from .ci/run logs on a 2-core machine with a package cache nearby, so a guide,
# not a benchmark; pip and npm run quietly. The linters, the deploy
# preflight and the security scan are installed only by the targets that use them.
$(PY_STAMP): requirements.txt requirements-dev.txt
	@echo "installing .venv: cdktf and the AWS provider's Python bindings, pytest, ruff, mypy (~700 MB, 1-4 minutes)"
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(LINT_STAMP): $(PY_STAMP) requirements-lint.txt
	@echo "installing actionlint, shellcheck and zizmor into .venv for the CI workflow lint (~50 MB, under a minute)"
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-lint.txt
	touch $@

$(SCAN_STAMP): requirements-scan.txt
	@echo "installing .checkov-venv: checkov for the security scan (~300 MB, 1-2 minutes)"
	python3 -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

$(PREFLIGHT_STAMP): requirements-preflight.txt
	@echo "installing .preflight-venv: boto3 for the deploy preflight's AWS checks (~60 MB, under a minute)"
	python3 -m venv $(PREFLIGHT_VENV)
	$(PREFLIGHT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-preflight.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	@echo "installing node_modules: Node.js 22 and the cdktf CLI (~600 MB, about 1 minute)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install ## Validate configuration, then write cdktf.out/ with the four stacks
	$(PYTHON) main.py
	@echo "synthesized: $$(ls cdktf.out/stacks | tr '\n' ' ')"

test: unit scan service-test ## Run the test suite, the security scan and the API service's tests
	@echo "make test: passed (pytest suite, security scan, the API service's tests)"

# The API service (service/) is its own project: its own virtualenv, tests and Dockerfile.
SERVICE := $(MAKE) --no-print-directory -C service

service-test: ## The API service's tests against a throwaway PostgreSQL (Debian's postgresql package)
	@echo "== the API service's tests against a throwaway PostgreSQL (about 1-2 minutes)"
	$(SERVICE) test

service-lint:
	$(SERVICE) lint

serve: ## Run the API on localhost:3000 against a throwaway PostgreSQL with sample products; Ctrl-C stops both
	$(SERVICE) serve

bench-service: ## Requests/s and p50/p99 of one API worker on loopback (needs Debian's wrk and hey)
	$(SERVICE) bench

sale-rehearsal: ## A sale on loopback: two API processes behind nginx (a model of the edge), hit ratio, p99, PNG (needs Debian's nginx-light)
	$(SERVICE) sale-rehearsal

# The repository is the app layer's catalog-api-images-<suffix> in the environment's region;
# the account comes from the caller's credentials. make deploy does the same itself.
image: install ## Build service/ and push it to this environment's repository unless its content is there (Docker + AWS CLI)
	@command -v aws >/dev/null || { echo "image: the aws CLI is not installed (it logs in to ECR and names the account)" >&2; exit 1; }
	@set -- $$($(PYTHON) scripts/image_repository.py); \
	  account="$$(aws sts get-caller-identity --query Account --output text)" || exit 1; \
	  IMAGE_CONTEXT=service IMAGE_TAG="$$3" AWS_REGION="$$2" REPOSITORY_URL="$$account.dkr.ecr.$$2.amazonaws.com/$$1" \
	  python3 scripts/publish_image.py

# Build once, release the same bytes: copy an image by digest into this environment's repository.
promote: install ## Copy IMAGE=<repository>@sha256:<digest> into this environment's repository; prints the image line
	$(if $(IMAGE),,$(error promote: set IMAGE=<account>.dkr.ecr.<region>.amazonaws.com/catalog-api-images-<from>@sha256:<digest> (make outputs ENV=<from> shows it)))
	@command -v aws >/dev/null || { echo "promote: the aws CLI is not installed" >&2; exit 1; }
	@set -- $$($(PYTHON) scripts/image_repository.py); \
	  account="$$(aws sts get-caller-identity --query Account --output text)" || exit 1; \
	  python3 scripts/publish_image.py promote "$(IMAGE)" "$$account.dkr.ecr.$$2.amazonaws.com/$$1"

unit: install ## Run the pytest suite only (synthesizes the app once)
	@echo "== pytest over the synthesized Terraform JSON and the scripts (about 1-2 minutes)"
	$(PYTHON) -m pytest

scan: synth $(SCAN_STAMP) ## checkov over the synthesized stacks (four layers + bootstrap, and the layers with a [domain]), offline; skips justified in .checkov.yaml
	@echo "== checkov security scan of the synthesized stacks, offline (about 2 minutes)"
	$(PYTHON) main.py --bootstrap
	@# The same layers with a custom domain (tests/environments/domain.toml), whatever ENV says.
	ENV=domain CATALOG_ENVIRONMENTS_DIR=tests/environments CDKTF_OUTDIR=$(SCAN_DOMAIN_OUT) CATALOG_OVERRIDES= $(PYTHON) main.py
	@# checkov exits 0 when it cannot parse a stack (it then checks nothing): that is a failure here.
	@# The domain synth runs without the skips marked "(without [domain])": a domain closes them.
	@for dir in cdktf.out/stacks cdktf.out.bootstrap/stacks $(SCAN_DOMAIN_OUT)/stacks; do \
	  echo "checkov $$dir"; status=0; skips=""; \
	  if [ "$$dir" = "$(SCAN_DOMAIN_OUT)/stacks" ]; then \
	    skips="--skip-check $$(grep -E '^ +- CKV' .checkov.yaml | grep -v 'without \[domain\]' | grep -oE 'CKV2?_AWS_[0-9]+' | paste -sd, -)"; \
	  fi; \
	  out="$$($(SCAN_VENV)/bin/checkov --config-file .checkov.yaml $$skips -d "$$dir" 2>&1)" || status=$$?; \
	  echo "$$out" | grep -v '^$$'; \
	  [ "$$status" -eq 0 ] || exit "$$status"; \
	  if grep -q 'Parsing errors: [1-9]' <<<"$$out"; then echo "scan: checkov could not parse $$dir, so nothing there was checked" >&2; exit 1; fi; \
	  grep -q 'Passed checks: [1-9]' <<<"$$out" || { echo "scan: checkov ran no check on $$dir" >&2; exit 1; }; \
	done

snapshots: install ## Rewrite snapshots/ (and the eager-import digests) from the current code, then check them
	CATALOG_EAGER_PROVIDER_IMPORT=1 $(PYTHON) -m pytest tests/test_snapshots.py --snapshot-update -q || true
	$(PYTHON) -m pytest tests/test_snapshots.py -q

lint: $(PY_STAMP) lint-workflows service-lint ## ruff, mypy, actionlint + zizmor on the CI workflows, and the service's lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

lint-workflows: $(LINT_STAMP) ## actionlint (with shellcheck) and zizmor, offline, on .github/workflows/
	$(VENV)/bin/actionlint -shellcheck=$(VENV)/bin/shellcheck .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --no-progress .github/workflows

docs-check: install ## Render every mermaid diagram of the docs in headless Chromium (needs Debian's chromium)
	@command -v chromium >/dev/null || { echo "docs-check: chromium is not installed (apt-get install chromium)"; exit 1; }
	@test -f .docs-tools/node_modules/mermaid/dist/mermaid.min.js || { echo "installing mermaid 12.3.0 into .docs-tools for the diagram check (one npm package, about a minute)"; npm install --prefix .docs-tools --no-audit --no-fund --loglevel=error mermaid@12.3.0; }
	$(PYTHON) scripts/render_mermaid.py .docs-tools/node_modules/mermaid/dist/mermaid.min.js

bench: install ## Time synth (lazy vs eager provider import), the pytest run and a config error; print ratios
	$(PYTHON) scripts/bench.py

# The environment file first (one line for a mistake in it), then Terraform, the credentials and
# the state bucket's owner. Before a bootstrap the bucket may not exist yet: bootstrap creates it.
preflight: $(PY_STAMP) $(PREFLIGHT_STAMP)
	@state="$$($(PYTHON) scripts/check_environment.py)"; \
	  $(PREFLIGHT_VENV)/bin/python scripts/preflight.py $$state $(if $(filter bootstrap,$(MAKECMDGOALS)),--before-bootstrap)

bootstrap: preflight ## Create (or update) the state bucket, a lock table if asked, and the GitHub deploy roles; prints the environment-file keys
	$(PYTHON) scripts/bootstrap.py check
	$(PYTHON) main.py --bootstrap
	$(CDKTF) deploy bootstrap --output cdktf.out.bootstrap --skip-synth --auto-approve
	$(PYTHON) scripts/bootstrap.py settings

deploy: preflight synth ## Deploy all layers in order: network, data, app (builds and releases the API), edge
	@python3 scripts/publish_image.py ready
	@for layer in $(LAYERS); do $(DEPLOY_LAYER) $$layer $(DEPLOY_FLAGS); $(PYTHON) scripts/delivery.py record $$layer; done

$(addprefix deploy-,$(LAYERS)): deploy-%: preflight synth ## Deploy one layer (network|data|app|edge); its producers must be deployed
	@$(if $(filter app,$*),python3 scripts/publish_image.py ready)
	$(DEPLOY_LAYER) $* $(DEPLOY_FLAGS)
	@$(PYTHON) scripts/delivery.py record $*

# scripts/delivery.py plan exits 0 (no changes), 2 (changes) or 1 (error); make itself can only
# succeed or fail (exit 2), so the plan targets fail on errors only. PLAN_SUMMARY=<file> appends the table.
PLAN_FLAGS = $(if $(PLAN_SUMMARY),--summary-file "$(PLAN_SUMMARY)")

plan: preflight synth ## Plan every layer (or LAYERS=app,edge) in dependency order; one summary table
	@$(PYTHON) scripts/delivery.py plan --layers "$(LAYERS)" $(PLAN_FLAGS) || [ $$? -eq 2 ]

plan-changed: preflight synth ## Plan only the layers `make changed` lists
	@$(PYTHON) scripts/delivery.py plan --layers changed $(PLAN_FLAGS) || [ $$? -eq 2 ]

changed: preflight synth ## List the layers whose configuration differs from their last deploy, and the layers reading them
	@$(PYTHON) scripts/delivery.py changed

deploy-changed: preflight synth ## Deploy exactly the changed layers in dependency order; record each digest after its deploy
	@python3 scripts/publish_image.py ready
	@$(PYTHON) scripts/delivery.py deploy-changed --deploy "$(DEPLOY_LAYER) {layer} $(DEPLOY_FLAGS)"

$(addprefix diff-,$(LAYERS)): diff-%: preflight synth ## Show the plan of one layer
	$(CDKTF) diff $* --skip-synth

destroy: preflight synth ## Destroy all layers in reverse order; needs CONFIRM=<suffix>
	@for layer in $(REVERSE_LAYERS); do $(CDKTF) destroy $$layer $(DEPLOY_FLAGS); done

$(addprefix destroy-,$(LAYERS)): destroy-%: preflight synth ## Destroy one layer (consumers first); needs CONFIRM=<suffix>
	$(CDKTF) destroy $* $(DEPLOY_FLAGS)

outputs: preflight synth ## Print the outputs (URL, ALB DNS, DB endpoint, cluster) of deployed layers
	@for layer in data app edge; do $(CDKTF) output $$layer --skip-synth; done

clean: ## Remove cdktf.out/ and caches (not .state/)
	rm -rf cdktf.out cdktf.out.bootstrap .pytest_cache .mypy_cache .ruff_cache .bench

.PHONY: mutation
mutation: install ## Mutation run over stacks/ and shared/ (snapshot tests excluded); fails under a 90 % kill rate
	$(PYTHON) scripts/mutation.py

.PHONY: mutation-service
mutation-service: install ## Mutation run over service/ (each kill re-checked by a second run); fails under a 90 % kill rate
	$(SERVICE) install
	$(PYTHON) scripts/service_mutation.py

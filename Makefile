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

.PHONY: help install synth test unit scan snapshots lint bench docs-check bootstrap deploy destroy outputs preflight clean \
        $(addprefix deploy-,$(LAYERS)) $(addprefix diff-,$(LAYERS)) $(addprefix destroy-,$(LAYERS))

help: ## List the targets
	@awk -F'## ' '/## / && !/^\t/ { split($$1, t, ":"); n = (t[1] ~ /addprefix/) ? t[2] : t[1]; \
	  gsub(/%/, "<layer>", n); gsub(/ /, "", n); printf "  %-22s %s\n", n, $$2 }' $(MAKEFILE_LIST)

install: $(PY_STAMP) $(NPM_STAMP) ## Create .venv and node_modules from the pinned dependency files

$(PY_STAMP): requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(SCAN_STAMP): requirements-scan.txt
	python3 -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install ## Validate configuration, then write cdktf.out/ with the four stacks
	$(PYTHON) main.py
	@echo "synthesized: $$(ls cdktf.out/stacks | tr '\n' ' ')"

test: unit scan ## Run the test suite and the security scan

unit: install ## Run the pytest suite only (synthesizes the app once)
	$(PYTHON) -m pytest

scan: synth $(SCAN_STAMP) ## checkov over the synthesized stacks (four layers + bootstrap), offline; skips justified in .checkov.yaml
	$(PYTHON) main.py --bootstrap
	$(SCAN_VENV)/bin/checkov --config-file .checkov.yaml -d cdktf.out/stacks
	$(SCAN_VENV)/bin/checkov --config-file .checkov.yaml -d cdktf.out.bootstrap/stacks

snapshots: install ## Rewrite snapshots/ (and the eager-import digests) from the current code, then check them
	CATALOG_EAGER_PROVIDER_IMPORT=1 $(PYTHON) -m pytest tests/test_snapshots.py --snapshot-update -q || true
	$(PYTHON) -m pytest tests/test_snapshots.py -q

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

docs-check: install ## Render every mermaid diagram of the docs in headless Chromium (needs Debian's chromium)
	@command -v chromium >/dev/null || { echo "docs-check: chromium is not installed (apt-get install chromium)"; exit 1; }
	@test -f .docs-tools/node_modules/mermaid/dist/mermaid.min.js || npm install --prefix .docs-tools --no-audit --no-fund --loglevel=error mermaid@12.3.0
	$(PYTHON) scripts/render_mermaid.py .docs-tools/node_modules/mermaid/dist/mermaid.min.js

bench: install ## Time synth (lazy vs eager provider import), the pytest run and a config error; print ratios
	$(PYTHON) scripts/bench.py

preflight: install
	@$(PYTHON) scripts/preflight.py

bootstrap: preflight ## Create the remote-state bucket and lock table once per account and suffix; prints what to export
	$(PYTHON) scripts/bootstrap.py check
	$(PYTHON) main.py --bootstrap
	$(CDKTF) deploy bootstrap --output cdktf.out.bootstrap --skip-synth --auto-approve
	$(PYTHON) scripts/bootstrap.py exports

deploy: preflight synth ## Deploy all layers in order: network, data, app, edge
	@for layer in $(LAYERS); do $(CDKTF) deploy $$layer $(DEPLOY_FLAGS); done

$(addprefix deploy-,$(LAYERS)): deploy-%: preflight synth ## Deploy one layer (network|data|app|edge); its producers must be deployed
	$(CDKTF) deploy $* $(DEPLOY_FLAGS)

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

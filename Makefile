SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Deploying: the SAM CLI lives in its own pinned venv, never in the test venv (it pins its own boto3).
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
ENV ?= prod
BUILD_DIR ?= .aws-sam/build
# SAM looks for samconfig.toml beside the template it is given (.aws-sam/build/ for deploy): name it.
SAM_CONFIG = --config-env $(ENV) --config-file $(CURDIR)/samconfig.toml
export SAM_CLI_TELEMETRY := 0
FIRST_PARTY := layers/turnaround/python/turnaround functions infrastructure/x_emulator infrastructure/local_cloud infrastructure/triage_lab

.PHONY: help dev sam checkov run bench faults sandbox browser lint format typecheck cfn-lint validate unit integration e2e test check-playbook build deploy delete clean lock lock-sam \
	train-triage triage-eval triage-cv

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt layers/dependencies/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

dev: $(STAMP) ## Create .venv with the pinned runtime and development dependencies

$(SAM_STAMP): requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $(SAM_STAMP)

sam: $(SAM_STAMP) ## Create .venv-sam: the pinned SAM CLI, apart from the test venv

CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

SCENARIO ?= infrastructure/scenarios/demo.yaml
LOCAL := PYTHONPATH=layers/turnaround/python:infrastructure:. $(BIN)/python -m local_cloud

run: $(STAMP) ## Run the whole system on the embedded cloud (moto + X emulator); SCENARIO=path for another
	$(LOCAL) --scenario $(SCENARIO)

bench: $(STAMP) ## Figures beside their floors, production config; JSON in out/bench/ (BENCH_QUICK=1: no 10k runs)
	PYTHONPATH=layers/turnaround/python:infrastructure:. $(BIN)/python -m tests.bench.bench

faults: $(STAMP) ## The demo under seeded faults (X errors, throttling, SES rejects, killed Lambdas); checks invariants
	PYTHONPATH=layers/turnaround/python:infrastructure:. $(BIN)/python -m tests.faults.run_faults

sandbox: $(STAMP) ## Like run, but the reps are you: links served on http://127.0.0.1:8787 until Ctrl-C
	$(LOCAL) --scenario $(SCENARIO) --sandbox

TRIAGE := PYTHONPATH=layers/turnaround/python:infrastructure $(BIN)/python -m triage_lab

train-triage: $(STAMP) ## Train triage from the labelled sets (+ BRAND_DATA=export.csv, MEASURE="name=held-out.csv ..."); writes weights and model card
	$(TRIAGE).train $(if $(BRAND_DATA),--brand $(BRAND_DATA)) $(foreach m,$(MEASURE),--measure $(m)) $(if $(MEASURE_NOTE),--measure-note "$(MEASURE_NOTE)")

triage-eval: $(STAMP) ## Measure triage on a labelled CSV: DATA=file.csv (README, "Triage"); JSON in out/triage-eval.json
	@test -n "$(DATA)" || { echo "usage: make triage-eval DATA=file.csv"; exit 2; }
	$(TRIAGE).evaluate $(DATA)

triage-cv: $(STAMP) ## 5-fold cross-validated triage figures on the training data; JSON in out/triage-cv.json
	$(TRIAGE).evaluate --cv $(if $(BRAND_DATA),--brand $(BRAND_DATA)) --out out/triage-cv.json

format: $(STAMP) ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: $(STAMP) typecheck cfn-lint validate checkov ## ruff (with the C901 gate), mypy, cfn-lint, sam validate --lint, checkov
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy: first-party code strictly, tests relaxed (pyproject.toml)
	$(BIN)/mypy $(FIRST_PARTY) tests

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

checkov: $(STAMP) $(CHECKOV_STAMP) ## checkov on the template after the SAM transform (skips justified in .checkov.yaml)
	@mkdir -p out
	PYTHONPATH=layers/turnaround/python:infrastructure:. AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	  $(BIN)/python -m local_cloud.transformed out/transformed-template.json
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f out/transformed-template.json

validate: $(SAM_STAMP) ## sam validate --lint (offline: needs no AWS credentials)
	$(SAM) validate --lint $(SAM_CONFIG) --template-file template.yaml

browser: ## Install Debian's chromium and chromedriver if missing (one test opens the confirm page)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

unit: $(STAMP) ## Unit tests: no cloud, no emulator (seconds)
	$(BIN)/pytest tests/unit

integration: $(STAMP) ## Integration tests: moto, the X emulator over HTTP, the real ASL on moto's interpreter
	$(BIN)/pytest tests/integration

e2e: $(STAMP) browser ## End-to-end: the stack from template.yaml, the demo, faults, a browser, the built artifacts
	$(BIN)/pytest tests/e2e tests/faults tests/deploy

test: lint unit integration e2e ## Set up, lint and run every test (what CI runs)

check-playbook: $(STAMP) ## Render every template variant of infrastructure/playbook.yaml (build runs it first)
	PYTHONPATH=layers/turnaround/python $(BIN)/python infrastructure/check_playbook.py

build: $(SAM_STAMP) check-playbook ## sam build: Lambda's python3.12/x86_64 artifacts from any Python 3.11+, no Docker (BUILD_DIR=)
	# The layers' Makefiles run pip from this Python (.venv-sam has pip; a bare system python3 may not).
	PYTHON=$(abspath $(SAM_VENV)/bin/python) $(SAM) build $(SAM_CONFIG) --template-file template.yaml \
	  --build-dir $(BUILD_DIR)

deploy: build ## sam deploy ENV=prod|dev (samconfig.toml), change set shown first; GUIDED=1 asks every parameter
	$(SAM) deploy $(SAM_CONFIG) --template-file $(BUILD_DIR)/template.yaml $(if $(GUIDED),--guided)

delete: $(SAM_STAMP) ## Delete ENV's stack (what it keeps: README "Deploying for real")
	$(SAM) delete $(SAM_CONFIG)

lock-sam: ## Re-resolve requirements-sam.txt (the SAM CLI's own environment) from a scratch venv
	rm -rf /tmp/turnaround-lock-sam && $(PYTHON) -m venv /tmp/turnaround-lock-sam
	/tmp/turnaround-lock-sam/bin/pip install --quiet aws-sam-cli==$$(sed -n 's/^aws-sam-cli==//p' requirements-sam.txt)
	/tmp/turnaround-lock-sam/bin/pip freeze > /tmp/turnaround-lock-sam.txt
	@echo "Compare /tmp/turnaround-lock-sam.txt with requirements-sam.txt and update the pins."

lock: ## Re-resolve the pinned dependency files from a scratch venv
	rm -rf /tmp/turnaround-lock && $(PYTHON) -m venv /tmp/turnaround-lock
	/tmp/turnaround-lock/bin/pip install --quiet -r requirements-dev.txt
	/tmp/turnaround-lock/bin/pip freeze > /tmp/turnaround-lock.txt
	@echo "Compare /tmp/turnaround-lock.txt with the two requirements files and update the pins."

clean: ## Remove build output, caches and the virtualenv
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam out .mypy_cache .ruff_cache .pytest_cache .hypothesis

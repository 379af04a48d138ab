SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STACK_NAME ?= turnaround
REGION ?= us-east-1
FIRST_PARTY := layers/turnaround/python/turnaround functions infrastructure/x_emulator infrastructure/local_cloud infrastructure/triage_lab

.PHONY: help dev run bench faults sandbox browser lint format typecheck cfn-lint unit test build deploy delete clean lock \
	train-triage triage-eval triage-cv

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt layers/dependencies/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

dev: $(STAMP) ## Create .venv with the pinned runtime and development dependencies

SCENARIO ?= infrastructure/scenarios/demo.yaml
LOCAL := PYTHONPATH=layers/turnaround/python:infrastructure:. $(BIN)/python -m local_cloud

run: $(STAMP) ## Run the whole system on the embedded cloud (moto + X emulator); SCENARIO=path for another
	$(LOCAL) --scenario $(SCENARIO)

bench: $(STAMP) ## Print performance and cost figures beside their floors; JSON in out/bench/
	PYTHONPATH=layers/turnaround/python:infrastructure:. $(BIN)/python -m tests.bench.bench

faults: $(STAMP) ## The demo under seeded faults (X errors, throttling, SES rejects, killed Lambdas); checks invariants
	PYTHONPATH=layers/turnaround/python:infrastructure:. $(BIN)/python -m tests.faults.run_faults

sandbox: $(STAMP) ## Like run, but the reps are you: links served on http://127.0.0.1:8787 until Ctrl-C
	$(LOCAL) --scenario $(SCENARIO) --sandbox

TRIAGE := PYTHONPATH=layers/turnaround/python:infrastructure $(BIN)/python -m triage_lab

train-triage: $(STAMP) ## Train triage from the labelled sets (+ BRAND_DATA=export.csv); writes weights and model card
	$(TRIAGE).train $(if $(BRAND_DATA),--brand $(BRAND_DATA))

triage-eval: $(STAMP) ## Measure triage on a labelled CSV: DATA=file.csv (README, "Triage"); JSON in out/triage-eval.json
	@test -n "$(DATA)" || { echo "usage: make triage-eval DATA=file.csv"; exit 2; }
	$(TRIAGE).evaluate $(DATA)

triage-cv: $(STAMP) ## 5-fold cross-validated triage figures on the training data; JSON in out/triage-cv.json
	$(TRIAGE).evaluate --cv $(if $(BRAND_DATA),--brand $(BRAND_DATA)) --out out/triage-cv.json

format: $(STAMP) ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: $(STAMP) typecheck cfn-lint ## ruff, mypy on first-party code, cfn-lint on template.yaml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy $(FIRST_PARTY)

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

browser: ## Install Debian's chromium and chromedriver if missing (one test opens the confirm page)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

unit: $(STAMP) browser ## Run the test suite only
	$(BIN)/pytest

test: lint unit ## Set up, lint and run every test (what CI runs)

build: $(STAMP) ## sam build (installs the SAM CLI into .venv on first use)
	$(BIN)/sam --version >/dev/null 2>&1 || $(BIN)/pip install --quiet aws-sam-cli==1.170.0
	$(BIN)/sam build --template-file template.yaml
	# The playbook lives in infrastructure/; Lambda reads it from the layer (PLAYBOOK_PATH in Globals).
	cp infrastructure/playbook.yaml .aws-sam/build/TurnaroundLayer/python/turnaround/playbook.yaml

deploy: build ## sam deploy --guided, using samconfig.toml defaults
	$(BIN)/sam deploy --guided --stack-name $(STACK_NAME) --region $(REGION)

delete: ## Delete the deployed stack
	$(BIN)/sam delete --stack-name $(STACK_NAME) --region $(REGION)

lock: ## Re-resolve the pinned dependency files from a scratch venv
	rm -rf /tmp/turnaround-lock && $(PYTHON) -m venv /tmp/turnaround-lock
	/tmp/turnaround-lock/bin/pip install --quiet -r requirements-dev.txt
	/tmp/turnaround-lock/bin/pip freeze > /tmp/turnaround-lock.txt
	@echo "Compare /tmp/turnaround-lock.txt with the two requirements files and update the pins."

clean: ## Remove build output, caches and the virtualenv
	rm -rf $(VENV) .aws-sam out .mypy_cache .ruff_cache .pytest_cache .hypothesis

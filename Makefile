# evaltool — two commands: `make app` (main job) and `make test` (the tests).
# Both create .venv/ and install what they need; re-running is quick when nothing changed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= data/demo.db
PORT ?= 8501
# pytest-xdist workers for `make test` (TEST_WORKERS=0 runs the suite in one process)
TEST_WORKERS ?= 2
# The model wheelhouse: ../shared/wheels beside this checkout, else beside the checkout this
# one was cloned from (a clone made in a temp folder), else none (spaCy's downloader)
ORIGIN := $(shell git config --get remote.origin.url 2>/dev/null)
export EVALTOOL_WHEELHOUSE ?= $(firstword $(wildcard $(abspath ../shared/wheels) \
	$(if $(filter /%,$(ORIGIN)),$(abspath $(ORIGIN)/../shared/wheels))) $(abspath ../shared/wheels))

.PHONY: setup model demo app test lint bench test-deps

setup: $(STAMP) model

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

model: $(STAMP)
	@$(BIN)/evaltool model install

demo: setup
	@mkdir -p $(dir $(DEMO_DB))
	$(BIN)/evaltool --db $(DEMO_DB) demo

app: demo
	EVALTOOL_DB=$(DEMO_DB) $(BIN)/streamlit run app.py --server.headless true \
		--server.address localhost --server.port $(PORT) --browser.gatherUsageStats false

test-deps: $(STAMP)
	@bash scripts/test-deps.sh

test: setup test-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check evaltool tests benchmarks app.py

bench: setup
	$(BIN)/python -m benchmarks.run

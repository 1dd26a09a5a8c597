# EmbedLens: `make run` sets up and starts the app; `make test` sets up and runs lint + every test.
# Both are idempotent: a second run only re-installs when a requirements file changed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup setup-dev chromium lint bench demo-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.runtime

setup-dev: $(VENV)/.dev chromium

# Debian's Chromium drives the browser tests (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core; }

# PNG/SVG/PDF export needs Chromium; without it the app still runs (HTML export only).
run: setup
	@$(MAKE) --no-print-directory chromium || echo "warning: Chromium not installed; figure export will offer HTML only"
	$(BIN)/streamlit run app.py --server.port $(PORT)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: setup-dev lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/run.py

demo-data: setup
	$(BIN)/python scripts/build_demo_data.py

# The two commands of the README: `make up` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HAP := $(VENV)/bin/hap

.PHONY: up test bench lint install ui infra-up infra-down clean

up: install ui
	$(HAP) up

# Builds and unit-tests the UI, starts the real test infrastructure, runs every test (the browser tests drive
# the built UI), and stops the infrastructure again whatever the outcome.
test: install ui
	cd frontend && npm test
	$(PY) tests/testinfra.py up
	set -o pipefail; status=0; set -a; . .testinfra/env; set +a; \
	  $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS) || status=$$?; \
	  $(PY) tests/testinfra.py down; exit $$status

bench: install
	$(PY) tests/testinfra.py up
	status=0; $(PY) -m bench.gateway || status=$$?; $(PY) -m bench.registration || status=$$?; \
	  $(PY) tests/testinfra.py down; exit $$status

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# The web UI, when it exists, is built and then served by the gateway at `/`.
ui:
	@if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm run build; fi

infra-up: install
	$(PY) tests/testinfra.py up

infra-down:
	$(PY) tests/testinfra.py down

lint: install
	$(VENV)/bin/ruff check common gateway registry services tests bench

clean:
	rm -rf $(VENV) .testinfra tests/artifacts

# Public Data Sandbox: every target installs what it needs, idempotently.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHP := node_modules/.bin/configurable-http-proxy
SYSTEM_STAMP := var/.system-packages
export PDS_DATA_DIR ?= $(CURDIR)/var
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: run test bench lint fmt messages install system-packages workspace-env clean

install: $(STAMP) $(CHP) system-packages

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip wheel
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

$(CHP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

system-packages:
	@bash scripts/system-packages.sh

workspace-env: $(STAMP) system-packages
	@bash scripts/workspace-env.sh

run: install workspace-env
	$(PY) -m open_portal.launch

test: install workspace-env
	$(PY) -m pytest -p no:cacheprovider tests/unit tests/vectors tests/integration

bench: install workspace-env
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy open_portal desensitize policies sandbox audit

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# extract the pages' text into the catalogs (open_portal/locale); then translate what is new
messages: $(STAMP)
	bash scripts/messages.sh

clean:
	rm -rf var build *.egg-info

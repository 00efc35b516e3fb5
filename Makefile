# Two commands matter (README Quickstart): `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 3000
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# Tests and the local stack never talk to AWS: no credentials are read from the developer's profile.
# (`env -u`: an empty AWS_PROFILE makes botocore look for a profile named "".)
TEST_ENV := env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1

.PHONY: install browser run test check unit integration infra e2e bench synth openapi deploy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# A new function folder is a new top-level package: the editable install must learn of it.
$(VENV)/.installed: pyproject.toml $(wildcard functions/*/__init__.py) | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The e2e tier drives Debian's Chromium (no browser download: this network reaches package registries only).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	$(BIN)/ecrm local --port $(PORT)

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install browser check
	$(TEST_ENV) $(BIN)/pytest -q

unit integration infra e2e: install
	$(TEST_ENV) $(BIN)/pytest -q tests/$@

bench: install
	$(TEST_ENV) $(BIN)/python -m tests.bench.run $(ONLY)

synth: install
	$(BIN)/python infra/app.py

openapi: install
	$(BIN)/ecrm openapi --out docs/openapi.json

deploy: install
	npx --yes aws-cdk@2 deploy

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .mypy_cache .ruff_cache

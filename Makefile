# Two commands matter (README Quickstart): `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 3000
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# Tests and the local stack never talk to AWS: no credentials are read from the developer's profile.
# (`env -u`: an empty AWS_PROFILE makes botocore look for a profile named "".)
TEST_ENV := env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1

.PHONY: install lock browser run test check unit integration infra e2e bench synth openapi deploy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs come from the lock only (requirements/dev.lock, made by `make lock` from pyproject's ranges):
# uv at the locked version, then every locked package, then this project without resolving anything.
# The packages are compiled to bytecode as they are installed: a machine that sets
# PYTHONDONTWRITEBYTECODE would otherwise compile boto3, pydantic and moto from source in every
# fresh interpreter (the suite's subprocesses, `ecrm local`, the bench's cold starts).
# A new function folder is a new top-level package: the editable install must learn of it.
LOCK := requirements/dev.lock
$(VENV)/.installed: pyproject.toml $(LOCK) $(wildcard functions/*/__init__.py) | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check "$$(grep '^uv==' $(LOCK))"
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r $(LOCK)
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

# The one upgrade command: newest versions pyproject allows, for the dev venv, CI and the Lambda layer.
lock: | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip compile -q --upgrade --universal --python-version 3.11 --custom-compile-command "make lock" \
	  pyproject.toml --extra dev -o $(LOCK)
	$(BIN)/uv pip compile -q --python-version 3.12 --python-platform aarch64-manylinux_2_17 --no-annotate \
	  --custom-compile-command "make lock" -c $(LOCK) layers/deps/requirements.in -o layers/deps/requirements.txt
	$(MAKE) install

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
	$(TEST_ENV) $(BIN)/pytest -q -n auto --dist loadfile

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

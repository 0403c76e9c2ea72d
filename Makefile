# Two entry points (see README.md): `make demo` runs the main job end to end, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PY_SOURCES := tap-quickbooks-cdc/tap_quickbooks_cdc target-looker-stage/target_looker_stage tests bench scripts orchestrate

.PHONY: test demo install system-deps lint typecheck pytest bench clean

test: install system-deps lint typecheck pytest

$(STAMP): requirements-dev.txt tap-quickbooks-cdc/pyproject.toml target-looker-stage/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy $(PY_SOURCES)

pytest: install system-deps
	$(BIN)/pytest

demo: install
	$(BIN)/python -m scripts.demo $(DEMO_ARGS)

bench: install system-deps
	$(BIN)/python -m bench.tap_throughput
	$(BIN)/python -m bench.target_throughput
	$(BIN)/python -m bench.looker_refresh
	$(BIN)/python -m bench.webhook_receiver
	$(BIN)/python -m bench.companies_parallel

clean:
	@# Only what the demo, dev, the tests and shard runs make (run folders, re-made on the next run): never .secrets/
	@# (real companies' token stores) or prod paths.
	rm -rf output/demo output/dev .meltano/run .meltano/shards

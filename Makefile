# Seeker Ledger: every target installs what it needs first, so a fresh
# clone needs only `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench postgres clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/python -m cli.demo

# PostgreSQL binaries (Debian's packages) for the throwaway test server.
postgres:
	@tests/support/ensure-postgres.sh

test: setup postgres
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check domain services adapters projections cli privacy integrity tests
	$(BIN)/ruff format --check domain services adapters projections cli privacy integrity tests
	$(BIN)/mypy

bench: setup postgres
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

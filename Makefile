# Seeker Ledger: every target installs what it needs first, so a fresh
# clone needs only `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench postgres browser screenshots bench-pages clean

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

# Headless Chromium, CJK fonts and graphviz (Debian's packages) for the page
# tests (tests/pages) and the screenshots in docs/.
browser:
	@tests/support/ensure-browser.sh

test: setup postgres browser
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check domain services adapters projections cli privacy integrity tests
	$(BIN)/ruff format --check domain services adapters projections cli privacy integrity tests
	$(BIN)/mypy

bench: setup postgres
	$(BIN)/python -m tests.bench

# Generation time and size of the report page at 10k and 100k accounts.
bench-pages: setup
	$(BIN)/python -m tests.bench_pages

# docs/report.png and docs/timeline.png, from a demo store built through the CLI.
screenshots: setup browser
	$(BIN)/python -m tests.support.screenshots docs

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

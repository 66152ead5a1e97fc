# Seeker Ledger: every target installs what it needs first, so a fresh
# clone needs only `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup catalogs demo test lint bench postgres pooler fonts browser graphviz notetools screenshots bench-pages clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The compiled message catalogs (*.mo, not committed) from the .po sources
# (SPEC §5, "Language"), through Babel; every target that runs the program
# depends on them.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard domain/locale/*/LC_MESSAGES/seekers.po))

catalogs: $(CATALOGS)

$(CATALOGS): %.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@ -D seekers

demo: setup catalogs graphviz fonts
	$(BIN)/python -m cli.demo

# PostgreSQL binaries (Debian's packages) for the throwaway test server.
postgres:
	@tests/support/ensure-postgres.sh

# PgBouncer (Debian's package) for the pooled test server in front of the
# throwaway one (tests/support/pgbouncer.py).
pooler:
	@tests/support/ensure-packages.sh pgbouncer=/usr/sbin/pgbouncer

# The Japanese font (Debian's Noto CJK) and fontconfig's tools: the pages,
# their charts and the rulebook diagrams draw Japanese with it (no tofu), and
# the page tests ask fc-list which file each font Chromium used is. matplotlib
# finds it even when its font cache predates it (cli/pages/charts.py).
fonts:
	@tests/support/ensure-packages.sh \
		fonts-noto-cjk=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
		fontconfig=/usr/bin/fc-list

# Headless Chromium and graphviz (Debian's packages), with the fonts, for the
# page tests (tests/pages) and the screenshots in docs/.
browser: fonts
	@tests/support/ensure-packages.sh chromium=/usr/bin/chromium \
		graphviz=/usr/bin/dot

# Graphviz's `dot` (Debian's package) for the SVG rulebook `make demo` writes.
graphviz:
	@tests/support/ensure-packages.sh graphviz=/usr/bin/dot

# Go and its signed-note package (Debian's packages): the off-the-shelf
# verifier the checkpoint-file test checks our notes with.
notetools:
	@tests/support/ensure-packages.sh golang-go=/usr/bin/go \
		golang-golang-x-mod-dev=/usr/share/gocode/src/golang.org/x/mod/sumdb/note/note.go

test: setup catalogs postgres pooler fonts browser notetools
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check domain services adapters projections cli privacy integrity tests
	$(BIN)/ruff format --check domain services adapters projections cli privacy integrity tests
	$(BIN)/mypy

bench: setup catalogs postgres
	$(BIN)/python -m tests.bench

# Generation time and size of the report page at 10k and 100k accounts.
bench-pages: setup catalogs
	$(BIN)/python -m tests.bench_pages

# docs/report.png, docs/timeline.png, docs/rulebook.png and their Japanese
# editions (docs/*-ja.png), from a demo store built through the CLI.
screenshots: setup catalogs browser fonts
	$(BIN)/python -m tests.support.screenshots docs

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
	rm -f $(CATALOGS)

# Two commands for a fresh machine: `make run` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck pytest browser pgtools bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/guardianes serve --demo

browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { echo "Installing Debian chromium for the browser tests"; \
	    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	    (sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null); }

# pg_dump, pg_restore and psql for the PostgreSQL backup tests (guardianes backup/restore).
pgtools:
	@command -v pg_dump >/dev/null 2>&1 || \
	  { echo "Installing the PostgreSQL client tools for the backup tests"; \
	    (apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null) || \
	    (sudo apt-get update -qq && sudo apt-get install -y -qq postgresql-client >/dev/null); }

lint: $(STAMP)
	$(BIN)/ruff format --check guardianes tests bench
	$(BIN)/ruff check guardianes tests bench

typecheck: $(STAMP)
	$(BIN)/mypy guardianes

# One worker per core (pytest-xdist): most tests wait on a database, a server or Chromium.
# Each worker has its own PostgreSQL database and temp folders (tests/conftest.py).
pytest: $(STAMP) browser pgtools
	$(BIN)/python -m pytest -n auto --dist loadgroup

test: lint typecheck pytest
	$(BIN)/guardianes locales check
	$(BIN)/guardianes db check

# Every benchmark (bench/registry.py), several runs each: a table, and bench/RESULTS.md.
BENCH_STAMP := $(VENV)/.bench-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) browser
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint docs clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

DEMO_STAMP := $(VENV)/.installed-demo

# The demo needs the notebook runner and the deck writer only.
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[notebooks,deck]"
	touch $(DEMO_STAMP)

# The tests also need the SQL and docs extras, the peer libraries the oracle/peer tests compare with, and
# pyspark, so that the SQL route is also run on Spark (local mode) wherever a Java runtime is installed.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks,deck,sql,docs,bench,spark]"
	touch $(STAMP) $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/impactlab demo --out reports/demo

# One test process per core (pytest-xdist): the suite's tests are independent (temporary folders, seeded draws).
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q -n auto

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

DOCS_STAMP := $(VENV)/.installed-docs

$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

# The static site in site/ (mkdocs + mkdocstrings; no network at build time); any warning fails the build.
docs: $(DOCS_STAMP)
	$(BIN)/mkdocs build --strict

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $(BENCH_STAMP)

# impactlab against its peers on the same data (full sizes: about half an hour on 2 cores); updates
# benchmarks/RESULTS.md. Try `make bench BENCH_ARGS=--quick` first.
bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) reports build site *.egg-info

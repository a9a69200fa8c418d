# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-min lint docs clean bench

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

# The declared minimum versions: a second venv with every floor of pyproject.toml pinned exactly
# (tools/floors.py: the core dependencies and the deck, sql and dev extras), then the suite without the parts
# that need other extras (peer libraries, notebooks; their tests run in `make test`).
MIN_VENV := .venv-min
test-min:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) tools/floors.py deck sql dev > $(MIN_VENV)/floors.txt
	$(MIN_VENV)/bin/python -m pip install --quiet -r $(MIN_VENV)/floors.txt
	$(MIN_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(MIN_VENV)/bin/python -m pytest -m "not slow" -q -n auto -p no:cacheprovider \
		--ignore=tests/peers --ignore=tests/notebooks --ignore=tests/benchmarks

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
	rm -rf $(VENV) $(MIN_VENV) reports build site *.egg-info

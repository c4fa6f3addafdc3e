# `make build` and `make test` work on a fresh clone: each sets up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
TEST_STAMP    := $(VENV)/.test-installed

.PHONY: build test serve golden clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(RUNTIME_STAMP)

build: $(RUNTIME_STAMP)
	$(BIN)/site-gen build

# Netlify's own parsers, used by tests/test_netlify.py
NPM_STAMP := tests/netlify/node_modules/.installed
$(NPM_STAMP): tests/netlify/package.json tests/netlify/package-lock.json
	cd tests/netlify && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(TEST_STAMP) $(NPM_STAMP)
	$(BIN)/python -m pytest

serve: $(RUNTIME_STAMP)
	$(BIN)/site-gen serve

# Rewrite tests/golden/ from the seeds; review its diff like code.
golden: $(TEST_STAMP)
	$(BIN)/python -m tests.golden

clean:
	rm -rf _site .venv .pytest_cache *.egg-info

# `make build` and `make test` work on a fresh clone: each sets up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
TEST_STAMP    := $(VENV)/.test-installed

.PHONY: build test test-fast serve golden bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# setuptools' note on every editable install ("Editable installation ... folders in your working
# directory with the same name as your package may take precedence") is information, not a
# problem: it is left out of the output, and nothing else is.
EDITABLE := PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(EDITABLE) .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(EDITABLE) '.[test]'
	touch $@ $(RUNTIME_STAMP)

build: $(RUNTIME_STAMP)
	$(BIN)/site-gen build

# Netlify's own parsers, used by tests/test_netlify.py
NPM_STAMP := tests/netlify/node_modules/.installed
$(NPM_STAMP): tests/netlify/package.json tests/netlify/package-lock.json
	cd tests/netlify && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for tests/test_browser.py (Playwright drives it; it downloads no browser itself)
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get install -y --no-install-recommends chromium || \
	{ $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; }

# Two processes, each taking whole test files (so module fixtures are made once): about 6 minutes
# here, against 10 in one process.
test: $(TEST_STAMP) $(NPM_STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The core without the scenario suites (tests/conftest.py names them): under a minute.
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not scenario"

serve: $(RUNTIME_STAMP)
	$(BIN)/site-gen serve

# Rewrite tests/golden/ from the seeds; review its diff like code.
golden: $(TEST_STAMP)
	$(BIN)/python -m tests.golden

# Benchmarks (minutes, not part of the tests): build times at 1k, 10k and 100k figures, Hugo on the
# same corpus, the preview server at 10k, and a long fuzzing run. Installs Debian's hugo if missing.
bench: $(TEST_STAMP)
	command -v hugo >/dev/null || (apt-get install -y hugo || sudo apt-get install -y hugo)
	$(BIN)/python -m bench.build_bench --figures 1000 10000 100000 --jobs 2
	$(BIN)/python -m bench.hugo_compare --figures 1000 10000 --jobs 2
	$(BIN)/python -m bench.serve_bench --figures 10000 --jobs 2
	$(BIN)/python -m bench.search_bench --figures 100000 --jobs 2
	$(BIN)/python -m bench.serve_stress --figures 1000 --seconds 30
	$(BIN)/python -m bench.fuzz --examples 2000

clean:
	rm -rf _site ._site.cache ._site.state ._site.pagefind ._site.pagefind-old .venv .pytest_cache *.egg-info

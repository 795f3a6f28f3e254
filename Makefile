# Two set-up commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The browser tests drive Debian's /usr/bin/chromium (apt-get install chromium): Playwright must never fetch one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test test-browser test-postgres lint demo bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,demo]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/arogya demo --scale small --if-missing
	$(VENV)/bin/arogya serve

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider

test-browser: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m browser tests/browser

test-postgres: $(STAMP)
	AROGYA_TEST_DATABASE_URL=$${AROGYA_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	AROGYA_TEST_CACHE_URL=$${AROGYA_TEST_CACHE_URL:-redis://127.0.0.1:6379/15} \
	$(PY) -m pytest -q -p no:cacheprovider -m "postgres"

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

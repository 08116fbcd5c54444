# coso — the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app

.PHONY: run test test-fast lint format install translations extract-messages bench bench-national audit clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(BIN)/activate
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Compiled catalogues are build output: made from the .po files, never committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -f -d coso/translations --statistics

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o coso/translations/messages.pot .
	$(BIN)/pybabel update -i coso/translations/messages.pot -d coso/translations --no-fuzzy-matching

## make run: environment, migrations, demo data on an empty database, then serve — with the
## notifications worker beside the server (in the background; it stops when the server does).
run: install translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	COSO_BASE_URL=$${COSO_BASE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) notifications run & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

## make test: everything the tests need, then every test (browser tests too when Chromium is there),
## spread over one pytest-xdist worker per core (TEST_WORKERS=0 runs them in one process).
TEST_WORKERS ?= auto

test: $(VENV)/.test-installed translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS)

test-fast: $(VENV)/.test-installed translations
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not browser and not slow" -x -q

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Lighthouse for `make bench` (bench/package.json pins it): npm ci into bench/node_modules.
bench/node_modules/.installed: bench/package.json bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund
	touch $@

bench: $(VENV)/.test-installed translations bench/node_modules/.installed
	$(BIN)/python -m bench

## make bench-national: the national scale on PostgreSQL (34 provinces, 250,000 branches,
## 3 M evaluations; generated once and kept as coso_bench_national; see bench/README.md).
bench-national: $(VENV)/.test-installed translations
	$(BIN)/python -m bench.national

## make audit: pip-audit of the locked runtime dependencies (CI runs it too).
audit: $(VENV)/.test-installed
	.ci/audit

clean:
	rm -rf $(VENV) bench/node_modules .pytest_cache coso/translations/*/LC_MESSAGES/*.mo

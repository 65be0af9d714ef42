# The two commands: `make run` (the store on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast browser lint clean bench

# Serving needs only the runtime packages; the tests add the development tools on top.
$(BIN)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed: $(BIN)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## run: install the runtime packages, migrate, load the demo store and serve it on http://127.0.0.1:8000
run: $(BIN)/.runtime
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

## test: install and run the whole test suite (SQLite by default; DATABASE_URL/REDIS_URL switch)
test: $(BIN)/.installed browser
	$(BIN)/pytest

## test-fast: the laptop loop: everything but fuzzing, the browser and servers in subprocesses, on two cores
## (per-process caches: a shared Redis would be flushed by the other worker's tests)
test-fast: $(BIN)/.installed
	REDIS_URL= $(BIN)/pytest -m "not slow" -n 2 -q

# The admin's browser tests drive Debian's Chromium (Playwright never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: could not install chromium; the browser tests will skip (fail with REQUIRE_CHROMIUM=1)"; \
	  else echo "warning: chromium is missing (sudo apt-get install chromium); the browser tests will skip (fail with REQUIRE_CHROMIUM=1)"; fi; }

## lint: ruff (lint and format), migrations committed, OpenAPI schema valid
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache

## bench: benchmark against a generated PostgreSQL catalog, with wrk (see bench/run.py --help; BENCH_ARGS passes options)
bench: $(BIN)/.installed ; $(BIN)/pip install --quiet -r bench/requirements.txt && $(BIN)/python bench/run.py $(BENCH_ARGS)

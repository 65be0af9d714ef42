# The two commands: `make run` (the store on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast browser client-ts fuzz lint typecheck clean bench

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
test: $(BIN)/.installed browser client-ts
	$(BIN)/pytest

# The TypeScript client test's npm packages, exactly as clients/typescript/package-lock.json pins them.
TS_CLIENT := clients/typescript
client-ts: $(TS_CLIENT)/node_modules/.installed
$(TS_CLIENT)/node_modules/.installed: $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "warning: npm is missing (Node 20+); the TypeScript client test will fail in CI"; exit 0; }; \
	  cd $(TS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed

## fuzz: schemathesis against a live server, longer and randomized (FUZZ_EXAMPLES, FUZZ_SEED, FUZZ_MAX_TIME)
FUZZ_EXAMPLES ?= 100
fuzz: $(BIN)/.installed
	CONTRACT_FUZZ_RANDOM=1 CONTRACT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CONTRACT_FUZZ_SEED=$(FUZZ_SEED) \
	  CONTRACT_FUZZ_MAX_TIME=$(FUZZ_MAX_TIME) $(BIN)/pytest bookstore/tests/test_contract_fuzzing.py -s -p no:cacheprovider

## test-fast: the laptop loop: everything but fuzzing, the browser and servers in subprocesses, on two cores
## (per-process caches: a shared Redis would be flushed by the other worker's tests; bytecode written
## to __pycache__ even where the environment sets PYTHONDONTWRITEBYTECODE, else every run recompiles
## the apps and pytest rewrites every test module again)
test-fast: $(BIN)/.installed
	REDIS_URL= PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -m "not slow" -n 2 --dist loadfile -q

# The admin's browser tests drive Debian's Chromium (Playwright never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: could not install chromium; the browser tests will skip (fail with REQUIRE_CHROMIUM=1)"; \
	  else echo "warning: chromium is missing (sudo apt-get install chromium); the browser tests will skip (fail with REQUIRE_CHROMIUM=1)"; fi; }

## lint: ruff (lint and format), mypy, migrations committed, OpenAPI schema valid
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

## typecheck: mypy with django-stubs and djangorestframework-stubs (mypy.ini: strict on services and models)
typecheck: $(BIN)/.installed
	DEBUG=1 $(BIN)/mypy

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache .mypy_cache .schemathesis $(TS_CLIENT)/node_modules

## bench: benchmark against a generated PostgreSQL catalog, with wrk (see bench/run.py --help; BENCH_ARGS passes options)
bench: $(BIN)/.installed ; $(BIN)/pip install --quiet -r bench/requirements.txt && $(BIN)/python bench/run.py $(BENCH_ARGS)

# Fulfillment: local runs, tests and the checks CI runs.
#   make run    set up .venv, migrate, seed demo data, start web + Celery worker + beat (Ctrl-C stops all)
#   make test   the test suite (the servers DATABASE_URL/REDIS_URL name, else the embedded PostgreSQL)
#   make check  what CI runs: lint, format, import contracts, migrations, OpenAPI schema, tests
#   make lock   re-pin constraints.txt from the installed .venv

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Settings for commands that only read code (makemigrations, spectacular): no secret key needed.
CHECK_ENV := DJANGO_SETTINGS_MODULE=fulfillment.test_settings

.PHONY: help venv run test check lint lock clean bench

help:
	@echo "make run    start the app at http://$(HOST):$(PORT)/ with demo data (web, worker, beat)"
	@echo "make test   run the tests (.venv/bin/pytest)"
	@echo "make check  what CI runs: ruff, ruff format --check, lint-imports, makemigrations --check, spectacular --validate, tests"
	@echo "make lock   regenerate constraints.txt from .venv"
	@echo "make venv   create .venv and install the project with its dev tools"

# The stamp is rebuilt whenever the dependencies or their pins change.
$(BIN)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

venv: $(BIN)/.installed

# Local defaults: debug on, plain HTTP; both can be overridden from the environment.
run: export DJANGO_DEBUG ?= 1
run: export DJANGO_HTTPS ?= 0
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: venv
	@mkdir -p var
	@pids=(); db=""; \
	stop() { trap - INT TERM EXIT; [ $${#pids[@]} -eq 0 ] || kill "$${pids[@]}" 2>/dev/null || true; wait "$${pids[@]}" 2>/dev/null || true; \
	  if [ -n "$$db" ]; then kill "$$db" 2>/dev/null || true; wait "$$db" 2>/dev/null || true; fi; }; \
	trap 'echo; echo "Stopping web, worker and beat..."; stop; exit 130' INT TERM; \
	trap stop EXIT; \
	if [ -z "$${DATABASE_URL:-}" ]; then \
	  echo "No DATABASE_URL: starting the embedded PostgreSQL (data in var/pgdata)"; \
	  $(BIN)/python -m fulfillment.localdb hold & db=$$!; \
	  for _ in $$(seq 1 60); do [ -S var/pgdata/.s.PGSQL.5432 ] && break; sleep 0.5; done; \
	fi; \
	$(BIN)/python manage.py migrate --noinput; \
	$(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT) | tee var/demo-logins.txt; \
	banner() { \
	  echo; echo "================================================================"; \
	  echo " Fulfillment is running at http://$(HOST):$(PORT)/"; \
	  echo " API docs: http://$(HOST):$(PORT)/api/docs/   Admin: http://$(HOST):$(PORT)/admin/"; \
	  echo " Logins and API keys (also in var/demo-logins.txt):"; \
	  sed 's/^/   /' var/demo-logins.txt; \
	  echo " Press Ctrl-C to stop the web server, the worker and beat."; \
	  echo "================================================================"; echo; }; \
	$(BIN)/celery -A fulfillment worker --pool=solo --loglevel=INFO & pids+=($$!); \
	$(BIN)/celery -A fulfillment beat --loglevel=INFO & pids+=($$!); \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT) & pids+=($$!); \
	(sleep 5; banner) & pids+=($$!); \
	banner; \
	status=0; wait -n "$${pids[@]:0:3}" || status=$$?; \
	echo "A process exited (status $$status); stopping the others."; \
	exit $$(( status == 0 ? 1 : status ))

test: venv
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(CHECK_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(CHECK_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

check: lint test

# The benchmarks' own extras (py3dbp), apart from the venv so that CI, which runs no benchmark,
# does not install them.
$(BIN)/.installed-bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[bench]'
	@touch $@

# Allocation, then bulk intake over HTTP, each against a raw SQL floor (PostgreSQL + Redis;
# DATABASE_URL names the server, each benchmark uses its own database); then pick routes and
# order batching (pure Python), wave planning of 5,000 orders (PostgreSQL), cartonization
# against py3dbp (pure Python) and label purchase for 1,000 packed orders through a Celery
# worker (PostgreSQL + Redis); one tracking poll over 10,000 shipments (PostgreSQL); an invoice over
# 1,000,000 fees and the storage snapshot of 100,000 balances (PostgreSQL). See bench/README.md.
bench: venv $(BIN)/.installed-bench
	$(BIN)/python bench/allocation.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/batching.py
	$(BIN)/python bench/waves.py
	$(BIN)/python bench/cartonization.py
	$(BIN)/python bench/labels.py
	$(BIN)/python bench/tracking.py
	$(BIN)/python bench/billing.py

lock: venv
	@{ echo "# Pinned versions for repeatable installs: pip install -c constraints.txt -e '.[dev]'"; \
	   echo "# Regenerate with 'make lock' after changing pyproject.toml."; \
	   $(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -viE '^(fulfillment( |==|@)|-e )'; \
	 } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	@touch $(BIN)/.installed
	@echo "constraints.txt: $$(grep -vc '^#' constraints.txt) pins"

clean:
	rm -rf staticfiles .pytest_cache .ruff_cache

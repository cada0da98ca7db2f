# Mesa de Servicios — developer and CI commands. `make` alone lists them.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Written after a successful install; holds the sha256 of pyproject.toml it was made from.
STAMP := $(VENV)/.mesa-installed
FLASK := $(BIN)/flask --app app
# Each pass ends with its 15 slowest tests, so a CI log shows where the time goes.
PYTEST := $(BIN)/pytest -q -p no:cacheprovider --durations=15
# Written after `npm ci`; holds the sha256 of package-lock.json it was made from.
NODE_STAMP := node_modules/.mesa-installed
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-x -k login'
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv assets run test test-sqlite test-postgres lint bench seed-scale clean system-deps translations mutation

help: ## list the targets
	@echo "Mesa de Servicios — make targets:"
	grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  make %-14s %s\n", $$1, $$2}'
	echo
	echo "  PORT=8000 make run                   serve on another port"
	echo "  make test PYTEST_ARGS='-x -k login'  pass extra arguments to pytest"

venv: ## create .venv and install the project with its [test] extras (skipped when up to date)
	@want="$$(sha256sum pyproject.toml | cut -d' ' -f1)"
	if [ -e "$(VENV)" ] && ! "$(BIN)/python" -c 'import sys' >/dev/null 2>&1; then
		echo "venv: $(VENV) is broken (its Python does not start); recreating it"
		rm -rf "$(VENV)"
	fi
	if [ ! -x "$(BIN)/python" ]; then
		echo "venv: creating $(VENV) with $$(command -v $(PYTHON))"
		$(PYTHON) -m venv "$(VENV)"
	fi
	if [ -f "$(STAMP)" ] && [ "$$(cat "$(STAMP)")" = "$$want" ] && [ -x "$(BIN)/pytest" ]; then
		echo "venv: up to date (pyproject.toml unchanged)"
		exit 0
	fi
	echo "venv: installing the project with .[test]"
	rm -f "$(STAMP)"
	"$(BIN)/pip" install -q -e '.[test]'
	echo "$$want" > "$(STAMP)"
	echo "venv: ready"

system-deps:
	@bash scripts/install_system_deps.sh

assets: ## npm ci (only when package-lock.json changed), then bundle frontend/*.js into app/static/dist/
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		bash scripts/install_system_deps.sh node
	fi
	want="$$(sha256sum package-lock.json | cut -d' ' -f1)"
	if [ -f "$(NODE_STAMP)" ] && [ "$$(cat "$(NODE_STAMP)")" = "$$want" ]; then
		echo "assets: node_modules up to date (package-lock.json unchanged)"
	else
		echo "assets: npm ci (packages from the npm registry, install scripts off)"
		npm ci --ignore-scripts --no-audit --no-fund
		echo "$$want" > "$(NODE_STAMP)"
	fi
	node scripts/build_assets.mjs

translations: venv
	@if [ ! -d app/translations ]; then
		exit 0
	elif find app/translations -name '*.po' -print -quit | grep -q .; then
		$(BIN)/pybabel compile -d app/translations
	else
		echo "translations: app/translations has no .po catalogs; nothing to compile"
	fi

run: venv translations assets ## set up, migrate, seed demo data (if empty) and start the dev server
	@$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	port="$${PORT:-5000}"
	# links in e-mails (task, survey) point at this server unless PUBLIC_BASE_URL says otherwise
	export PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://127.0.0.1:$$port}"
	echo
	echo "=================================================================="
	echo "  Mesa de Servicios: http://127.0.0.1:$$port/"
	echo "  password demo1234 for every demo person, e.g.:"
	echo "    ana@acme.test              requester (Finanzas)"
	echo "    jefe.finanzas@acme.test    unit head (Finanzas)"
	echo "    director@acme.test         services director (Servicios Generales)"
	echo "    tecnico1@acme.test         worker"
	echo "  all demo logins are listed in README.md"
	echo "  stop with Ctrl+C"
	echo "=================================================================="
	echo
	exec $(FLASK) run --host 127.0.0.1 --port "$$port"

bench: venv ## benchmark table of issue 5 (bench/run.py; BENCH_ARGS="--database-url ...")
	@bash scripts/install_system_deps.sh postgresql
	$(BIN)/python bench/run.py $(BENCH_ARGS)

seed-scale: venv ## fill DATABASE_URL with 100 tenants and 1,000,000 requests (SEED_ARGS=...)
	@$(FLASK) db upgrade
	$(FLASK) seed-scale $(SEED_ARGS)

mutation: venv ## mutation testing of the safety rules with mutmut (slow, not in make test; MUTATION_ARGS="policy login")
	@$(BIN)/python scripts/mutation.py $(MUTATION_ARGS)

lint: venv ## ruff check
	@echo "lint: ruff check ."
	$(BIN)/ruff check .

# The suite runs in two passes per database: most tests on TEST_WORKERS pytest-xdist workers
# (each with its own SQLite file or PostgreSQL database), then, one at a time, those that
# drive a real browser (Playwright's sync API) or start and kill their own servers.
TEST_WORKERS ?= 2
SERIAL_TESTS := tests/browser tests/faults tests/multinode
PARALLEL_PASS := -n $(TEST_WORKERS) $(foreach d,$(SERIAL_TESTS),--ignore=$(d))

# Runs the two passes of pytest with the environment $(1), the serial pass on the paths $(2);
# exit code in $$rc (5 only when neither pass found a test).
define pytest_passes
	rc=0; rc_serial=0
	$(1) $(PYTEST) $(PARALLEL_PASS) $(PYTEST_ARGS) || rc=$$?
	$(1) $(PYTEST) $(2) $(PYTEST_ARGS) || rc_serial=$$?
	if [ $$rc -eq 5 ] && [ $$rc_serial -ne 5 ]; then rc=$$rc_serial;
	elif [ $$rc -eq 0 ] && [ $$rc_serial -ne 5 ]; then rc=$$rc_serial; fi
endef

# Runs pytest on SQLite; exit code in $$rc.
define pytest_sqlite
	echo
	echo "=== pytest on SQLite (TEST_DATABASE_URL unset) ==="
	$(call pytest_passes,env -u TEST_DATABASE_URL,$(SERIAL_TESTS))
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests on SQLite (exit 5)" >&2; fi
endef

# Starts a throw-away PostgreSQL cluster, runs pytest on it, stops the cluster (even on
# failure or interruption); exit code in $$rc. The multi-node test (marker multinode) and the
# fault tests (marker faults) start their own PostgreSQL, Redis, gunicorn nodes and Celery
# workers, so they run in the SQLite pass only: once per `make test`.
define pytest_postgres
	echo
	pgdir="$$(mktemp -d /tmp/mesa-pg.XXXXXX)"
	pgport="$${PG_PORT:-$$($(BIN)/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
	stop_pg() { bash scripts/pg_cluster.sh stop "$$pgdir" >/dev/null 2>&1 || echo "WARNING: could not stop the cluster in $$pgdir" >&2; }
	trap stop_pg EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	bash scripts/pg_cluster.sh start "$$pgdir" "$$pgport"
	url="postgresql+psycopg://postgres@127.0.0.1:$$pgport/mesa_test"
	echo "=== pytest on PostgreSQL (TEST_DATABASE_URL=$$url) ==="
	$(call pytest_passes,TEST_DATABASE_URL="$$url",tests/browser)
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests on PostgreSQL (exit 5)" >&2; fi
	stop_pg
	trap - EXIT
endef

test-sqlite: system-deps venv translations assets ## run the test suite on SQLite
	@$(pytest_sqlite)
	exit $$rc

test-postgres: system-deps venv translations assets ## run the test suite on a throw-away PostgreSQL
	@$(pytest_postgres)
	exit $$rc

test: system-deps venv translations assets lint ## lint, then the whole suite on SQLite and on PostgreSQL
	@$(pytest_sqlite)
	rc_sqlite=$$rc
	$(pytest_postgres)
	rc_pg=$$rc
	if [ $$rc_sqlite -ne 0 ] || [ $$rc_pg -ne 0 ]; then
		echo >&2
		echo "make test FAILED: pytest exit code $$rc_sqlite on SQLite, $$rc_pg on PostgreSQL (5 = no tests collected)" >&2
		exit 1
	fi

clean: ## remove .venv, node_modules, built assets and caches (keeps instance/ and its database)
	@rm -rf "$(VENV)" node_modules app/static/dist .pytest_cache .ruff_cache *.egg-info build dist
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
	echo "clean: removed $(VENV), node_modules, app/static/dist and caches"

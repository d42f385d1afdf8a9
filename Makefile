# Seawall: `make run` to try it, `make test` to prove it.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export SEAWALL_HOME ?= $(CURDIR)/.seawall
# Two workers (pytest-xdist), each test file on one worker so its module fixtures are built once.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: help setup run test check fmt docs bench services clean i18n

help:  ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

setup: | $(UV)  ## Install Python dependencies from uv.lock into .venv (the mount extra where libfuse3 is)
	@# pyfuse3 (`embassy mount`) builds against libfuse3: synced only where its headers are.
	@$(UV) sync --frozen --quiet --compile-bytecode $$(pkg-config --exists fuse3 2>/dev/null && echo --extra mount)
	@# The project itself is installed editable, which --compile-bytecode leaves alone.
	@$(UV) run --frozen python -m compileall -q src >/dev/null

run: setup  ## Initialise a node in ./.seawall, load demo data, serve on 127.0.0.1:8000
	@$(UV) run --frozen seawall init --nation JM --name "Jamaica national node"
	@$(UV) run --frozen seawall demo
	@$(UV) run --frozen seawall serve --host 127.0.0.1 --port 8000

services:  ## Start PostgreSQL if stopped; install chromium, sshd and libfuse3 if absent
	@bash tools/ensure-services

check: setup  ## ruff, mypy --strict, import-linter, deptry
	$(UV) run --frozen ruff format --check src tests bench
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports
	$(UV) run --frozen deptry src

test: services setup check  ## Set up everything and run the whole test suite
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

fmt: setup  ## Format and autofix
	$(UV) run --frozen ruff format src tests bench
	$(UV) run --frozen ruff check --fix src tests bench

docs: setup  ## Generate the error reference in docs/errors.md from the error classes
	$(UV) run --frozen python -m seawall.reference docs/errors.md

i18n: setup  ## Extract the UI's and reports' messages and merge them into the es, fr and nl catalogs
	$(UV) run --frozen pybabel extract -F babel.cfg -k _ -k N_ --no-location --omit-header \
		-o src/seawall/locale/messages.pot .
	$(UV) run --frozen pybabel update -i src/seawall/locale/messages.pot \
		-d src/seawall/locale --ignore-obsolete

bench: setup  ## Run the benchmarks (slow; prints figures and ratios against peer tools)
	@bash tools/ensure-services --bench
	@for script in bench/*.py; do echo "== $$script"; $(UV) run --frozen python $$script || exit 1; done

clean:  ## Remove the local node and caches
	rm -rf .seawall .pytest_cache .mypy_cache .ruff_cache tests/e2e/artifacts

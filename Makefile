# Two commands matter: `make run` (set up everything and serve on 127.0.0.1:8000, SQLite) and
# `make test` (set up everything and run the whole suite, SQLite). See README.md for the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
UV_VERSION := 0.13.9
# Use an installed uv, or bootstrap a pinned one from PyPI into .tools/.
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
BIN := .venv/bin
POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help install run migrate seed-demo test test-postgres test-faults fuzz lint format openapi bench bench-reports clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@

install: .venv/.synced ## Create .venv from uv.lock

run: install ## Migrate the SQLite database, load demo clients and serve on 127.0.0.1:8000
	$(BIN)/mash migrate
	$(BIN)/mash seed-demo
	$(BIN)/mash serve --host 127.0.0.1 --port 8000

migrate: install ## Apply migrations to MASH_DATABASE_URL
	$(BIN)/mash migrate

seed-demo: install ## Register the demo clients
	$(BIN)/mash seed-demo

test: install ## Run the whole suite on SQLite
	$(BIN)/pytest

test-postgres: install ## Run the whole suite on PostgreSQL (POSTGRES_URL, an admin connection)
	MASH_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest

test-faults: install ## Kill a throwaway PostgreSQL cluster under load and check the service recovers
	$(BIN)/pytest -m fault tests/faults

fuzz: install ## Fuzz every operation from the OpenAPI spec (schemathesis, seeded) on PostgreSQL
	MASH_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest -m fuzz tests/fuzz

lint: install ## ruff (lint and format) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tests bench migrations

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: install ## Regenerate openapi/openapi.json
	$(BIN)/mash openapi --output openapi/openapi.json

bench: install ## Benchmark on 1M referrals against PostgreSQL, with the raw asyncpg ceiling (BENCH_ARGS=...)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-reports: install ## Time the reports on 1M referrals and 200k adult concerns (PostgreSQL)
	$(BIN)/python bench/reports.py

clean: ## Remove the virtualenv, caches and the local database
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache

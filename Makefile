# The project's commands. `make run` and `make test` do all set-up themselves.
SHELL := /bin/bash
PORT ?= 3000
CHAT_DATA_DIR ?= $(CURDIR)/data
export CHAT_DATA_DIR
ENV := source scripts/env.sh &&

.PHONY: run dev test lint typecheck unit e2e bench migrate install install-dev clean

install:
	@scripts/bootstrap.sh

install-dev:
	@scripts/bootstrap.sh --dev

## run: the app on http://localhost:$(PORT), data in $(CHAT_DATA_DIR) (production build)
run: install
	@$(ENV) python scripts/serve.py --port $(PORT)

## dev: the app with hot reload (frontend on $(PORT), backend on 8000)
dev: install
	@$(ENV) reflex run --frontend-port $(PORT)

## test: lint, types, then every test (unit, integration, browser)
test: install-dev lint typecheck
	@$(ENV) python -m pytest

unit: install-dev
	@$(ENV) python -m pytest tests

e2e: install-dev
	@$(ENV) python -m pytest e2e

lint: install-dev
	@$(ENV) ruff check . && ruff format --check .

typecheck: install-dev
	@$(ENV) mypy

## bench: the benchmarks under bench/, printing their figures
bench: install-dev
	@$(ENV) python bench/latency.py
	@$(ENV) python bench/send_path.py
	@$(ENV) python bench/ws_throughput.py
	@$(ENV) python bench/media.py
	@$(ENV) python bench/search.py --messages 200000
	@$(ENV) python bench/server_memory.py

migrate: install
	@$(ENV) alembic upgrade head

clean:
	rm -rf .web .states

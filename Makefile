# The project's commands. `make run` and `make test` do all set-up themselves.
SHELL := /bin/bash
PORT ?= 3000
CHAT_DATA_DIR ?= $(CURDIR)/data
export CHAT_DATA_DIR
ENV := source scripts/env.sh &&

.PHONY: run dev test test-scale lint typecheck unit e2e bench migrate install install-dev clean servers

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

## test: lint, types, then every test (unit, integration, browser), then the service stories
## again on PostgreSQL + Redis + Cassandra (the real servers start and stop by themselves)
test: install-dev lint typecheck
	@$(ENV) CHAT_KEEP_SERVERS=1 python -m pytest
	@$(ENV) python -m pytest tests/backend --engines=scale

## test-scale: only the service stories on the scale-out engines
test-scale: install-dev
	@$(ENV) python -m pytest tests/backend --engines=scale

## servers: start the test servers by hand (scripts/servers.sh stop|status to manage them)
servers: install-dev
	@scripts/servers.sh start

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
	@$(ENV) python bench/media_access.py
	@$(ENV) python bench/search.py --messages 200000
	@$(ENV) python bench/search.py --messages 200000 --engine postgres
	@$(ENV) python bench/server_memory.py
	@$(ENV) python bench/history_paging.py
	@$(ENV) python bench/cross_process_delivery.py
	@$(ENV) python bench/chat_list.py
	@$(ENV) python bench/shared_state.py

migrate: install
	@$(ENV) alembic upgrade head

clean:
	rm -rf .web .states

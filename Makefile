# `make run` serves the demo negotiation; `make test` runs the whole suite; `make cluster-test`
# runs the tracker as several machines do, on this one (tests/cluster/run.py).
# uv comes from PyPI: the one on the PATH, else a pinned one installed into .venv-bootstrap/ with
# the venv's own pip, which works where the system Python is externally managed (PEP 668).
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .venv-bootstrap/bin/uv)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test sync uv lint seed-scale worker beat cluster-test

uv:
	@command -v uv >/dev/null 2>&1 || test -x .venv-bootstrap/bin/uv || { \
	  $(PYTHON) -m venv .venv-bootstrap || { echo "Cannot make a virtual environment: install your Python's venv module (Debian and Ubuntu: apt-get install python3-venv), or uv itself." >&2; exit 1; }; \
	  .venv-bootstrap/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); }

sync: uv
	$(UV) sync --frozen

run: sync
	# Migrations, the cache table, the roles, the demo negotiation and its recorded feeds
	# (replayed offline through the real code path): the release step every deploy runs.
	$(UV) run python -m tracker.deploy.release
	$(UV) run python manage.py runserver $(HOST):$(PORT)

test: sync
	$(UV) run pytest $(PYTEST_ARGS)

cluster-test: sync
	$(UV) run python -m tests.cluster.run

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .

seed-scale: sync
	$(UV) run python manage.py migrate --no-input
	$(UV) run python -m tests.bench.seed_scale

worker: sync
	$(UV) run celery --app tracker worker --loglevel INFO

beat: sync
	$(UV) run celery --app tracker beat --loglevel INFO

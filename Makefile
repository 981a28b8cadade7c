# `make run` serves the demo negotiation; `make test` runs the whole suite.
# Both install uv first if it is missing (from PyPI, into the user's site-packages).
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test sync uv lint seed-scale worker beat

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv

sync: uv
	$(UV) sync --frozen

run: sync
	$(UV) run python manage.py migrate --no-input
	$(UV) run python manage.py createcachetable
	$(UV) run python manage.py load_demo
	# The feeds, replayed offline from the repo's recorded files through the real code path.
	$(UV) run python manage.py refresh_feeds --replay --senate-session 118-2 --house-year 2024
	$(UV) run python manage.py runserver $(HOST):$(PORT)

test: sync
	$(UV) run pytest $(PYTEST_ARGS)

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .

seed-scale: sync
	$(UV) run python manage.py migrate --no-input
	$(UV) run python -m tests.bench.seed_scale

worker: sync
	$(UV) run celery -A tracker worker --loglevel=info

beat: sync
	$(UV) run celery -A tracker beat --loglevel=info

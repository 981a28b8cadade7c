"""Benchmark: Refresh now and the pages with Redis healthy, down, or hung.

    uv run python -m tests.bench.broker [--tries 5]

For three setups it prints the median and maximum wall time, and the status, of a "Refresh now"
POST (HTMX, as an Editor) and of a GET of the Feeds page and of the dashboard, each made `--tries`
times through Django's test client:

- healthy: no Redis, tasks run eagerly in the request (the demo's setup), so Refresh now includes
  the whole members refresh, read from the recorded feed files on a loopback server;
- down: Celery's broker and result store point at a loopback port that refuses connections;
- hung: they point at a loopback server that accepts connections and never answers.

Down or hung, Refresh now should answer 503 within the broker's short timeouts (2 s) and the pages
as fast as when healthy. It also prints how many connections reached the hung server while only
the pages were requested (pages must never touch the broker: 0).

Without DATABASE_URL it uses its own SQLite file (var/bench-broker.sqlite3, recreated each time);
with one, use a database of its own: the demo is loaded into it.
"""

import argparse
import io
import logging
import os
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from tests.broker_outage import HungRedis, celery_on_redis

BASE_DIR = Path(__file__).resolve().parents[2]
BENCH_DB = BASE_DIR / "var" / "bench-broker.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=5)
    options = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        BENCH_DB.parent.mkdir(exist_ok=True)
        BENCH_DB.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from tracker import roles
    from tracker.demo import replay

    # Each 503, eager task and refused connection would otherwise log lines among the figures.
    logging.disable(logging.ERROR)
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("load_demo", verbosity=0, stdout=io.StringIO())
    editor, _ = get_user_model().objects.get_or_create(username="bench-editor")
    editor.groups.add(roles.ensure_roles()[roles.EDITOR])
    client = Client(SERVER_NAME="localhost")
    client.force_login(editor)
    client.get(reverse("tracker-home"))  # the session's first request does one-off checks
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")

    requests: dict[str, Callable] = {
        "Refresh now (POST)": lambda: client.post(
            reverse("tracker-feed-refresh", args=["members"]), headers={"HX-Request": "true"}
        ),
        "Feeds page": lambda: client.get(reverse("tracker-feeds")),
        "dashboard": lambda: client.get(reverse("tracker-home")),
    }
    hung, refusing = HungRedis(), socket.socket()
    refusing.bind(("127.0.0.1", 0))  # held but never listening: connections are refused
    setups = {
        "healthy (eager)": None,
        "down (port refuses)": f"redis://127.0.0.1:{refusing.getsockname()[1]}/12",
        "hung (never answers)": hung.url,
    }
    print(f"\n{'setup':22} {'request':20} {'median ms':>10} {'max ms':>8}  status")
    reached_by_pages = 0
    try:
        with replay.serving():  # the healthy setup's eager refresh reads the recorded files
            for setup, url in setups.items():
                with celery_on_redis(url):
                    for name, make_request in requests.items():
                        before = len(hung.connections)
                        timings, statuses = _time(make_request, options.tries)
                        if name != "Refresh now (POST)":
                            reached_by_pages += len(hung.connections) - before
                        print(
                            f"{setup:22} {name:20} {statistics.median(timings):10.1f} "
                            f"{max(timings):8.1f}  {', '.join(map(str, sorted(statuses)))}"
                        )
    finally:
        hung.close()
        refusing.close()
    print(f"\nconnections to the hung server from page GETs: {reached_by_pages}")


def _time(make_request: Callable, tries: int) -> tuple[list[float], set[int]]:
    timings, statuses = [], set()
    for _ in range(tries):
        started = time.perf_counter()
        response = make_request()
        timings.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    return timings, statuses


if __name__ == "__main__":
    main()

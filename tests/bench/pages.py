"""Benchmark: every staff page served by gunicorn at `seed_scale` size, beside a trivial view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_bench \\
        uv run python -m tests.bench.pages [--runs 60] [--skip-seed]

It migrates the configured database, loads the demo and rebuilds the scale negotiation (which
the pages then show, being the newest), starts gunicorn on a free loopback port with the same
settings, and requests each page `--runs` times as a logged-in Viewer. It prints, per page, the
median and 95th-percentile latency and the SQL query count (counted in-process with Django's
test client on the same data). Use a database of its own: the scale data replaces any earlier.
"""

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from importlib import import_module

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the table

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from tests.bench.scale import SCALE_SLUG, seed_scale  # noqa: E402
from tracker import roles  # noqa: E402
from tracker.models import Bill, Demand, Negotiation, Provision, Stakeholder, Vote  # noqa: E402


def pages(negotiation: Negotiation) -> dict[str, str]:
    provision = Provision.objects.filter(negotiation=negotiation).order_by("pk").first()
    demand = Demand.objects.filter(negotiation=negotiation).order_by("pk").first()
    busiest = Stakeholder.objects.filter(slug__startswith="scale-senator").order_by("pk").first()
    house_vote = Vote.objects.filter(chamber="house", bill__negotiation=negotiation).first()
    bill = Bill.objects.filter(negotiation=negotiation).order_by("pk").first()
    return {
        "trivial view (/healthz)": reverse("tracker-health"),
        "dashboard": reverse("tracker-home"),
        "provisions": reverse("tracker-provision-list"),
        "provisions, searched": reverse("tracker-provision-list") + "?q=1&status=enacted",
        "provision detail": reverse("tracker-provision-detail", args=[provision.pk]),
        "demands": reverse("tracker-demand-list"),
        "demand detail": reverse("tracker-demand-detail", args=[demand.pk]),
        "stakeholders": reverse("tracker-stakeholder-list"),
        "stakeholder detail": reverse("tracker-stakeholder-detail", args=[busiest.pk]),
        "position grid": reverse("tracker-position-grid"),
        "timeline": reverse("tracker-timeline"),
        "votes": reverse("tracker-vote-list"),
        "House vote detail (every cast)": reverse("tracker-vote-detail", args=[house_vote.pk]),
        "bill detail": reverse("tracker-bill-detail", args=[bill.pk]),
        "search": reverse("tracker-search") + "?q=senate+border",
    }


def idle_poll(client: Client, url: str) -> tuple[int, int, float]:
    """A live page's idle poll (nothing changed since its stamp): status, queries, ms."""
    from tracker.views.live import etag, latest_activity_id

    headers = {"HX-Request": "true", "If-None-Match": etag(latest_activity_id())}
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(f"{url}?live=1", headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
    return response.status_code, len(captured), elapsed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _session_cookie(user: object) -> str:
    """A logged-in session for `user`, made directly so no login form is involved."""
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--skip-seed", action="store_true", help="Reuse the scale data.")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    roles.ensure_roles()
    if not args.skip_seed or not Negotiation.objects.filter(slug=SCALE_SLUG).exists():
        call_command("load_demo", verbosity=0)
        started = time.perf_counter()
        seed_scale()
        print(f"seed_scale: {time.perf_counter() - started:.1f} s")
    negotiation = Negotiation.objects.get(slug=SCALE_SLUG)
    from django.contrib.auth import get_user_model

    reader, _ = get_user_model().objects.get_or_create(username="bench-viewer")
    reader.groups.add(roles.ensure_roles()[roles.VIEWER])
    urls = pages(negotiation)

    client = Client(SERVER_NAME="localhost")
    client.force_login(reader)
    client.get(urls["dashboard"])  # the session's first request does one-off checks
    query_counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        query_counts[name] = len(captured)

    for name in ("dashboard", "provision detail"):
        runs = [idle_poll(client, urls[name]) for _ in range(args.runs)]
        status, queries, _ = runs[-1]
        print(
            f"idle poll of {name}: {status}, {queries} queries in all (one of its own), "
            f"median {statistics.median(ms for _, _, ms in runs):.2f} ms in-process"
        )

    port = _free_port()
    env = os.environ | {"CURRENT_NEGOTIATION": SCALE_SLUG, "DEBUG": "true"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tracker.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        cookies = {settings.SESSION_COOKIE_NAME: _session_cookie(reader)}
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as http:
            for _ in range(100):
                try:
                    http.get(urls["trivial view (/healthz)"])
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            http.get(urls["dashboard"])
            print(f"{'page':28} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
            for name, url in urls.items():
                timings = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    response = http.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                timings.sort()
                p95 = timings[int(len(timings) * 0.95) - 1]
                print(
                    f"{name:28} {statistics.median(timings):10.1f} {p95:8.1f} "
                    f"{query_counts[name]:8d}"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

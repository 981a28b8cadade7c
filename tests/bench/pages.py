"""Benchmark: every staff page and export served as in production and measured from outside
with wrk, each beside a trivial page, at seed_scale size and at 3 times that size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_bench_pages \\
        uv run python -m tests.bench.pages [--rounds 3] [--duration 3] [--sizes 1,3]
                                           [--pages dashboard,"provision detail"] [--reuse]

Set-up, per size: the database (created if missing) is migrated, the demo loaded, and the
scale negotiation built at that multiple of seed_scale (tests/bench/scale.py; --reuse keeps
scale data already of that size), with a whip board settled by one of its Senate votes. It is
served by gunicorn as deployed (tracker/deploy/gunicorn.conf.py, 2 workers of 1 thread,
DEBUG=false, a random SECRET_KEY, ALLOWED_HOSTS=127.0.0.1) on a free loopback port, and a
Viewer is logged in with Django's test Client on the same database, its cookies given to wrk.

Two departures from production, on purpose:

- SECURE_SSL_REDIRECT=false: no TLS proxy is in front, so every request would be a 301. The
  cookies keep their production names and Secure flag (__Host-sessionid, __Host-csrftoken):
  only browsers refuse to send a Secure cookie over HTTP; wrk sends what it is given.
- gunicorn's --max-requests 0: recycling a worker every ~1,000 requests (a fresh Django import)
  would happen every second in the trivial page's runs and rarely in a slow page's.

The baseline is /bench/trivial (tests/bench/settings.py, these settings only), not /healthz: a
middleware answers /healthz before the session and authentication middlewares, so it skips
most of what every page pays; the trivial page goes through all of them and the login check.

At the first size, for --rounds rounds, each page in turn: `wrk -t2 -c8 --latency` for
--duration seconds on the trivial page, then on the page; the ratio is the page's requests per
second over the trivial page's in that round. Printed per page: req/s and p50/p99 latency (the
round with the median ratio), the ratio's median and range over the rounds, and the SQL
queries of one request (the test client in this process, on the same data). At every size,
each page alone on one connection (`wrk -t1 -c1`, one second a round, pages interleaved): the
median over the rounds of its median latency, and the CPU time the gunicorn workers spent per
request (from /proc: other processes on the machine hardly change it, where they stretch the
latency), then the last size's over the first's. The load average is printed as it goes: on
a shared machine, read the figures beside it. The database keeps the last size built.
"""

import argparse
import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.bench.processes import children_cpu_seconds, free_port

BASE_DIR = Path(__file__).resolve().parents[2]
# Production's settings but for the two departures above, shared by this process and gunicorn.
SECRET_KEY = secrets.token_urlsafe(50)
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
    "DEBUG": "false",
    "SECRET_KEY": SECRET_KEY,
    "ALLOWED_HOSTS": "127.0.0.1,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "CURRENT_NEGOTIATION": "scale-test",
    "WEB_CONCURRENCY": "2",
    "WEB_THREADS": "1",
    # Collected here at the start, as the image's build does (DEBUG off serves the manifest).
    "STATIC_ROOT": str(BASE_DIR / "var" / "bench-pages-static"),
}
TRIVIAL = "trivial page"
# A live page's poll while nothing changes: answered 304 with the page's ETag (issue 12's cost).
IDLE_POLL = "idle poll (304)"


@dataclass
class Figures:
    """What was measured of one page."""

    queries: dict[int, int] = field(default_factory=dict)  # by size
    alone_ms: dict[int, float] = field(default_factory=dict)  # one connection, by size
    cpu_ms: dict[int, float] = field(default_factory=dict)  # gunicorn's per request, by size
    rounds: list[tuple[float, float, float, float]] = field(default_factory=list)
    # each round: (ratio, req/s, p50 ms, p99 ms)


@dataclass
class Wrk:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=3, help="Seconds per wrk run.")
    parser.add_argument(
        "--sizes", default="1,3", help="Multiples of seed_scale, comma-separated (default 1,3)."
    )
    parser.add_argument(
        "--pages", default="", help="Only these pages (names as printed), comma-separated."
    )
    parser.add_argument(
        "--reuse", action="store_true", help="Keep scale data already of the size wanted."
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    wanted = {name.strip() for name in args.pages.split(",") if name.strip()}

    _create_database(os.environ["DATABASE_URL"])
    os.environ.update(BENCH_ENV)
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    # This process's own requests (counting queries) would log a line each among the figures.
    logging.disable(logging.INFO)

    from tracker import roles
    from tracker.models import Negotiation

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    roles.ensure_roles()
    if not Negotiation.objects.exclude(slug="scale-test").exists():
        call_command("load_demo", verbosity=0)
    print(f"Set-up: {time.perf_counter() - started:.0f} s", flush=True)

    figures: dict[str, Figures] = {}
    for index, size in enumerate(sizes):
        _measure_size(size, figures, args, wanted, throughput=index == 0)
    _print_table(figures, sizes, args)
    print(f"Whole run: {(time.perf_counter() - started) / 60:.1f} min")


def _create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database of the benchmark's own.")
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        if not connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def _seed(size: int, reuse: bool) -> None:
    from tests.bench.scale import SCALE_SLUG, ScaleSize, seed_scale
    from tracker.models import Activity, Negotiation, Vote, VoteTarget

    wanted = ScaleSize().times(size)
    negotiation = Negotiation.objects.filter(slug=SCALE_SLUG).first()
    if not (
        reuse
        and negotiation
        and Activity.objects.filter(negotiation=negotiation).count() == wanted.activities
    ):
        started = time.perf_counter()
        negotiation = seed_scale(
            wanted,
            progress=lambda step: print(
                f"  seed_scale ×{size}: {step} ({time.perf_counter() - started:.0f} s)", flush=True
            ),
        )
    if not VoteTarget.objects.filter(negotiation=negotiation).exists():
        from tracker.models import Demand, Provision, VoteTargetLink

        vote = Vote.objects.filter(bill__negotiation=negotiation, chamber="senate").first()
        target = VoteTarget.objects.create(
            negotiation=negotiation,
            motion="Cloture (benchmark)",
            expected_on=vote.voted_on,
            vote=vote,
        )
        for provision in Provision.objects.filter(negotiation=negotiation).order_by("id")[:5]:
            VoteTargetLink.objects.create(target=target, provision=provision)
        for demand in Demand.objects.filter(negotiation=negotiation).order_by("id")[:2]:
            VoteTargetLink.objects.create(target=target, demand=demand, support_means="no")


def pages() -> dict[str, str]:
    """Every staff page and export, on the scale negotiation, by name."""
    from django.urls import reverse

    from tests.bench.scale import SCALE_SLUG
    from tracker.models import Bill, Demand, Negotiation, Provision, Stakeholder, Vote, VoteTarget

    negotiation = Negotiation.objects.get(slug=SCALE_SLUG)
    provision = Provision.objects.filter(negotiation=negotiation).order_by("pk").first()
    demand = Demand.objects.filter(negotiation=negotiation).order_by("pk").first()
    senator = Stakeholder.objects.filter(slug__startswith="scale-senator").order_by("pk").first()
    house_vote = Vote.objects.filter(chamber="house", bill__negotiation=negotiation).first()
    bill = Bill.objects.filter(negotiation=negotiation).order_by("pk").first()
    target = VoteTarget.objects.get(negotiation=negotiation)
    return {
        TRIVIAL: reverse("bench-trivial"),
        "dashboard": reverse("tracker-home"),
        "search": reverse("tracker-search") + "?q=Provision+1",
        "provisions": reverse("tracker-provision-list"),
        "provisions searched": reverse("tracker-provision-list") + "?q=1&status=enacted",
        "provision detail": reverse("tracker-provision-detail", args=[provision.pk]),
        "demands": reverse("tracker-demand-list"),
        "demand detail": reverse("tracker-demand-detail", args=[demand.pk]),
        "stakeholders": reverse("tracker-stakeholder-list"),
        "senator detail": reverse("tracker-stakeholder-detail", args=[senator.pk]),
        "positions grid": reverse("tracker-position-grid"),
        "positions grid CSV": reverse("tracker-position-grid-csv"),
        "timeline": reverse("tracker-timeline"),
        "bills": reverse("tracker-bill-list"),
        "bill detail": reverse("tracker-bill-detail", args=[bill.pk]),
        "votes": reverse("tracker-vote-list"),
        f"House vote ({house_vote.casts.count()} casts)": reverse(
            "tracker-vote-detail", args=[house_vote.pk]
        ),
        "whip boards": reverse("tracker-whip-list"),
        "whip board": reverse("tracker-whip-board", args=[target.pk]),
        IDLE_POLL: reverse("tracker-whip-board", args=[target.pk]) + "?live=1",
        "whip board CSV": reverse("tracker-whip-board-csv", args=[target.pk]),
        "whip results": reverse("tracker-whip-results", args=[target.pk]),
        "funding": reverse("tracker-funding-compare"),
        "funding CSV": reverse("tracker-funding-compare-csv"),
        "feeds": reverse("tracker-feeds"),
        "my watches": reverse("tracker-my-watches"),
        "digest preview": reverse("tracker-digest-preview"),
    }


def _viewer_client() -> tuple[object, str]:
    """A logged-in Viewer's test client, and its cookies as a Cookie header."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from tracker import roles

    reader, _ = get_user_model().objects.get_or_create(
        username="bench-viewer", defaults={"email": "bench-viewer@example.org"}
    )
    reader.groups.set([roles.ensure_roles()[roles.VIEWER]])
    client = Client()
    client.force_login(reader)
    # A page with a form, so the CSRF cookie is set as a browser would have it.
    assert client.get(reverse("tracker-provision-list")).status_code == 200
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    return client, cookie


def headers_for(name: str) -> dict[str, str]:
    """What a page's request carries besides the login: a poll says it is htmx's and sends the
    ETag the page was drawn with (nothing changes during the benchmark, so it stays current)."""
    if name != IDLE_POLL:
        return {}
    from tracker.page_cache import current_stamp
    from tracker.views.live import etag

    return {"HX-Request": "true", "If-None-Match": etag(current_stamp())}


def expected_status(name: str) -> int:
    return 304 if name == IDLE_POLL else 200


def _count_queries(client: object, name: str, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = headers_for(name)
    client.get(url, headers=headers)  # type: ignore[attr-defined]  # the first one fills caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers)  # type: ignore[attr-defined]
    if response.status_code != expected_status(name):
        raise RuntimeError(f"{url} answered {response.status_code}")
    return len(captured)


@contextmanager
def gunicorn() -> Iterator[tuple[str, int]]:
    """gunicorn as deployed, on a free loopback port; yields its base URL and its pid."""
    port = free_port()
    (BASE_DIR / "var").mkdir(exist_ok=True)
    log = (BASE_DIR / "var" / "bench-pages-gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(BASE_DIR / "tracker" / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--max-requests",
            "0",
            "tracker.wsgi",
        ],
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(200):
            try:
                _status(f"http://127.0.0.1:{port}", "/healthz", "", {})
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not start: see {log.name}")
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _status(base: str, path: str, cookie: str, headers: dict[str, str]) -> int:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", path, headers=headers | ({"Cookie": cookie} if cookie else {}))
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
WRK_REQUESTS = re.compile(r"^\s+(\d+) requests in", re.MULTILINE)
WRK_ERRORS = re.compile(r"^\s+(Non-2xx or 3xx responses: \d+|Socket errors: .*)$", re.MULTILINE)
TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str,
    cookie: str,
    *,
    duration: int,
    threads: int,
    connections: int,
    headers: dict[str, str] | None = None,
) -> Wrk:
    extra = [arg for key, value in (headers or {}).items() for arg in ("-H", f"{key}: {value}")]
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = {p: float(value) * TO_MS[unit] for p, value, unit in WRK_LATENCY.findall(out)}
    return Wrk(
        requests=int(WRK_REQUESTS.search(out).group(1)),  # type: ignore[union-attr]
        requests_per_second=float(WRK_RATE.search(out).group(1)),  # type: ignore[union-attr]
        p50_ms=latency["50"],
        p99_ms=latency["99"],
        errors="; ".join(WRK_ERRORS.findall(out)),
    )


def _measure_size(
    size: int,
    figures: dict[str, Figures],
    args: argparse.Namespace,
    wanted: set[str],
    *,
    throughput: bool,
) -> None:
    print(f"\n×{size} seed_scale (load average {os.getloadavg()[0]:.1f}):", flush=True)
    started = time.perf_counter()
    _seed(size, args.reuse)
    client, cookie = _viewer_client()
    urls = {
        name: url
        for name, url in pages().items()
        if not wanted or _stable(name) in wanted | {TRIVIAL}
    }
    for name, url in urls.items():
        figures.setdefault(_stable(name), Figures()).queries[size] = _count_queries(
            client, name, url
        )
    headers = {name: headers_for(name) for name in urls}
    print(f"  data and queries ready in {time.perf_counter() - started:.0f} s", flush=True)

    with gunicorn() as (base, server):
        for name, url in urls.items():
            status = _status(base, url, cookie, headers[name])
            if status != expected_status(name):
                raise RuntimeError(f"{name} ({url}) answered {status} through gunicorn")
            # Warm both workers.
            wrk(base + url, cookie, duration=1, threads=1, connections=2, headers=headers[name])
        medians: dict[str, list[float]] = {name: [] for name in urls}
        cpu = dict.fromkeys(urls, 0.0)
        requests = dict.fromkeys(urls, 0)
        for _ in range(args.rounds):
            for name, url in urls.items():
                before = children_cpu_seconds(server)
                alone = wrk(
                    base + url, cookie, duration=1, threads=1, connections=1, headers=headers[name]
                )
                cpu[name] += children_cpu_seconds(server) - before
                requests[name] += alone.requests
                medians[name].append(alone.p50_ms)
        for name in urls:
            figures[_stable(name)].alone_ms[size] = statistics.median(medians[name])
            figures[_stable(name)].cpu_ms[size] = cpu[name] / requests[name] * 1000
        print(f"  one connection per page measured (load average {os.getloadavg()[0]:.1f})")
        if not throughput:
            return
        for round_number in range(1, args.rounds + 1):
            for name, url in urls.items():
                if name == TRIVIAL:
                    continue
                trivial = wrk(
                    base + urls[TRIVIAL], cookie, duration=args.duration, threads=2, connections=8
                )
                page = wrk(
                    base + url,
                    cookie,
                    duration=args.duration,
                    threads=2,
                    connections=8,
                    headers=headers[name],
                )
                # wrk counts every 304 as "Non-2xx or 3xx": for the poll that is the answer.
                page_errors = (
                    "" if name == IDLE_POLL and "Socket" not in page.errors else page.errors
                )
                if page_errors or trivial.errors:
                    print(f"  {name}: {page_errors or trivial.errors}")
                figures[_stable(name)].rounds.append(
                    (
                        page.requests_per_second / trivial.requests_per_second,
                        page.requests_per_second,
                        page.p50_ms,
                        page.p99_ms,
                    )
                )
                figures[TRIVIAL].rounds.append(
                    (1.0, trivial.requests_per_second, trivial.p50_ms, trivial.p99_ms)
                )
            print(
                f"  round {round_number} of {args.rounds} done "
                f"(load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )


def _stable(name: str) -> str:
    # "House vote (441 casts)" is one row whatever the size.
    return re.sub(r" \(\d+ casts\)", " (every cast)", name)


def _print_table(figures: dict[str, Figures], sizes: list[int], args: argparse.Namespace) -> None:
    first, last = sizes[0], sizes[-1]
    print(
        f"\nAt ×{first}: wrk -t2 -c8, {args.rounds} rounds of {args.duration} s, each page right "
        f"after the trivial page. At each size: one connection, {args.rounds} rounds of 1 s: "
        "median ms, and gunicorn's CPU ms per request."
    )
    growth = f"×{last}/×{first}"
    header = (
        f"{'page':24} {'req/s':>6} {'ratio (range)':>17} {'p50':>6} {'p99':>6} {'queries':>8}"
        + "".join(f" {f'×{size} ms':>7}" for size in sizes)
        + (f" {growth:>7}" if len(sizes) > 1 else "")
        + "".join(f" {f'×{size} CPU':>7}" for size in sizes)
        + (f" {growth:>7}" if len(sizes) > 1 else "")
    )
    print(header)
    for name, page in figures.items():
        line = f"{name:24}"
        if page.rounds:
            ordered = sorted(page.rounds)
            ratio, rate, p50, p99 = ordered[len(ordered) // 2]
            ratios = [round_[0] for round_ in page.rounds]
            if name == TRIVIAL:
                rate = statistics.median(round_[1] for round_ in page.rounds)
                line += f" {rate:6.0f} {'1':>17}"
            else:
                spread = f"{min(ratios):.0%}–{max(ratios):.0%}"
                line += f" {rate:6.0f} {f'{ratio:.1%} ({spread})':>17}"
            line += f" {p50:6.0f} {p99:6.0f}"
        else:
            line += f" {'':6} {'':>17} {'':6} {'':6}"
        counts = [page.queries[size] for size in sizes if size in page.queries]
        queries = str(counts[0]) if len(set(counts)) == 1 else "→".join(map(str, counts))
        line += f" {queries:>8}"
        for measured in (page.alone_ms, page.cpu_ms):
            line += "".join(f" {measured.get(size, float('nan')):7.1f}" for size in sizes)
            if len(sizes) > 1:
                line += (
                    f" {measured.get(last, float('nan')) / measured.get(first, float('nan')):7.2f}"
                )
        print(line)


if __name__ == "__main__":
    main()

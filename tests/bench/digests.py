"""Benchmark: weekly digests for 1,000 users watching 50 items each over seed_scale's 50,000
activities, sent as production sends them, and built alone for comparison.

    DATABASE_URL=postgres://…/tracker_bench uv run python -m tests.bench.digests
        [--users 1000] [--watches 50] [--activities 50000] [--workers 2]
        [--paths command,celery,worker,build] [--stock-smtp-server] [--no-migrations]
        [--command-processes N] [--profile PREFIX]

The headline is the send path, end to end: the due digests picked, each (user, period)
claimed, built, rendered (subject, text, HTML), handed over SMTP to a server on loopback (an
aiosmtpd sink in a process of its own, tests/bench/smtp_sink.py), and its result recorded:

- command: `manage.py send_digests --now …`, called in this process, which shares the batches
  out between processes forked from it (one per core unless --command-processes says);
- celery: the beat task `send_due_digests` and the `send_digests` tasks it queues, run eagerly
  in this process (the task bodies, without the broker);
- worker: the same `send_digests` tasks queued through Redis (database 11) to a real Celery
  worker with `--workers` processes (production runs 2), timed until every delivery is
  recorded; PostgreSQL only, as the worker must reach the database.

Each prints users per second, SQL statements per user (counted in this process and those
forked from it, so not for `worker`), the sending processes' CPU time per user (on a shared
machine the steadier figure: other processes stretch the wall time, hardly the CPU time), the
SMTP server's own CPU time per message, and what reached the server (one message per user,
none twice). `build` builds the same digests without rendering or sending
(tracker.digests.build_digests). The load average is printed before each run: on a shared
machine, read the figures beside it. The SMTP server reads DATA in blocks, as a production
relay does (tests/bench/smtp_sink.py says why).

It runs in a throwaway database (the test database of DATABASE_URL: in memory for SQLite),
never the dev database. --no-migrations builds tables from the models. --profile PREFIX runs
each path in this process under cProfile and writes its stats to PREFIX.<path>.prof (read them
with `python -m pstats`); the figures printed then include the profiler's own cost.
"""

import argparse
import cProfile
import json
import logging
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import django

from tests.bench.processes import children_cpu_seconds, free_port

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

NEW_YORK = ZoneInfo("America/New_York")
PATHS = ("command", "celery", "worker", "build")
WORKER_REDIS_URL = "redis://127.0.0.1:6379/11"
WARM_UP_TASKS_PER_PROCESS = 4
BASE_DIR = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--watches", type=int, default=50)
    parser.add_argument("--activities", type=int, default=50_000)
    parser.add_argument(
        "--workers", type=int, default=2, help="Processes of the Celery worker (default 2)."
    )
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help=f"Which to run, comma-separated (default: {','.join(PATHS)}).",
    )
    parser.add_argument(
        "--stock-smtp-server",
        action="store_true",
        help="Let the SMTP server read DATA a line at a time, as aiosmtpd does by itself.",
    )
    parser.add_argument(
        "--command-processes",
        type=int,
        help="Pass --processes to send_digests (default: the command's own, one per core).",
    )
    parser.add_argument("--no-migrations", action="store_true")
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="Profile each path run in this process into PREFIX.<path>.prof.",
    )
    args = parser.parse_args()
    paths = [path for path in args.paths.split(",") if path]
    if unknown := set(paths) - set(PATHS):
        parser.error(f"unknown --paths {', '.join(sorted(unknown))}")
    if "worker" in paths:
        # This process queues the worker's tasks, so it needs the same broker.
        os.environ["REDIS_URL"] = WORKER_REDIS_URL

    django.setup()
    from django.conf import settings
    from django.db import connection

    if args.no_migrations:
        settings.MIGRATION_MODULES = {app.split(".")[-1]: None for app in settings.INSTALLED_APPS}
    if "worker" in paths and connection.vendor != "postgresql":
        print("worker: skipped, it needs DATABASE_URL to name PostgreSQL")
        paths.remove("worker")
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        _run(args, paths)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


class Statements:
    """Counts the SQL statements run on the default connection while active, in this process
    and in the processes forked from it meanwhile (they inherit the wrapper and the counter,
    which is in shared memory)."""

    def __init__(self) -> None:
        self._count = multiprocessing.Value("q", 0)

    @property
    def count(self) -> int:
        return self._count.value

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        with self._count.get_lock():
            self._count.value += 1
        return execute(sql, params, many, context)


def _cpu_here() -> float:
    """CPU time of this process and of its children that have ended (the send_digests
    command's forked processes; the SMTP server's is added only once it stops)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@contextmanager
def smtp_sink(*, stock: bool = False) -> Iterator[tuple[int, dict[str, float]]]:
    """An SMTP server on a free loopback port, with Django's mail settings pointed at it;
    yields the port and a dict filled with what it received once it stops."""
    from django.conf import settings

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.smtp_sink", str(port), *(["--stock"] if stock else [])],
        stdout=subprocess.PIPE,
        text=True,
    )
    received: dict[str, float] = {}
    try:
        assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
        saved = {
            name: getattr(settings, name)
            for name in ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS")
        }
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
        try:
            yield port, received
        finally:
            for name, value in saved.items():
                setattr(settings, name, value)
    finally:
        sink.terminate()
        out, _ = sink.communicate(timeout=30)
        received.update(json.loads(out.strip().splitlines()[-1]))


@contextmanager
def celery_worker(processes: int, smtp_port: int) -> Iterator[int]:
    """A Celery worker on Redis database 11, on this run's database and SMTP server."""
    import redis
    from django.db import connection

    redis.Redis.from_url(WORKER_REDIS_URL).flushdb()
    database = connection.settings_dict
    url = urlsplit(os.environ["DATABASE_URL"])
    env = os.environ | {
        "DATABASE_URL": urlunsplit(url._replace(path=f"/{database['NAME']}")),
        "REDIS_URL": WORKER_REDIS_URL,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "CELERY_WORKER_CONCURRENCY": str(processes),
    }
    (BASE_DIR / "var").mkdir(exist_ok=True)
    log = (BASE_DIR / "var" / "bench-digests-worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "tracker", "worker", "--loglevel", "WARNING"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        from tracker.celery import app

        for _ in range(100):
            if app.control.ping(timeout=0.5):
                break
            if worker.poll() is not None:
                raise RuntimeError(f"the worker stopped: see {log.name}")
        else:
            raise RuntimeError(f"the worker did not answer: see {log.name}")
        yield worker.pid
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        log.close()
        redis.Redis.from_url(WORKER_REDIS_URL).flushdb()


def _run(args: argparse.Namespace, paths: list[str]) -> None:
    import time_machine
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from tests.bench.scale import ScaleSize, seed_scale
    from tracker import digests, tasks
    from tracker.celery import app as celery_app
    from tracker.models import Activity, DigestDelivery, DigestFrequency, DigestPreference, Watch

    # A line per task would bury the figures (a worker writes them to its own log).
    logging.getLogger("celery").setLevel(logging.WARNING)
    logging.getLogger("kombu").setLevel(logging.ERROR)
    started = time.perf_counter()
    negotiation = seed_scale(ScaleSize(activities=args.activities))
    print(f"seed_scale: {time.perf_counter() - started:.1f} s", flush=True)

    scale_activities = Activity.objects.filter(negotiation=negotiation)
    span_end = scale_activities.latest("occurred_at").occurred_at
    # The weekly send time: the first whole hour after the last change, New York time, so
    # the week before it holds the last 7 of the 200 days of changes.
    until = span_end.astimezone(NEW_YORK).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=1
    )
    now = until + timedelta(minutes=2)

    rng = random.Random(5)
    provisions = list(negotiation.provisions.values_list("pk", flat=True))
    demands = list(negotiation.demands.values_list("pk", flat=True))
    stakeholders = list(
        scale_activities.filter(stakeholder__isnull=False)
        .values_list("stakeholder_id", flat=True)
        .distinct()
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-{n}", email=f"bench-{n}@example.org")
        for n in range(args.users)
    )
    DigestPreference.objects.bulk_create(
        DigestPreference(
            user=user,
            frequency=DigestFrequency.WEEKLY,
            weekday=until.weekday(),
            hour=until.hour,
            time_zone="America/New_York",
        )
        for user in users
    )
    # Subscribed a month before, so this week's digest is theirs (a newcomer's is the next).
    DigestPreference.objects.update(created_at=until - timedelta(days=30))
    rows = []
    for user in users:
        # A realistic mix: mostly provisions, some demands and stakeholders.
        chosen = {("provision", pk) for pk in rng.sample(provisions, k=args.watches * 6 // 10)}
        chosen |= {
            ("demand", pk) for pk in rng.sample(demands, k=min(len(demands), args.watches // 5))
        }
        while len(chosen) < args.watches:
            chosen.add(("stakeholder", rng.choice(stakeholders)))
        rows += [Watch(user=user, **{f"{kind}_id": pk}) for kind, pk in chosen]
    Watch.objects.bulk_create(rows, batch_size=5000)
    in_window = scale_activities.filter(
        recorded_at__gte=until - timedelta(days=7), recorded_at__lt=until
    ).count()
    print(
        f"{args.users:,} users × {args.watches} watches, weekly digests due "
        f"{until:%a %b %d %H:%M %Z}; {Activity.objects.count():,} activities, {in_window:,} in "
        f"the week; vendor {connection.vendor}",
        flush=True,
    )

    def measure(
        path: str, label: str, run: Callable[[int], tuple[int, float | None, float | None]]
    ) -> None:
        """Time `run` (given the SMTP server's port; returns the changes it covered and, if it
        timed itself, how long and the CPU time it took elsewhere) and print the figures."""
        DigestDelivery.objects.all().delete()
        load = os.getloadavg()[0]
        statements = Statements()
        with (
            smtp_sink(stock=args.stock_smtp_server) as (port, received),
            connection.execute_wrapper(statements),
        ):
            profiler = cProfile.Profile() if args.profile and path != "worker" else None
            started, cpu = time.perf_counter(), _cpu_here()
            if profiler is not None:
                profiler.enable()
            changes, elapsed, elsewhere = run(port)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(f"{args.profile}.{path}.prof")
            elapsed = elapsed or time.perf_counter() - started
            cpu = elsewhere if elsewhere is not None else _cpu_here() - cpu
        if path == "worker":
            counted = f"workers' CPU {cpu / args.users * 1000:.1f} ms/user (statements not counted)"
        else:
            counted = (
                f"{statements.count / args.users:.2f} statements/user "
                f"({statements.count:,} in all), {cpu / args.users * 1000:.1f} ms CPU/user"
            )
        print(
            f"{label}: {args.users / elapsed:,.0f} users/s ({elapsed:.1f} s), {counted}, "
            f"{changes / args.users:,.0f} changes/user; load average {load:.1f} before",
            flush=True,
        )
        if path != "build":
            messages = int(received["messages"])
            sent = DigestDelivery.objects.filter(status="sent").count()
            warmed = WARM_UP_TASKS_PER_PROCESS * args.workers if path == "worker" else 0
            print(
                f"    SMTP server got {messages:,} messages for {int(received['recipients']):,} "
                + (f"users, {warmed} of them warming the worker up " if warmed else "users ")
                + f"(at most {int(received['most_to_one'])} to one), "
                f"{received['bytes'] / max(messages, 1) / 1024:,.0f} KB each, its own CPU "
                f"{received['cpu'] / max(messages, 1) * 1000:.1f} ms/message; "
                f"{sent:,} deliveries recorded sent",
                flush=True,
            )

    def changes_sent() -> int:
        return sum(DigestDelivery.objects.values_list("change_count", flat=True))

    def by_command(port: int) -> tuple[int, None, None]:
        processes = (
            [] if args.command_processes is None else ["--processes", str(args.command_processes)]
        )
        call_command("send_digests", "--now", now.isoformat(), *processes, stdout=StringIO())
        return changes_sent(), None, None

    def by_celery(port: int) -> tuple[int, None, None]:
        celery_app.conf.task_always_eager = True
        try:
            with time_machine.travel(now, tick=True):
                tasks.send_due_digests.apply().get()
        finally:
            celery_app.conf.task_always_eager = not os.environ.get("REDIS_URL")
        return changes_sent(), None, None

    def by_worker(port: int) -> tuple[int, float, float]:
        # What send_due_digests queues, as of the bench's moment (the worker's clock says now).
        due = digests.due_digests(now)
        with celery_worker(args.workers, port) as worker:
            # First a few one-user tasks for users of their own, so each process has loaded
            # what it keeps between tasks (URL patterns, templates), as a long-running worker
            # has; their messages are the only ones beyond one per bench user.
            warm_up = get_user_model().objects.bulk_create(
                get_user_model()(username=f"warm-up-{n}", email=f"warm-up-{n}@example.org")
                for n in range(WARM_UP_TASKS_PER_PROCESS * args.workers)
            )
            watched = Watch.objects.filter(user=users[0])
            Watch.objects.bulk_create(
                Watch(user=user, provision_id=watch.provision_id, demand_id=watch.demand_id)
                for user in warm_up
                for watch in watched
                if watch.stakeholder_id is None
            )
            _queue_and_wait(
                [digests.DueDigest(user.pk, "warm-up", until) for user in warm_up],
                tasks,
                DigestDelivery,
                batch=1,
            )
            get_user_model().objects.filter(username__startswith="warm-up-").delete()
            started, cpu = time.perf_counter(), children_cpu_seconds(worker)
            _queue_and_wait(due, tasks, DigestDelivery, batch=digests.BATCH_SIZE)
            elapsed, cpu = time.perf_counter() - started, children_cpu_seconds(worker) - cpu
        return changes_sent(), elapsed, cpu

    def build_only(port: int) -> tuple[int, None, None]:
        changes = 0
        for digest in digests.build_digests(
            get_user_model().objects.filter(username__startswith="bench-"),
            since=until - timedelta(days=7),
            until=until,
        ):
            changes += digest.change_count
        return changes, None, None

    runs = {
        "command": (
            "send path, manage.py send_digests"
            + ("" if args.command_processes is None else f" --processes {args.command_processes}"),
            by_command,
        ),
        "celery": ("send path, Celery send_due_digests (eager)", by_celery),
        "worker": (f"send path, Celery worker ({args.workers} processes)", by_worker),
        "build": ("build only (build_digests, no render, no SMTP)", build_only),
    }
    for path in PATHS:
        if path in paths:
            measure(path, *runs[path])


def _queue_and_wait(due: list, tasks: object, deliveries: object, *, batch: int) -> None:
    """Queue `due` in send_digests tasks of `batch` users, as send_due_digests does, and wait
    until every one of them has a result recorded."""
    for start in range(0, len(due), batch):
        tasks.send_digests.delay(  # type: ignore[attr-defined]
            [
                [item.user_id, item.period, item.until.isoformat()]
                for item in due[start : start + batch]
            ]
        )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        done = deliveries.objects.exclude(status__in=["pending", "sending"]).count()  # type: ignore[attr-defined]
        if done >= len(due):
            return
        time.sleep(0.02)
    raise RuntimeError("the worker did not finish within 10 minutes")


if __name__ == "__main__":
    main()

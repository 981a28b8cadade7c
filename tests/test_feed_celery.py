"""Scheduled refreshes through a real worker on the Redis broker, and the per-source lock."""

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tracker.demo import replay
from tracker.feeds import sync
from tracker.models import FeedRun, Stakeholder
from tracker.tasks import refresh_feed

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_of_one_source_never_run_at_once(demo) -> None:
    """The first refresh holds the lock while its slow menu download runs; the second skips."""
    entered = threading.Event()
    release = threading.Event()
    real_fetch_menu = sync.senate.fetch_menu

    def slow_menu(congress: int, session: int) -> object:
        entered.set()
        release.wait(10)
        return real_fetch_menu(congress, session)

    results: dict[str, FeedRun] = {}

    def first() -> None:
        try:
            results["first"] = sync.refresh_senate(118, 2)
        finally:
            connection.close()

    with replay.serving():
        sync.senate.fetch_menu = slow_menu
        try:
            thread = threading.Thread(target=first)
            thread.start()
            assert entered.wait(10)
            sync.senate.fetch_menu = real_fetch_menu
            second = sync.refresh_senate(118, 2)
        finally:
            sync.senate.fetch_menu = real_fetch_menu
            release.set()
            thread.join(30)
    assert second.status == "skipped"
    assert "Another refresh" in second.message
    assert results["first"].status == "succeeded"
    # Once the first finished, the lock is free again.
    with replay.serving():
        assert sync.refresh_senate(118, 2).status == "succeeded"


@pytest.mark.django_db
def test_the_task_runs_synchronously_and_returns_its_run(demo) -> None:
    with replay.serving():
        run_id = refresh_feed.apply(args=["members"]).get()
    run = FeedRun.objects.get(pk=run_id)
    assert (run.source, run.status, run.unchanged) == ("members", "succeeded", 100)


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_redis_broker_runs_a_scheduled_refresh(demo, settings) -> None:
    """The scheduled members refresh, sent by name as beat sends it, runs in a real worker.

    The worker is another process, so it uses the PostgreSQL test database by name and reads
    the legislators file from this test's loopback server.
    """
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    queue = f"test-feeds-{uuid.uuid4().hex}"
    Stakeholder.objects.filter(lis_id="S354").update(party="X")  # the refresh must correct it
    with replay.serving() as urls:
        env = os.environ.copy()
        env["LEGISLATORS_URL"] = urls["LEGISLATORS_URL"]
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool=solo",
             "--concurrency=1", "-Q", queue, "--without-heartbeat", "--without-gossip",
             "--without-mingle", "--loglevel=WARNING"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            from tracker.celery import app

            entry = settings.CELERY_BEAT_SCHEDULE["refresh-members"]
            result = app.send_task(
                entry["task"], args=entry["args"], kwargs=entry["kwargs"], queue=queue
            )
            run_id = result.get(timeout=90)
        finally:
            worker.terminate()
            output, _ = worker.communicate(timeout=30)
    run = FeedRun.objects.get(pk=run_id)
    assert run.status == "succeeded", output
    assert (run.fetched, run.updated) == (100, 1)
    assert Stakeholder.objects.get(lis_id="S354").party == "D"

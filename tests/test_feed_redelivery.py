"""A worker that dies mid-refresh leaves its run `running` and its task unacknowledged (acks_late);
the broker delivers the task again, and that delivery finishes the same run."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tracker import tasks
from tracker.demo import replay
from tracker.feeds.queue import queue_run
from tracker.models import FeedRun, FeedRunStatus

pytestmark = pytest.mark.django_db


def test_a_refresh_delivered_again_after_its_worker_died_finishes_its_run(editor) -> None:
    run = queue_run("members", user=editor)
    # As the killed worker left it: started, part done, never finished.
    FeedRun.objects.filter(pk=run.pk).update(
        status=FeedRunStatus.RUNNING,
        started_at=timezone.now() - timedelta(seconds=30),
        progress_done=7,
        fetched=540,
    )
    with replay.serving():
        result = tasks.refresh_feed.apply(args=["members"], kwargs={"run_id": run.pk}).get()
    run.refresh_from_db()
    assert result == run.pk
    assert run.status == FeedRunStatus.SUCCEEDED
    assert run.requested_by == editor
    assert FeedRun.objects.count() == 1
    assert not FeedRun.objects.filter(status=FeedRunStatus.RUNNING).exists()


def test_a_second_refresh_of_a_running_source_still_does_nothing(editor) -> None:
    running = queue_run("members", user=editor)
    FeedRun.objects.filter(pk=running.pk).update(
        status=FeedRunStatus.RUNNING, started_at=timezone.now()
    )
    other = queue_run("members", user=editor)
    with replay.serving():
        tasks.refresh_feed.apply(args=["members"], kwargs={"run_id": other.pk}).get()
    other.refresh_from_db()
    running.refresh_from_db()
    assert other.status == FeedRunStatus.SKIPPED
    assert running.status == FeedRunStatus.RUNNING

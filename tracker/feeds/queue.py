"""Queueing a refresh from a web request ("Refresh now"): a run the page can poll at once, and the
task sent to the broker, or run here when there is none (bounded in time)."""

from contextlib import nullcontext

from django.conf import settings
from django.utils import timezone

from tracker import tasks
from tracker.feeds.client import time_limit
from tracker.feeds.sources import BY_KEY
from tracker.models import FeedRun, FeedRunStatus


def queue_run(
    source: str, scope: str = "", *, user: object = None, trigger: str = "manual"
) -> FeedRun:
    """A queued run for a refresh about to be enqueued, so the page can poll it at once."""
    return FeedRun.objects.create(source=source, scope=scope, trigger=trigger, requested_by=user)


class QueueUnavailable(Exception):
    """The broker could not take the task (Redis down or hung); the run says so."""


def enqueue_refresh(source: str, *, user: object = None) -> FeedRun:
    """Queue a refresh of `source` now and return its run, which the page polls.

    The broker is given one short try (2-second timeouts, no publish retries) and the result
    store is not touched, so a request never waits on a dead or hung Redis; QueueUnavailable
    then says so and the run is failed. Without a broker the refresh runs here, in the request,
    and stops after FEED_IN_REQUEST_TIMEOUT seconds.
    """
    task = tasks.refresh_feed
    run = queue_run(source, user=user, trigger="manual")
    kwargs = {**BY_KEY[source].manual_options, "run_id": run.pk}
    # Without a broker the task runs eagerly, here in the web request: unbounded, a slow feed
    # held the worker until gunicorn killed it (a 500) and left the run `running`.
    seconds = settings.FEED_IN_REQUEST_TIMEOUT
    reason = (
        f"a refresh inside a web request stops after {seconds} s (there is no task queue: set "
        "REDIS_URL, or run manage.py refresh_feeds)"
    )
    eager = task.app.conf.task_always_eager
    try:
        with time_limit(seconds, reason) if eager else nullcontext():
            # The run is the task's record, so nothing reads its Celery result. Without
            # ignore_result, Celery first subscribes to that result in Redis (the result
            # store), which has none of the broker's short timeouts: it retries 20 times, each
            # waiting up to 120 s on a hung Redis, before the task is even published.
            task.apply_async(args=[source], kwargs=kwargs, retry=False, ignore_result=True)
    except Exception as error:  # kombu raises several unrelated types for a dead broker
        run.refresh_from_db()
        if run.status == FeedRunStatus.QUEUED:
            now = timezone.now()
            run.status, run.started_at, run.finished_at = FeedRunStatus.FAILED, now, now
            run.message = f"The task queue is unavailable ({type(error).__name__})."
            run.save()
            raise QueueUnavailable(run.message) from error
        # Eager mode (no REDIS_URL): the run itself failed and recorded why.
    run.refresh_from_db()
    return run

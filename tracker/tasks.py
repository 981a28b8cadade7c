"""Thin Celery wrappers: each task takes ids or keys and calls one domain function."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from tracker import digests
from tracker.feeds import sync as feeds_sync
from tracker.feeds.client import FeedUnavailable


@shared_task(acks_late=True)
def ping(message: str = "pong") -> str:
    """Echo a message back: proves the broker-to-worker-to-result round trip."""
    return message


# Email digests. Retries live in the DigestDelivery row (retry_at), not in Celery's countdown,
# so the beat run below resumes them after a worker restart and the operator command sees them.
@shared_task(acks_late=True)
def send_due_digests() -> int:
    """Beat: queue a send_digests task per BATCH_SIZE users whose digest time has come;
    returns how many users."""
    due = digests.due_digests(timezone.now())
    for start in range(0, len(due), digests.BATCH_SIZE):
        batch = due[start : start + digests.BATCH_SIZE]
        send_digests.delay([[item.user_id, item.period, item.until.isoformat()] for item in batch])
    return len(due)


@shared_task(acks_late=True)
def send_digests(due: list[tuple[int, str, str]]) -> list[str]:
    """Claim, build and send a batch of digests, each [user id, period, until]; safe to run
    twice, as each digest is claimed on its own."""
    batch = [
        digests.DueDigest(user_id, period, datetime.fromisoformat(until))
        for user_id, period, until in due
    ]
    return [str(outcome) for outcome in digests.send_digests(batch)]


@shared_task(acks_late=True)
def send_digest(user_id: int, period: str, until: str) -> str:
    """Claim, build and send one user's digest for one period; safe to run twice. (What beat
    queued per user before batches, so such tasks still run after an upgrade.)"""
    return str(digests.send_digest(user_id, period=period, until=datetime.fromisoformat(until)))


# Feeds: the task refreshes one source through tracker.feeds.sync, which records a FeedRun.
# Transient failures (timeouts, 429, 5xx, senate.gov's 403) are retried with jittered backoff;
# the time limits stay under CELERY_TASK_TIME_LIMIT so a killed run is released as abandoned.

FEED_TASK_OPTIONS = {
    "acks_late": True,
    "autoretry_for": (FeedUnavailable,),
    "retry_backoff": 60,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 5,
    "soft_time_limit": 280,
    "time_limit": 330,
}


@shared_task(**FEED_TASK_OPTIONS)
def refresh_feed(
    source: str, scope: str = "", recheck_all: bool = False, run_id: int | None = None
) -> int:
    """Refresh one source of tracker.feeds.sources (what the negotiation follows, unless
    `scope` says otherwise); returns the run's id. Beat runs each source on its schedule."""
    return feeds_sync.refresh(
        source, scope, recheck_all=recheck_all, run_id=run_id, raise_retryable=True
    ).pk

"""The registry of feed sources: one entry per source, read by everything that lists them.

The FeedRun model's choices, the Feeds page (label, origin, when a source counts as stale), the
Celery beat schedule, the "Refresh now" button, the one refresh task and `manage.py
refresh_feeds` all come from SOURCES. A new source is an adapter module in tracker/feeds/, a
refresh function in tracker/feeds/sync.py (taking a scope) and one entry here naming it.

Plain data only (no models), so that settings can build the beat schedule from it. Hours are
Eastern (CELERY_TIMEZONE).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from celery.schedules import crontab


@dataclass(frozen=True)
class Beat:
    """One periodic refresh of a source."""

    name: str
    schedule: crontab
    options: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    # Where the data comes from, as staff should read it beside a status.
    origin: str
    # A source whose last success is older than this is shown as stale.
    stale_after: timedelta
    # The function in tracker/feeds/sync.py that refreshes it: (scope, **options) -> FeedRun.
    refresh: str
    # What "Refresh now" asks of the refresh beyond the defaults.
    manual_options: dict[str, object] = field(default_factory=dict)
    beats: tuple[Beat, ...] = ()
    # The refresh_feeds option that names what to refresh (its scope), and its help.
    scope_option: str = ""
    scope_help: str = ""


SOURCES: tuple[Source, ...] = (
    Source(
        key="members",
        label="Members (congress-legislators)",
        origin="congress-legislators",
        stale_after=timedelta(days=8),
        refresh="refresh_legislators",
        beats=(Beat("refresh-members", crontab(minute=0, hour=4, day_of_week="mon")),),
    ),
    Source(
        key="congress",
        label="Congress.gov bills",
        origin="congress.gov",
        stale_after=timedelta(hours=2),
        refresh="refresh_bills_by_key",
        # Someone saw something new on Congress.gov: ask for every bill (a few requests), since
        # the bill list misses a change that moved only the text's update date.
        manual_options={"recheck_all": True},
        beats=(
            Beat("refresh-bills", crontab(minute="*/15")),
            # Nightly, every bill by its own item, not only those the bill list says changed;
            # off the quarter hours, so it never meets the 15-minute run (one run per source).
            Beat("recheck-bills", crontab(minute=7, hour=3), {"recheck_all": True}),
        ),
        scope_option="--bill",
        scope_help='A bill key such as "118-hr-815" (repeatable). Default: the negotiation\'s.',
    ),
    Source(
        key="senate",
        label="Senate roll calls (senate.gov)",
        origin="senate.gov",
        stale_after=timedelta(hours=2),
        refresh="refresh_senate_session",
        beats=(
            # Every 10 minutes while the Senate may be sitting.
            Beat(
                "refresh-senate-votes",
                crontab(minute="*/10", hour="8-23", day_of_week="mon-fri"),
            ),
            # Nightly, the whole session again: the Senate corrects records days or months later.
            Beat("recheck-senate-session", crontab(minute=30, hour=3), {"recheck_all": True}),
        ),
        scope_option="--senate-session",
        scope_help='Congress and session, e.g. "118-2". Default: the current one.',
    ),
    Source(
        key="house",
        label="House roll calls (clerk.house.gov)",
        origin="clerk.house.gov",
        stale_after=timedelta(hours=2),
        refresh="refresh_house_year",
        beats=(
            Beat(
                "refresh-house-votes",
                crontab(minute="5-59/10", hour="8-23", day_of_week="mon-fri"),
            ),
            Beat("recheck-house-year", crontab(minute=45, hour=3), {"recheck_all": True}),
        ),
        scope_option="--house-year",
        scope_help="Calendar year, e.g. 2024. Default: this year.",
    ),
)

BY_KEY: dict[str, Source] = {source.key: source for source in SOURCES}


def beat_schedule(task: str) -> dict[str, dict]:
    """CELERY_BEAT_SCHEDULE entries for every source's periodic refreshes, run by `task`."""
    return {
        beat.name: {
            "task": task,
            "schedule": beat.schedule,
            "args": [source.key],
            "kwargs": dict(beat.options),
        }
        for source in SOURCES
        for beat in source.beats
    }

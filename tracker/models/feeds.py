"""Feed runs (what each refresh fetched, changed and failed on) and the per-file change detector."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from tracker.feeds.sources import BY_KEY, SOURCES

# The sources, from the registry: FeedRun.source is one of them.
FeedSource = models.TextChoices(
    "FeedSource", [(source.key.upper(), (source.key, source.label)) for source in SOURCES]
)


class FeedRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Finished with errors"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (another refresh was running)"
    ABANDONED = "abandoned", "Abandoned (the worker stopped)"


FINISHED = [
    FeedRunStatus.SUCCEEDED,
    FeedRunStatus.PARTIAL,
    FeedRunStatus.FAILED,
    FeedRunStatus.ABANDONED,
]


class FeedRunQuerySet(models.QuerySet["FeedRun"]):
    def finished(self) -> "FeedRunQuerySet":
        return self.filter(status__in=FINISHED)

    def successful(self) -> "FeedRunQuerySet":
        return self.filter(status__in=[FeedRunStatus.SUCCEEDED, FeedRunStatus.PARTIAL])

    def with_changes(self) -> "FeedRunQuerySet":
        return self.filter(Q(created__gt=0) | Q(updated__gt=0))

    def recent(self) -> "FeedRunQuerySet":
        return self.select_related("requested_by").order_by("-queued_at", "-id")


@dataclass(frozen=True)
class SourceStatus:
    """What the Feeds page says about one source."""

    source: str
    label: str
    origin: str
    latest: "FeedRun | None"
    last_success: "FeedRun | None"
    last_change: "FeedRun | None"
    error_streak: int

    @property
    def is_stale(self) -> bool:
        if self.last_success is None or self.last_success.finished_at is None:
            return True
        if self.error_streak:
            return True
        return timezone.now() - self.last_success.finished_at > BY_KEY[self.source].stale_after

    @property
    def active_run(self) -> "FeedRun | None":
        return self.latest if self.latest and self.latest.is_active else None


def source_statuses() -> list[SourceStatus]:
    """Last success, last change and error streak of every source (a few queries per source)."""
    return [source_status(source.key) for source in SOURCES]


def source_status(key: str) -> SourceStatus:
    """One source's last success, last change and error streak, as of now."""
    source = BY_KEY[key]
    runs = FeedRun.objects.filter(source=source.key).recent()
    finished = list(runs.finished()[:20])
    streak = 0
    for run in finished:
        if run.status not in (FeedRunStatus.FAILED, FeedRunStatus.PARTIAL, "abandoned"):
            break
        streak += 1
    return SourceStatus(
        source=source.key,
        label=source.label,
        origin=source.origin,
        latest=runs.exclude(status=FeedRunStatus.SKIPPED).first(),
        last_success=runs.successful().first(),
        last_change=runs.successful().with_changes().first(),
        error_streak=streak,
    )


class FeedRun(models.Model):
    """One refresh of one source: when, by whom, what it counted, and each error with its item.

    At most one run per source is `running` (a partial unique constraint): that row is the lock
    that keeps two refreshes of the same source apart, on any database and with Redis down.
    """

    source = models.CharField(max_length=10, choices=FeedSource.choices)
    scope = models.CharField(
        max_length=40, blank=True, help_text='What was refreshed: "118-hr-815", "118-2", "2024".'
    )
    trigger = models.CharField(max_length=10, default="schedule")
    status = models.CharField(
        max_length=10, choices=FeedRunStatus.choices, default=FeedRunStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feed_runs",
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"key": "senate-118-2-48", "message": "..."}]: the offending item and what was wrong.
    errors = models.JSONField(default=list, blank=True)
    # Members the payloads named that were not in the database, created from the payload.
    new_members = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=300, blank=True)

    objects = FeedRunQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(status="running"),
                name="feed_run_one_running_per_source",
            ),
            models.CheckConstraint(
                condition=Q(source__in=FeedSource.values), name="feed_run_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=FeedRunStatus.values), name="feed_run_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="feed_run_finishes_after_start",
            ),
        ]
        indexes = [models.Index(fields=["source", "-queued_at"], name="feed_run_recent")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.scope} {self.queued_at:%Y-%m-%d %H:%M}"

    @property
    def origin(self) -> str:
        return BY_KEY[self.source].origin if self.source in BY_KEY else self.source

    @property
    def is_active(self) -> bool:
        return self.status in {FeedRunStatus.QUEUED, FeedRunStatus.RUNNING}

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class FeedDocument(models.Model):
    """What a feed file looked like last time: validators for conditional GETs and a body hash,
    so an unchanged file costs one cheap request and no parsing."""

    url = models.CharField(max_length=500, unique=True)
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["url"]

    def __str__(self) -> str:
        return self.url

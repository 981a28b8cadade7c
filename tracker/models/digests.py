"""Email digests: what each staff member watches, how often they want a digest, and a record of
every digest claimed, sent, skipped or failed (the record of truth for "exactly once")."""

from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class WatchKind(models.TextChoices):
    PROVISION = "provision", "Provision"
    DEMAND = "demand", "Demand"
    STAKEHOLDER = "stakeholder", "Stakeholder"
    NEGOTIATION = "negotiation", "Negotiation"


class WatchQuerySet(models.QuerySet["Watch"]):
    def for_user(self, user: models.Model) -> "WatchQuerySet":
        return self.filter(user=user).select_related(*WatchKind.values)

    def target_keys(self, user: models.Model) -> set[tuple[str, int]]:
        """Every (kind, pk) the user watches, in one query, for toggles and digest filters."""
        keys = set()
        for row in self.filter(user=user).values_list(*(f"{kind}_id" for kind in WatchKind)):
            for kind, pk in zip(WatchKind.values, row, strict=True):
                if pk is not None:
                    keys.add((kind, pk))
        return keys


class Watch(models.Model):
    """A staff member follows one provision, demand, stakeholder or a whole negotiation.

    Explicit foreign keys rather than a generic relation: the digest query joins them directly,
    and deleting the watched item deletes the watch with it (no dangling watches).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches"
    )
    provision = models.ForeignKey(
        "tracker.Provision", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    demand = models.ForeignKey(
        "tracker.Demand", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    stakeholder = models.ForeignKey(
        "tracker.Stakeholder", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    negotiation = models.ForeignKey(
        "tracker.Negotiation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WatchQuerySet.as_manager()

    class Meta:
        ordering = ["user", "-created_at"]
        verbose_name_plural = "watches"
        constraints = [
            # Exactly one target per watch.
            models.CheckConstraint(
                condition=(
                    Q(provision__isnull=False, demand=None, stakeholder=None, negotiation=None)
                    | Q(provision=None, demand__isnull=False, stakeholder=None, negotiation=None)
                    | Q(provision=None, demand=None, stakeholder__isnull=False, negotiation=None)
                    | Q(provision=None, demand=None, stakeholder=None, negotiation__isnull=False)
                ),
                name="watch_exactly_one_target",
            ),
            *(
                models.UniqueConstraint(
                    fields=["user", kind],
                    condition=Q(**{f"{kind}__isnull": False}),
                    name=f"watch_unique_{kind}",
                )
                for kind in WatchKind.values
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} watches {self.target}"

    @property
    def kind(self) -> str:
        return next(kind for kind in WatchKind.values if getattr(self, f"{kind}_id") is not None)

    @property
    def target(self) -> models.Model:
        return getattr(self, self.kind)


class DigestFrequency(models.TextChoices):
    OFF = "off", "Off"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


def default_time_zone() -> str:
    return settings.DIGEST_DEFAULT_TIME_ZONE


class DigestPreference(models.Model):
    """How often one staff member wants a digest, and when in their own time zone.

    A row exists once the defaults were applied to the user (a negotiation watch included), so
    removing that default watch later is never undone.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference"
    )
    frequency = models.CharField(
        max_length=6, choices=DigestFrequency.choices, default=DigestFrequency.DAILY
    )
    hour = models.PositiveSmallIntegerField(
        default=7, help_text="Local hour (0-23) the digest is sent at."
    )
    weekday = models.PositiveSmallIntegerField(
        choices=WEEKDAYS, default=0, help_text="For weekly digests."
    )
    time_zone = models.CharField(max_length=64, default=default_time_zone)
    send_empty = models.BooleanField(
        default=False, help_text="Send a digest even when nothing changed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency__in=DigestFrequency.values),
                name="digest_preference_frequency_valid",
            ),
            models.CheckConstraint(
                condition=Q(hour__gte=0, hour__lte=23), name="digest_preference_hour_valid"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="digest_preference_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_frequency_display()}"

    def clean(self) -> None:
        if self.time_zone not in available_timezones():
            raise ValidationError({"time_zone": f"Unknown time zone {self.time_zone!r}."})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    RETRY = "retry", "Waiting to retry"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class DigestDelivery(models.Model):
    """One user's digest for one period, claimed in the database before anything is sent.

    The unique (user, period) pair is what stops two workers, or a retried task, from sending
    the same digest twice. `covers_until` of the latest *sent* delivery is where the next digest
    starts, so a skipped or failed one never loses changes.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_deliveries"
    )
    # "daily:2024-02-07" or "weekly:2024-W06", in the user's time zone.
    period = models.CharField(max_length=20)
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    covers_from = models.DateTimeField(null=True, blank=True)
    covers_until = models.DateTimeField()
    change_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "digest deliveries"
        ordering = ["-covers_until", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "period"], name="digest_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values),
                name="digest_delivery_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status", "-covers_until"], name="digest_delivery_last"),
            models.Index(fields=["status", "retry_at"], name="digest_delivery_retry"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.period}: {self.get_status_display()}"

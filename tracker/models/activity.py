"""The activity record: every change, by staff or by a feed. Timelines and digests read it."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ActivityKind(models.TextChoices):
    STATUS_CHANGE = "status_change", "Status change"
    POSITION_CHANGE = "position_change", "Position change"
    DEMAND_CHANGE = "demand_change", "Demand change"
    AMOUNT_CHANGE = "amount_change", "Amount change"
    VOTE = "vote", "Vote"
    BILL_ACTION = "bill_action", "Bill action"
    BILL_RECORD = "bill_record", "Bill record"
    PROPOSAL = "proposal", "Proposed by the feed"
    WHIP_RESULT = "whip_result", "Whip result"
    NOTE = "note", "Note"


class ActivityQuerySet(models.QuerySet["Activity"]):
    def for_timeline(self) -> "ActivityQuerySet":
        # Only the actor: an entry shows its own summary, and every extra join here costs
        # PostgreSQL more planning time than the rows cost to read.
        return self.select_related("actor").order_by("-occurred_at", "-id")


class Activity(models.Model):
    """One change worth telling staff about, with who or what made it and when."""

    negotiation = models.ForeignKey(
        "tracker.Negotiation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    # When the change reached the tracker, which for a feed can be days after it occurred:
    # digests select by this so a change dated before the last digest still gets sent.
    # A default rather than auto_now_add, so bulk loaders can set it.
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    # Who reported it when no staff member did: "senate.gov", "congress.gov", "public record".
    source = models.CharField(max_length=40, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    summary = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    from_value = models.CharField(max_length=60, blank=True)
    to_value = models.CharField(max_length=60, blank=True)
    is_confirmed = models.BooleanField(
        default=True, help_text="Off when the record does not confirm the date or the fact."
    )
    # What it is about; deleting the subject keeps the timeline entry.
    provision = models.ForeignKey(
        "tracker.Provision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    demand = models.ForeignKey(
        "tracker.Demand",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    stakeholder = models.ForeignKey(
        "tracker.Stakeholder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    position = models.ForeignKey(
        "tracker.Position",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    bill = models.ForeignKey(
        "tracker.Bill",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    vote = models.ForeignKey(
        "tracker.Vote",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ActivityKind.values), name="activity_kind_valid"
            )
        ]
        indexes = [
            # The timeline's order, id included so paging by "older than" is one index range.
            models.Index(
                fields=["negotiation", "-occurred_at", "-id"], name="activity_timeline_order"
            ),
            models.Index(fields=["provision", "-occurred_at"], name="activity_provision_recent"),
            models.Index(fields=["demand", "-occurred_at"], name="activity_demand_recent"),
            models.Index(
                fields=["stakeholder", "-occurred_at"], name="activity_stakeholder_recent"
            ),
            models.Index(fields=["kind", "-occurred_at"], name="activity_kind_recent"),
            models.Index(fields=["-occurred_at"], name="activity_recent"),
        ]

    def __str__(self) -> str:
        return self.summary

    @classmethod
    def add_note(cls, subject: models.Model, text: str, *, by: "AbstractBaseUser") -> "Activity":
        """A staff note on a provision, demand or stakeholder, shown on its timeline."""
        field = type(subject)._meta.model_name
        negotiation_id = getattr(subject, "negotiation_id", None)
        return cls.objects.create(
            negotiation_id=negotiation_id,
            kind=ActivityKind.NOTE,
            actor=by,
            summary=f"Note on {subject}: {' '.join(text.split())}"[:300],
            detail=text,
            **{field: subject},
        )

    @property
    def reported_by(self) -> str:
        """The staff member, or the feed or record the change came from."""
        if self.actor_id:
            return self.actor.get_full_name() or self.actor.get_username()
        return self.source or "system"

"""The border-policy demands: who asks for what, in exchange for what, and where each stands."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from tracker.models.activity import Activity, ActivityKind
from tracker.models.provisions import Provision
from tracker.models.validators import EARLIEST_DATE, validate_recorded_date, validate_web_url
from tracker.models.workflow import StaleEditError, WorkflowMixin, unique_slug


class DemandStatus(models.TextChoices):
    RAISED = "raised", "Raised"
    ON_THE_TABLE = "on_table", "On the table"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


D = DemandStatus
DEMAND_TRANSITIONS: dict[str, set[str]] = {
    D.RAISED: {D.ON_THE_TABLE, D.REJECTED, D.WITHDRAWN},
    D.ON_THE_TABLE: {D.RAISED, D.ACCEPTED, D.REJECTED, D.WITHDRAWN},
    D.ACCEPTED: {D.ON_THE_TABLE, D.WITHDRAWN},
    D.REJECTED: {D.RAISED, D.ON_THE_TABLE},
    D.WITHDRAWN: {D.RAISED},
}


class DemandQuerySet(models.QuerySet["Demand"]):
    def open(self) -> "DemandQuerySet":
        return self.filter(status__in=[DemandStatus.RAISED, DemandStatus.ON_THE_TABLE])


class Demand(WorkflowMixin, models.Model):
    """A border-policy demand: who asks for what, and what is offered or sought in exchange."""

    negotiation = models.ForeignKey(
        "tracker.Negotiation", on_delete=models.CASCADE, related_name="demands"
    )
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=300)
    demanded_by = models.ForeignKey(
        "tracker.Stakeholder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="demands",
    )
    asks = models.TextField(help_text="What the demand asks for.")
    in_exchange_for = models.TextField(blank=True, help_text="What is offered or sought for it.")
    status = models.CharField(
        max_length=12, choices=DemandStatus.choices, default=DemandStatus.RAISED
    )
    raised_on = models.DateField(null=True, blank=True, validators=[validate_recorded_date])
    source_url = models.URLField(max_length=500, blank=True, validators=[validate_web_url])
    provisions = models.ManyToManyField(Provision, blank=True, related_name="demands")
    notes = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(m2m_fields=[provisions])
    objects = DemandQuerySet.as_manager()

    class Meta:
        ordering = ["negotiation", "title"]
        constraints = [
            models.UniqueConstraint(fields=["negotiation", "slug"], name="demand_natural_key"),
            models.CheckConstraint(
                condition=Q(status__in=DemandStatus.values), name="demand_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(raised_on__gte=EARLIEST_DATE) | Q(raised_on__isnull=True),
                name="demand_raised_on_not_before_congress",
            ),
        ]
        indexes = [models.Index(fields=["negotiation", "status"], name="demand_by_status")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tracker-demand-detail", args=[self.pk])

    TRANSITIONS = DEMAND_TRANSITIONS
    STATUS_CHANGE_KIND = ActivityKind.DEMAND_CHANGE

    def status_change_subject(self) -> dict[str, object]:
        return {"demand": self, "stakeholder_id": self.demanded_by_id}

    EDITABLE_FIELDS = (
        "title",
        "demanded_by",
        "asks",
        "in_exchange_for",
        "raised_on",
        "source_url",
        "notes",
    )

    @classmethod
    @transaction.atomic
    def record_new(
        cls,
        *,
        negotiation_id: int,
        by: AbstractBaseUser | None,
        provisions: list[Provision],
        **fields: object,
    ) -> "Demand":
        """A newly raised demand, on the timeline from the start."""
        demand = cls(negotiation_id=negotiation_id, **fields)
        demand.slug = unique_slug(cls, negotiation_id, str(fields["title"]))
        demand.full_clean()
        demand.save()
        demand.provisions.set(provisions)
        Activity.objects.create(
            negotiation_id=negotiation_id,
            kind=ActivityKind.DEMAND_CHANGE,
            actor=by,
            demand=demand,
            stakeholder_id=demand.demanded_by_id,
            summary=f"New demand: {demand.title}"[:300],
            to_value=demand.status,
        )
        return demand

    @transaction.atomic
    def edit(
        self,
        changes: dict[str, object],
        *,
        provisions: list[Provision] | None,
        by: AbstractBaseUser | None,
        based_on_revision: int | None,
    ) -> Activity | None:
        """Apply edited details, refusing a stale edit; None when nothing changed."""
        stored = Demand.objects.select_for_update().get(pk=self.pk)
        if based_on_revision is not None and stored.revision != based_on_revision:
            raise StaleEditError(stored)
        changed = [
            name
            for name in self.EDITABLE_FIELDS
            if name in changes and getattr(stored, name) != changes[name]
        ]
        provisions_changed = provisions is not None and {p.pk for p in provisions} != set(
            stored.provisions.values_list("pk", flat=True)
        )
        if not changed and not provisions_changed:
            return None
        for name in changed:
            setattr(self, name, changes[name])
        self.revision = stored.revision + 1
        self.full_clean()
        self.save()
        if provisions_changed:
            self.provisions.set(provisions)
            changed.append("linked provisions")
        labels = [
            str(Demand._meta.get_field(n).verbose_name) if n in self.EDITABLE_FIELDS else n
            for n in changed
        ]
        return Activity.objects.create(
            negotiation_id=self.negotiation_id,
            kind=ActivityKind.DEMAND_CHANGE,
            actor=by,
            demand=self,
            stakeholder_id=self.demanded_by_id,
            summary=f"{self.title}: edited {', '.join(labels)}"[:300],
        )

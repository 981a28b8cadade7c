"""Provisions of the package (funding lines, policy changes, whole packages), their amounts per
version, and the border-policy demands traded against them."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from simple_history.models import HistoricalRecords

from tracker.models.activity import Activity, ActivityKind
from tracker.models.validators import EARLIEST_DATE, validate_recorded_date, validate_web_url


class StaleEditError(Exception):
    """The edit was based on an older revision than the one stored: someone changed it first."""

    def __init__(self, current: models.Model) -> None:
        self.current = current
        super().__init__(f"{current} was changed by someone else since you loaded it.")


class ProvisionKind(models.TextChoices):
    FUNDING = "funding", "Funding"
    POLICY = "policy", "Policy"
    PACKAGE = "package", "Whole package"


class Category(models.TextChoices):
    UKRAINE = "ukraine", "Ukraine"
    ISRAEL = "israel", "Israel"
    INDO_PACIFIC = "indo_pacific", "Indo-Pacific"
    HUMANITARIAN = "humanitarian", "Humanitarian"
    BORDER = "border", "Border"
    IMMIGRATION = "immigration", "Immigration policy"
    FENTANYL = "fentanyl", "Fentanyl"
    OTHER = "other", "Other"
    PACKAGE = "package", "Whole package"


class ProvisionStatus(models.TextChoices):
    """The workflow, in order; DROPPED can happen at any step."""

    PROPOSED = "proposed", "Proposed"
    IN_NEGOTIATION = "in_negotiation", "In negotiation"
    AGREED_IN_PRINCIPLE = "agreed_in_principle", "Agreed in principle"
    IN_TEXT = "in_text", "In text"
    PASSED_SENATE = "passed_senate", "Passed Senate"
    PASSED_HOUSE = "passed_house", "Passed House"
    ENACTED = "enacted", "Enacted"
    DROPPED = "dropped", "Dropped"


P = ProvisionStatus
# Where a provision can go from each step. Both chambers may pass it in either order; enacted
# is final; a dropped provision can be revived.
PROVISION_TRANSITIONS: dict[str, set[str]] = {
    P.PROPOSED: {P.IN_NEGOTIATION, P.DROPPED},
    P.IN_NEGOTIATION: {P.PROPOSED, P.AGREED_IN_PRINCIPLE, P.DROPPED},
    P.AGREED_IN_PRINCIPLE: {P.IN_NEGOTIATION, P.IN_TEXT, P.DROPPED},
    P.IN_TEXT: {P.IN_NEGOTIATION, P.PASSED_SENATE, P.PASSED_HOUSE, P.DROPPED},
    P.PASSED_SENATE: {P.IN_TEXT, P.PASSED_HOUSE, P.ENACTED, P.DROPPED},
    P.PASSED_HOUSE: {P.IN_TEXT, P.PASSED_SENATE, P.ENACTED, P.DROPPED},
    P.ENACTED: set(),
    P.DROPPED: {P.PROPOSED, P.IN_NEGOTIATION},
}


class TransitionNotAllowed(ValueError):
    """The workflow does not allow this move (e.g. out of Enacted)."""


class Unit(models.TextChoices):
    USD = "usd", "US dollars"
    POSITIONS = "positions", "Positions (staff)"
    MACHINES = "machines", "Machines"


class ProvisionQuerySet(models.QuerySet["Provision"]):
    def funding(self) -> "ProvisionQuerySet":
        return self.filter(kind=ProvisionKind.FUNDING)

    def with_lines(self) -> "ProvisionQuerySet":
        return self.select_related("owner", "parent").prefetch_related("lines__version")


class Provision(models.Model):
    """A funding line, a policy change or a whole package, with its place in the workflow."""

    negotiation = models.ForeignKey(
        "tracker.Negotiation", on_delete=models.CASCADE, related_name="provisions"
    )
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=ProvisionKind.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    status = models.CharField(
        max_length=24, choices=ProvisionStatus.choices, default=ProvisionStatus.PROPOSED
    )
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.USD)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sub_lines",
        help_text="The line this is a part of; sub-lines are not added into totals twice.",
    )
    is_memo = models.BooleanField(
        default=False, help_text="Shown for reference only; overlaps other lines, never summed."
    )
    version = models.ForeignKey(
        "tracker.PackageVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="package_provisions",
        help_text="For a whole package: the version it stands for.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_provisions",
    )
    description = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    sources = models.JSONField(default=list, blank=True, help_text="Source URLs.")
    # Bumped on every status change; edit forms carry it so a stale submit cannot overwrite.
    revision = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ProvisionQuerySet.as_manager()

    class Meta:
        ordering = ["negotiation", "category", "title"]
        constraints = [
            models.UniqueConstraint(fields=["negotiation", "slug"], name="provision_natural_key"),
            models.CheckConstraint(
                condition=Q(status__in=ProvisionStatus.values), name="provision_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ProvisionKind.values), name="provision_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="provision_category_valid"
            ),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="provision_unit_valid"),
        ]
        indexes = [
            models.Index(fields=["negotiation", "status"], name="provision_by_status"),
            models.Index(fields=["negotiation", "category"], name="provision_by_category"),
            models.Index(fields=["owner"], name="provision_by_owner"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tracker-provision-detail", args=[self.pk])

    TRANSITIONS = PROVISION_TRANSITIONS

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        """The statuses the workflow allows from here, in workflow order."""
        return [
            (value, label)
            for value, label in ProvisionStatus.choices
            if value in self.TRANSITIONS[self.status]
        ]

    @transaction.atomic
    def change_status(
        self,
        new_status: str,
        *,
        by: AbstractBaseUser | None,
        note: str = "",
        based_on_revision: int | None = None,
    ) -> Activity:
        """Move the provision to `new_status` and record it on the timeline.

        With `based_on_revision`, the change is refused (StaleEditError) if someone else changed
        the provision since that revision was read, so no update is silently lost.
        """
        return _move_to_status(
            self,
            new_status,
            kind=ActivityKind.STATUS_CHANGE,
            by=by,
            note=note,
            based_on_revision=based_on_revision,
            provision=self,
        )

    @transaction.atomic
    def set_amounts(
        self, amounts: "dict[models.Model, int | None]", *, by: AbstractBaseUser | None
    ) -> list[Activity]:
        """Set the amount in several versions at once: all of them or, if one is refused (a
        ValidationError), none. Returns the changes made."""
        changes = [self.set_amount(version, amount, by=by) for version, amount in amounts.items()]
        return [change for change in changes if change is not None]

    @transaction.atomic
    def set_amount(
        self, version: "models.Model", amount: int | None, *, by: AbstractBaseUser | None
    ) -> Activity | None:
        """Set this provision's amount in one version; None when nothing changed."""
        line, _ = VersionLine.objects.select_for_update().get_or_create(
            provision=self, version=version
        )
        if line.amount == amount:
            return None
        before = line.amount
        line.amount = amount
        if amount == 0:
            line.inclusion = Inclusion.NOT_INCLUDED
        line.full_clean()
        line.save()
        shown = lambda value: "none" if value is None else f"${value:,}"  # noqa: E731
        return Activity.objects.create(
            negotiation_id=self.negotiation_id,
            kind=ActivityKind.AMOUNT_CHANGE,
            actor=by,
            provision=self,
            summary=f"{self.title} in {version.name}: {shown(before)} → {shown(amount)}"[:300],
            from_value="" if before is None else str(before),
            to_value="" if amount is None else str(amount),
        )


class Inclusion(models.TextChoices):
    INCLUDED = "included", "Included"
    PARTIAL = "partial", "Partial"
    NOT_INCLUDED = "not_included", "Not included"
    OPPOSITE = "opposite", "Opposite approach"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"


class VersionLine(models.Model):
    """How one version of the package treats one provision: the amount, and whether it is in."""

    provision = models.ForeignKey(Provision, on_delete=models.CASCADE, related_name="lines")
    version = models.ForeignKey(
        "tracker.PackageVersion", on_delete=models.CASCADE, related_name="lines"
    )
    amount = models.BigIntegerField(
        null=True, blank=True, help_text="Whole dollars (or the provision's unit); blank if none."
    )
    inclusion = models.CharField(
        max_length=14, choices=Inclusion.choices, default=Inclusion.INCLUDED
    )
    is_confirmed = models.BooleanField(
        default=True, help_text="Off when the figure is reported but not confirmed by a source."
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["provision", "version__dated"]
        constraints = [
            models.UniqueConstraint(
                fields=["provision", "version"], name="version_line_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(amount__isnull=True),
                name="version_line_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(inclusion__in=Inclusion.values), name="version_line_inclusion_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provision} in {self.version.name}"


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


class Demand(models.Model):
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
        demand.slug = _unique_slug(cls, negotiation_id, str(fields["title"]))
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

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        return [
            (value, label)
            for value, label in DemandStatus.choices
            if value in self.TRANSITIONS[self.status]
        ]

    @transaction.atomic
    def change_status(
        self,
        new_status: str,
        *,
        by: AbstractBaseUser | None,
        note: str = "",
        based_on_revision: int | None = None,
    ) -> Activity:
        """Move the demand to `new_status` and record it; refuses stale edits like provisions."""
        return _move_to_status(
            self,
            new_status,
            kind=ActivityKind.DEMAND_CHANGE,
            by=by,
            note=note,
            based_on_revision=based_on_revision,
            demand=self,
            stakeholder_id=self.demanded_by_id,
        )


def _unique_slug(model: type[models.Model], negotiation_id: int, title: str) -> str:
    base = slugify(title)[:70] or "item"
    slug, n = base, 2
    while model.objects.filter(negotiation_id=negotiation_id, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _move_to_status(
    item: "Provision | Demand",
    new_status: str,
    *,
    kind: str,
    by: AbstractBaseUser | None,
    note: str,
    based_on_revision: int | None,
    **subject: object,
) -> Activity:
    """The one status-change path for provisions and demands: lock, check, save, record."""
    model = type(item)
    if new_status not in {value for value, _ in model._meta.get_field("status").choices}:
        raise ValueError(f"Unknown status {new_status!r}.")
    stored = model.objects.select_for_update().get(pk=item.pk)
    if based_on_revision is not None and stored.revision != based_on_revision:
        raise StaleEditError(stored)
    if stored.status == new_status:
        raise TransitionNotAllowed(f"{stored} is already {stored.get_status_display()}.")
    if new_status not in model.TRANSITIONS[stored.status]:
        new_label = dict(model._meta.get_field("status").choices)[new_status]
        raise TransitionNotAllowed(
            f"{stored} cannot move from {stored.get_status_display()} to {new_label}."
        )
    old_label = stored.get_status_display()
    item.status = new_status
    item.revision = stored.revision + 1
    item.save(update_fields=["status", "revision", "updated_at"])
    return Activity.objects.create(
        negotiation_id=item.negotiation_id,
        kind=kind,
        actor=by,
        source="" if by else "system",
        occurred_at=timezone.now(),
        summary=f"{item.title}: {old_label} → {item.get_status_display()}",
        detail=note,
        from_value=stored.status,
        to_value=new_status,
        **subject,
    )

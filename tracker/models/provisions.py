"""Provisions of the package (funding lines, policy changes, whole packages) and their amounts
per version."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from tracker.models.activity import Activity, ActivityKind
from tracker.models.workflow import WorkflowMixin


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


class Unit(models.TextChoices):
    USD = "usd", "US dollars"
    POSITIONS = "positions", "Positions (staff)"
    MACHINES = "machines", "Machines"


class ProvisionQuerySet(models.QuerySet["Provision"]):
    def funding(self) -> "ProvisionQuerySet":
        return self.filter(kind=ProvisionKind.FUNDING)

    def with_lines(self) -> "ProvisionQuerySet":
        return self.select_related("owner", "parent").prefetch_related("lines__version")

    def status_counts(self) -> list[tuple[str, str, int]]:
        """(status, label, count) for every status of the workflow, zeros included."""
        counted = dict(
            self.values_list("status").annotate(n=Count("id")).values_list("status", "n")
        )
        return [(value, label, counted.get(value, 0)) for value, label in ProvisionStatus.choices]


class Provision(WorkflowMixin, models.Model):
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
    STATUS_CHANGE_KIND = ActivityKind.STATUS_CHANGE

    def status_change_subject(self) -> dict[str, object]:
        return {"provision": self}

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
        """Set this provision's amount in one version; None when nothing changed. An empty
        amount where the version has no line leaves it without one ("not in the record"),
        rather than adding a line that would read as included."""
        lines = VersionLine.objects.select_for_update()
        try:
            line = lines.get(provision=self, version=version)
        except VersionLine.DoesNotExist:
            if amount is None:
                return None
            line, _ = lines.get_or_create(provision=self, version=version)
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
    within = models.ForeignKey(
        Provision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lines_within",
        help_text="In this version the figure is counted inside that line's figure (e.g. the "
        "request's $481M for Ukrainian arrivals inside its $61.4B for Ukraine): shown, and "
        "summed only where that line has no figure.",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["provision", "version__dated"]
        constraints = [
            models.UniqueConstraint(
                fields=["provision", "version"], name="version_line_natural_key"
            ),
            models.CheckConstraint(
                condition=~Q(within=F("provision")), name="version_line_not_within_itself"
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

    def clean(self) -> None:
        within = self.within
        if within is None:
            return
        provision = self.provision
        if within.pk == provision.pk:
            raise ValidationError({"within": "A line cannot be counted inside itself."})
        if within.negotiation_id != provision.negotiation_id or within.unit != provision.unit:
            raise ValidationError(
                {"within": "Choose a line of the same negotiation, in the same unit."}
            )

"""Stakeholders and their sourced positions. A change of position is a new row, so the history
is kept and the current position is the latest one."""

from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import Length, RowNumber
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from simple_history.models import HistoricalRecords

from tracker.models.activity import Activity, ActivityKind
from tracker.models.validators import (
    EARLIEST_DATE,
    STATEMENT_MAX_LENGTH,
    validate_recorded_date,
    validate_web_url,
)


class StakeholderKind(models.TextChoices):
    SENATOR = "senator", "Senator"
    REPRESENTATIVE = "representative", "Representative"
    WHITE_HOUSE = "white_house", "White House"
    AGENCY = "agency", "Agency official"
    FOREIGN_GOVERNMENT = "foreign_government", "Foreign government"
    CAUCUS = "caucus", "Caucus"
    GOVERNOR = "governor", "Governor"
    MAYOR = "mayor", "Mayor"
    ADVOCACY = "advocacy", "Advocacy group"
    OTHER = "other", "Other"


CHAMBER_OF_KIND = {StakeholderKind.SENATOR: "senate", StakeholderKind.REPRESENTATIVE: "house"}


class StakeholderQuerySet(models.QuerySet["Stakeholder"]):
    def in_chamber(self, chamber: str) -> "StakeholderQuerySet":
        kinds = [kind for kind, kind_chamber in CHAMBER_OF_KIND.items() if kind_chamber == chamber]
        return self.filter(kind__in=kinds)

    def senators(self) -> "StakeholderQuerySet":
        return self.filter(kind=StakeholderKind.SENATOR)


class Stakeholder(models.Model):
    """A person or body whose position counts: members, officials, governments, groups."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=StakeholderKind.choices)
    role = models.CharField(max_length=200, blank=True)
    party = models.CharField(max_length=20, blank=True, help_text="D, R, I, or another party.")
    state = models.CharField(max_length=2, blank=True)
    district = models.PositiveSmallIntegerField(null=True, blank=True)
    bioguide_id = models.CharField("Bioguide id", max_length=10, blank=True)
    lis_id = models.CharField("Senate LIS id", max_length=10, blank=True)
    in_office = models.BooleanField(default=True)
    notes = models.TextField(blank=True)

    objects = StakeholderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["bioguide_id"],
                condition=~Q(bioguide_id=""),
                name="stakeholder_unique_bioguide_id",
            ),
            models.UniqueConstraint(
                fields=["lis_id"], condition=~Q(lis_id=""), name="stakeholder_unique_lis_id"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=StakeholderKind.values), name="stakeholder_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "party", "state"], name="stakeholder_by_kind"),
        ]

    def __str__(self) -> str:
        if self.party and self.state:
            return f"{self.name} ({self.party}-{self.state})"
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tracker-stakeholder-detail", args=[self.pk])

    @property
    def chamber(self) -> str:
        """ "senate", "house", or "" for everyone outside Congress's two floors."""
        return CHAMBER_OF_KIND.get(self.kind, "")

    @transaction.atomic
    def record_position(
        self,
        *,
        stance: str,
        as_of: date,
        provision: "models.Model | None" = None,
        demand: "models.Model | None" = None,
        source_url: str = "",
        statement: str = "",
        statement_kind: str = "paraphrase",
        by: AbstractBaseUser | None = None,
    ) -> "Position":
        """Record this stakeholder's stance on a provision or demand, keeping the old ones."""
        target = {"provision": provision} if provision is not None else {"demand": demand}
        previous = Position.objects.filter(stakeholder=self, **target).current().first()
        position = Position(
            stakeholder=self,
            stance=stance,
            as_of=as_of,
            source_url=source_url,
            statement=statement,
            statement_kind=statement_kind,
            recorded_by=by,
            **target,
        )
        position.full_clean()
        position.save()
        subject = provision if provision is not None else demand
        before = previous.get_stance_display() if previous else "no position"
        Activity.objects.create(
            negotiation_id=subject.negotiation_id,
            kind=ActivityKind.POSITION_CHANGE,
            actor=by,
            source="" if by else "system",
            source_url=source_url,
            summary=f"{self.name} on {subject}: {before} → {position.get_stance_display()}",
            detail=statement,
            from_value=previous.stance if previous else "",
            to_value=stance,
            stakeholder=self,
            position=position,
            **target,
        )
        return position


class Stance(models.TextChoices):
    """The 5-point scale, strongest support first."""

    FIRM_SUPPORT = "firm_support", "Firm support"
    LEAN_SUPPORT = "lean_support", "Lean support"
    UNDECIDED = "undecided", "Undecided"
    LEAN_OPPOSE = "lean_oppose", "Lean oppose"
    FIRM_OPPOSE = "firm_oppose", "Firm oppose"


class StatementKind(models.TextChoices):
    QUOTE = "quote", "Quote"
    PARAPHRASE = "paraphrase", "Paraphrase"


class PositionQuerySet(models.QuerySet["Position"]):
    def current(self) -> "PositionQuerySet":
        """Only the latest position of each stakeholder on each provision or demand."""
        return self.annotate(
            recency=Window(
                RowNumber(),
                partition_by=[F("stakeholder_id"), F("provision_id"), F("demand_id")],
                order_by=[F("as_of").desc(), F("recorded_at").desc(), F("id").desc()],
            )
        ).filter(recency=1)

    def as_of(self, day: date) -> "PositionQuerySet":
        """Positions as they stood at the end of `day`."""
        return self.filter(as_of__lte=day).current()


class Position(models.Model):
    """A stakeholder's stance on one provision or one demand, as of a date, with its source."""

    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="positions")
    provision = models.ForeignKey(
        "tracker.Provision",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="positions",
    )
    demand = models.ForeignKey(
        "tracker.Demand",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="positions",
    )
    stance = models.CharField(max_length=14, choices=Stance.choices)
    as_of = models.DateField(validators=[validate_recorded_date])
    source_url = models.URLField(max_length=500, blank=True, validators=[validate_web_url])
    statement = models.TextField(
        blank=True,
        max_length=STATEMENT_MAX_LENGTH,
        validators=[MaxLengthValidator(STATEMENT_MAX_LENGTH)],
        help_text="A quote or a paraphrase of the source.",
    )
    statement_kind = models.CharField(
        max_length=10, choices=StatementKind.choices, default=StatementKind.PARAPHRASE
    )
    derived_from_vote = models.ForeignKey(
        "tracker.Vote",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived_positions",
        help_text="Set when the stance is read off a recorded vote rather than a statement.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recorded_positions",
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = PositionQuerySet.as_manager()

    class Meta:
        ordering = ["-as_of", "-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stance__in=Stance.values), name="position_stance_valid"
            ),
            models.CheckConstraint(
                condition=Q(statement_kind__in=StatementKind.values),
                name="position_statement_kind_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(provision__isnull=False, demand__isnull=True)
                    | Q(provision__isnull=True, demand__isnull=False)
                ),
                name="position_has_one_target",
            ),
            models.CheckConstraint(
                condition=Q(as_of__gte=EARLIEST_DATE), name="position_as_of_not_before_congress"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("statement"), STATEMENT_MAX_LENGTH),
                name="position_statement_not_too_long",
            ),
        ]
        indexes = [
            models.Index(
                fields=["stakeholder", "provision", "-as_of"], name="position_on_provision"
            ),
            models.Index(fields=["stakeholder", "demand", "-as_of"], name="position_on_demand"),
            models.Index(fields=["provision", "-as_of"], name="position_by_provision"),
            models.Index(fields=["demand", "-as_of"], name="position_by_demand"),
        ]

    def __str__(self) -> str:
        return f"{self.stakeholder.name}: {self.get_stance_display()} on {self.target}"

    @property
    def target(self) -> "models.Model | None":
        return self.provision if self.provision_id else self.demand

    @property
    def is_sourced(self) -> bool:
        return bool(self.source_url)

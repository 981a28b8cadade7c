"""Stakeholders and their sourced positions. A change of position is a new row, so the history
is kept and the current position is the latest one."""

from collections.abc import Iterable
from datetime import date
from urllib.parse import urlsplit

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
from tracker.models.votes import Vote


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

    def serving_on(self, day: date) -> "StakeholderQuerySet":
        """Members serving at the end of `day`: in office now, or who had left later than it,
        and who began serving by then. A member known only from a roll call (never listed
        by the legislators feed) counts on no day."""
        return self.filter(
            Q(serving_since__isnull=True) | Q(serving_since__lte=day),
            Q(in_office=True, serving_until__isnull=True) | Q(serving_until__gte=day),
        )


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
    # When the member's current stretch of service began and, once they left, ended: from the
    # legislators feed (the term dates, and the day a member dropped off the current list).
    serving_since = models.DateField(null=True, blank=True)
    serving_until = models.DateField(null=True, blank=True)
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
        source_type: str | None = None,
        source_is_weak: bool = False,
        statement: str = "",
        statement_kind: str = "paraphrase",
        derived_from_vote: Vote | None = None,
        by: AbstractBaseUser | None = None,
    ) -> "Position":
        """Record this stakeholder's stance on a provision or demand, keeping the old ones.

        A stance read off a roll call names it (`derived_from_vote`), and the timeline entry,
        and so every digest, says so with the question the vote answered. Without a
        `source_type`, a source on the record's own hosts counts as primary."""
        target = {"provision": provision} if provision is not None else {"demand": demand}
        previous = Position.objects.filter(stakeholder=self, **target).current().first()
        position = Position(
            stakeholder=self,
            stance=stance,
            as_of=as_of,
            source_url=source_url,
            source_type=source_type_of(source_url) if source_type is None else source_type,
            source_is_weak=source_is_weak,
            statement=statement,
            statement_kind=statement_kind,
            derived_from_vote=derived_from_vote,
            recorded_by=by,
            **target,
        )
        position.full_clean()
        position.save()
        subject = provision if provision is not None else demand
        before = previous.get_stance_display() if previous else "no position"
        summary = f"{self.name} on {subject}: {before} → {position.get_stance_display()}"
        detail = statement
        if derived_from_vote is not None:
            label = derived_label(derived_from_vote.roll_number)
            summary = f"{summary} ({label})"
            detail = f"{label.capitalize()}: {derived_from_vote.question}\n{statement}".strip()
        Activity.objects.create(
            negotiation_id=subject.negotiation_id,
            kind=ActivityKind.POSITION_CHANGE,
            actor=by,
            source="" if by else "system",
            source_url=source_url,
            summary=summary[:300],
            detail=detail,
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


class SourceType(models.TextChoices):
    """What kind of source a position rests on, as the public record classes them: the body's
    own record or statement (senate.gov, a senator's site, congress.gov, whitehouse.gov, CBO,
    CRS), news reporting, analysis, or an aggregator or syndicated copy."""

    PRIMARY = "primary", "Primary"
    NEWS = "news", "News"
    ANALYSIS = "analysis", "Analysis"
    AGGREGATOR = "aggregator", "Aggregator"


# Hosts whose pages are the record itself. A staffer who gives no type for a source on one of
# these gets "primary"; anything else stays untyped rather than guessed.
PRIMARY_HOSTS = (
    "senate.gov",
    "house.gov",
    "congress.gov",
    "whitehouse.gov",
    "cbo.gov",
    "crsreports.congress.gov",
    "govinfo.gov",
)


def source_type_of(url: str) -> str:
    """The type a source URL has without being told: primary for the record's own hosts."""
    host = urlsplit(url).hostname or ""
    if any(host == known or host.endswith("." + known) for known in PRIMARY_HOSTS):
        return SourceType.PRIMARY
    return ""


class PositionQuerySet(models.QuerySet["Position"]):
    def stated(self) -> "PositionQuerySet":
        """Positions a stakeholder stated, leaving out those read off a roll call."""
        return self.filter(derived_from_vote__isnull=True)

    def primary_sourced(self) -> "PositionQuerySet":
        """Only positions whose source is a primary one."""
        return self.filter(source_type=SourceType.PRIMARY)

    def with_source(self) -> "PositionQuerySet":
        """With the roll call a derived position was read off, for its label."""
        return self.select_related("derived_from_vote")

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
    source_type = models.CharField(
        max_length=10,
        choices=SourceType.choices,
        blank=True,
        help_text="Primary (the body's own record or statement), news, analysis or aggregator.",
    )
    source_is_weak = models.BooleanField(
        "only a weak source",
        default=False,
        help_text="The record marks the only source for this position as weak.",
    )
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
                condition=Q(source_type__in=["", *SourceType.values]),
                name="position_source_type_valid",
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

    @property
    def derived_label(self) -> str:
        """ "derived from roll call 39" for a stance read off a vote, else "". Reads the vote:
        load it with PositionQuerySet.with_source() (or attach_derived_votes) when listing."""
        vote = self.derived_from_vote if self.derived_from_vote_id else None
        if vote is None:
            return ""
        return derived_label(vote.roll_number)

    @property
    def derived_question(self) -> str:
        """The question the roll call answered, for a derived position."""
        return self.derived_from_vote.question if self.derived_from_vote_id else ""


def derived_label(roll_number: int | None) -> str:
    if roll_number is None:
        return "derived from a roll call (number unconfirmed)"
    return f"derived from roll call {roll_number}"


def attach_derived_votes(positions: "Iterable[Position | None]") -> None:
    """Load the roll calls that derived positions were read off in one query, so their labels
    cost nothing per row."""
    wanted = [p for p in positions if p is not None and p.derived_from_vote_id]
    cached = Position.derived_from_vote.is_cached
    missing = {p.derived_from_vote_id for p in wanted if not cached(p)}
    if not missing:
        return
    votes = Vote.objects.only("id", "roll_number", "question", "chamber").in_bulk(missing)
    for position in wanted:
        if position.derived_from_vote_id in votes:
            position.derived_from_vote = votes[position.derived_from_vote_id]

"""Whip counts: the votes staff count toward, the seats that stand empty, and the stances a
staffer sets by hand when the record is behind what the office knows."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from tracker.models.stakeholders import Stance
from tracker.models.votes import Chamber

# Seats in each chamber when every seat is filled; the threshold follows the open vacancies.
SEATS = {Chamber.SENATE: 100, Chamber.HOUSE: 435}


class ThresholdRule(models.TextChoices):
    THREE_FIFTHS_SWORN = (
        "three_fifths_sworn",
        "Three-fifths of senators duly chosen and sworn (60 with no vacancy)",
    )
    MAJORITY_VOTING = (
        "majority_voting",
        "Simple majority of those voting (the Vice President breaks a Senate tie)",
    )
    TWO_THIRDS_VOTING = "two_thirds_voting", "Two-thirds of those present and voting"
    HOUSE_MAJORITY = "house_majority", "Majority of the House (218 with no vacancy)"


class VoteTargetQuerySet(models.QuerySet["VoteTarget"]):
    def with_links(self) -> "VoteTargetQuerySet":
        return self.select_related("negotiation", "vote").prefetch_related(
            "links__provision", "links__demand"
        )


class VoteTarget(models.Model):
    """An upcoming (or past) floor vote the office counts toward, and what the vote is about."""

    negotiation = models.ForeignKey(
        "tracker.Negotiation", on_delete=models.CASCADE, related_name="vote_targets"
    )
    chamber = models.CharField(max_length=6, choices=Chamber.choices, default=Chamber.SENATE)
    motion = models.CharField(
        max_length=300,
        help_text='e.g. "Cloture on the motion to concur with the Senate amendment".',
    )
    expected_on = models.DateField(null=True, blank=True, help_text="Blank when not scheduled.")
    rule = models.CharField(
        max_length=20, choices=ThresholdRule.choices, default=ThresholdRule.THREE_FIFTHS_SWORN
    )
    vice_president_supports = models.BooleanField(
        null=True,
        blank=True,
        help_text="How the Vice President would break a tie (simple-majority Senate votes only); "
        "blank when unknown.",
    )
    vote = models.ForeignKey(
        "tracker.Vote",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="targets",
        help_text="The roll call, once it has been taken.",
    )
    stale_after_days = models.PositiveSmallIntegerField(
        default=30, help_text="Positions older than this many days are flagged stale."
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vote_targets",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VoteTargetQuerySet.as_manager()

    class Meta:
        ordering = ["negotiation", "-expected_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(chamber__in=Chamber.values), name="vote_target_chamber_valid"
            ),
            models.CheckConstraint(
                condition=Q(rule__in=ThresholdRule.values), name="vote_target_rule_valid"
            ),
            models.CheckConstraint(
                condition=~Q(chamber=Chamber.SENATE, rule=ThresholdRule.HOUSE_MAJORITY)
                & ~Q(chamber=Chamber.HOUSE, rule=ThresholdRule.THREE_FIFTHS_SWORN),
                name="vote_target_rule_fits_chamber",
            ),
        ]

    def __str__(self) -> str:
        when = f" ({self.expected_on:%b %-d, %Y})" if self.expected_on else ""
        return f"{self.motion}{when}"

    def clean(self) -> None:
        if self.chamber == Chamber.SENATE and self.rule == ThresholdRule.HOUSE_MAJORITY:
            raise ValidationError({"rule": "The House majority rule applies to House votes only."})
        if self.chamber == Chamber.HOUSE and self.rule == ThresholdRule.THREE_FIFTHS_SWORN:
            raise ValidationError({"rule": "Three-fifths of those sworn is a Senate rule."})
        if self.vote_id and self.vote.chamber != self.chamber:
            raise ValidationError({"vote": "The roll call is from the other chamber."})

    @property
    def seats(self) -> int:
        return SEATS[Chamber(self.chamber)]


class LinkMeaning(models.TextChoices):
    SUPPORT_MEANS_YES = "yes", "Support means a yes vote"
    SUPPORT_MEANS_NO = "no", "Support means a no vote"


class VoteTargetLink(models.Model):
    """A provision or demand the vote is about; support for it may mean a yes or a no."""

    target = models.ForeignKey(VoteTarget, on_delete=models.CASCADE, related_name="links")
    provision = models.ForeignKey(
        "tracker.Provision",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="vote_target_links",
    )
    demand = models.ForeignKey(
        "tracker.Demand",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="vote_target_links",
    )
    support_means = models.CharField(
        max_length=3, choices=LinkMeaning.choices, default=LinkMeaning.SUPPORT_MEANS_YES
    )

    class Meta:
        ordering = ["target", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(provision__isnull=False, demand__isnull=True)
                    | Q(provision__isnull=True, demand__isnull=False)
                ),
                name="vote_target_link_has_one_item",
            ),
            models.UniqueConstraint(
                fields=["target", "provision"],
                condition=Q(provision__isnull=False),
                name="vote_target_link_unique_provision",
            ),
            models.UniqueConstraint(
                fields=["target", "demand"],
                condition=Q(demand__isnull=False),
                name="vote_target_link_unique_demand",
            ),
            models.CheckConstraint(
                condition=Q(support_means__in=LinkMeaning.values),
                name="vote_target_link_meaning_valid",
            ),
        ]

    def __str__(self) -> str:
        return str(self.item)

    @property
    def item(self) -> models.Model:
        return self.provision if self.provision_id else self.demand


class VacancyQuerySet(models.QuerySet["Vacancy"]):
    def open_on(self, day: date, chamber: str) -> "VacancyQuerySet":
        """Seats of `chamber` empty at the end of `day`."""
        return self.filter(chamber=chamber, vacated_on__lte=day).filter(
            Q(filled_on__isnull=True) | Q(filled_on__gt=day)
        )


class Vacancy(models.Model):
    """A seat without a sworn member, from the day it fell vacant to the day it was filled."""

    chamber = models.CharField(max_length=6, choices=Chamber.choices)
    state = models.CharField(max_length=2)
    district = models.PositiveSmallIntegerField(null=True, blank=True, help_text="House only.")
    vacated_on = models.DateField()
    filled_on = models.DateField(
        null=True, blank=True, help_text="The day the successor was sworn in; blank while open."
    )
    former_member = models.ForeignKey(
        "tracker.Stakeholder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vacancies",
    )
    reason = models.CharField(max_length=200, blank=True, help_text="Death, resignation, ...")
    source_url = models.URLField(max_length=500, blank=True)

    objects = VacancyQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "vacancies"
        ordering = ["-vacated_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(chamber__in=Chamber.values), name="vacancy_chamber_valid"
            ),
            models.CheckConstraint(
                condition=Q(filled_on__isnull=True) | Q(filled_on__gte=F("vacated_on")),
                name="vacancy_filled_after_vacated",
            ),
        ]

    def __str__(self) -> str:
        seat = f"{self.state}-{self.district}" if self.district else self.state
        return f"{self.get_chamber_display()} seat {seat}, vacant from {self.vacated_on}"


class StanceOverrideQuerySet(models.QuerySet["StanceOverride"]):
    def set_by_end_of(self, day: date) -> "StanceOverrideQuerySet":
        return self.filter(set_on__lte=day)


class StanceOverride(models.Model):
    """A staffer's call on how a member will vote, replacing the stance derived from positions.

    Overrides are kept as history like positions: the latest one counts, and an empty stance
    clears it (the derived stance counts again).
    """

    target = models.ForeignKey(VoteTarget, on_delete=models.CASCADE, related_name="overrides")
    member = models.ForeignKey(
        "tracker.Stakeholder", on_delete=models.CASCADE, related_name="stance_overrides"
    )
    stance = models.CharField(
        max_length=14, choices=Stance.choices, blank=True, help_text="Blank clears the override."
    )
    note = models.TextField(help_text="Why the office counts this member this way.")
    set_on = models.DateField(help_text="From which day the call applies on the as-of board.")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stance_overrides",
    )
    set_at = models.DateTimeField(auto_now_add=True)

    objects = StanceOverrideQuerySet.as_manager()

    class Meta:
        ordering = ["target", "member", "-set_on", "-set_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stance__in=[*Stance.values, ""]), name="stance_override_stance_valid"
            ),
            models.CheckConstraint(condition=~Q(note=""), name="stance_override_has_note"),
        ]
        indexes = [
            models.Index(fields=["target", "member", "-set_on"], name="stance_override_latest")
        ]

    def __str__(self) -> str:
        stance = self.get_stance_display() if self.stance else "cleared"
        return f"{self.member.name}: {stance} on {self.target.motion}"

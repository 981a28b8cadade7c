"""Roll-call votes and each member's cast, kept as published and normalised."""

from collections import Counter
from dataclasses import dataclass

from django.db import models
from django.db.models import Q


class Chamber(models.TextChoices):
    SENATE = "senate", "Senate"
    HOUSE = "house", "House"


class CastChoice(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    PRESENT = "present", "Present"
    ABSENT = "absent", "Not voting"
    OTHER = "other", "Other (e.g. a candidate's name)"


# Published vote values that mean yes or no; everything a chamber prints maps to one choice.
_PUBLISHED_CASTS = {
    "yea": CastChoice.YES,
    "aye": CastChoice.YES,
    "guilty": CastChoice.YES,
    "nay": CastChoice.NO,
    "no": CastChoice.NO,
    "not guilty": CastChoice.NO,
    "present": CastChoice.PRESENT,
    "present, giving live pair": CastChoice.PRESENT,
    "not voting": CastChoice.ABSENT,
}


def normalise_cast(published: str) -> str:
    """Map a vote as the Senate or House prints it to yes/no/present/absent (other for names)."""
    return _PUBLISHED_CASTS.get(" ".join(published.split()).lower(), CastChoice.OTHER)


def required_majority(chamber: str, question: str, *, published: str = "") -> str:
    """The majority a roll call needs ("1/2", "3/5" or "2/3"): as the chamber published it, else
    read off the question. Three-fifths of senators duly chosen and sworn for cloture and for
    waiving the Budget Act; two-thirds for veto overrides, treaties (resolutions of
    ratification), expulsion, conviction on impeachment, amending the Constitution, cloture on
    a change to the Senate's rules and House suspensions; a majority of those voting otherwise.
    """
    if published:
        return published
    asked = " ".join(question.split()).lower()
    senate = chamber == Chamber.SENATE
    two_thirds = (
        ("veto" in asked and ("overrid" in asked or "notwithstanding" in asked))
        or "objections of the president" in asked
        or "resolution of ratification" in asked
        or "expel" in asked
        or "expulsion" in asked
        or "amendment to the constitution" in asked
        or (senate and ("guilty or not guilty" in asked or "article of impeachment" in asked))
        or (senate and "cloture" in asked and "standing rules" in asked)
        or (not senate and "suspend the rules" in asked)
    )
    if two_thirds:
        return "2/3"
    if senate and ("cloture" in asked or "waive" in asked):
        return "3/5"
    return "1/2"


class Vote(models.Model):
    """A roll-call vote. The roll number is empty when the record does not confirm it."""

    chamber = models.CharField(max_length=6, choices=Chamber.choices)
    congress = models.PositiveSmallIntegerField()
    session = models.PositiveSmallIntegerField()
    roll_number = models.PositiveIntegerField(null=True, blank=True)
    voted_on = models.DateField()
    voted_at = models.DateTimeField(null=True, blank=True)
    question = models.TextField()
    title = models.TextField(blank=True)
    result = models.CharField(max_length=200)
    majority_requirement = models.CharField(
        max_length=5, blank=True, help_text='"1/2", "3/5", "2/3"'
    )
    yeas = models.PositiveIntegerField(null=True, blank=True)
    nays = models.PositiveIntegerField(null=True, blank=True)
    present = models.PositiveIntegerField(null=True, blank=True)
    not_voting = models.PositiveIntegerField(null=True, blank=True)
    bill = models.ForeignKey(
        "tracker.Bill", null=True, blank=True, on_delete=models.SET_NULL, related_name="votes"
    )
    amendment = models.CharField(max_length=40, blank=True, help_text='e.g. "S.Amdt. 1388"')
    # The Vice President is not a member: a tie-break is recorded on the vote itself.
    tie_breaker_by = models.CharField(max_length=100, blank=True)
    tie_breaker_vote = models.CharField(max_length=20, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    source_modified_at = models.DateTimeField(
        null=True, blank=True, help_text="The Senate's modify_date, to re-fetch corrected records."
    )
    is_confirmed = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-voted_on", "-roll_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["chamber", "congress", "session", "roll_number"],
                condition=Q(roll_number__isnull=False),
                name="vote_natural_key",
            ),
            models.CheckConstraint(
                condition=Q(chamber__in=Chamber.values), name="vote_chamber_valid"
            ),
            models.CheckConstraint(condition=Q(session__gte=1), name="vote_session_positive"),
        ]
        indexes = [
            models.Index(fields=["chamber", "-voted_on"], name="vote_recent_by_chamber"),
            models.Index(fields=["bill", "-voted_on"], name="vote_by_bill"),
        ]

    def __str__(self) -> str:
        roll = f"roll {self.roll_number}" if self.roll_number else "roll number unconfirmed"
        return f"{self.get_chamber_display()} {roll} ({self.voted_on}): {self.question[:60]}"

    @property
    def tally(self) -> str:
        parts = [f"{self.yeas}-{self.nays}"] if self.yeas is not None else []
        if self.present:
            parts.append(f"{self.present} present")
        if self.not_voting:
            parts.append(f"{self.not_voting} not voting")
        return ", ".join(parts)


class VoteCast(models.Model):
    """How one member voted on one roll call, as published and normalised."""

    # No single-column indexes: the natural key (vote, member) and vote_cast_by_member (member,
    # vote) serve both lookups, and every index more is paid on each of a roll's 435 inserts.
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="casts", db_index=False)
    member = models.ForeignKey(
        "tracker.Stakeholder", on_delete=models.CASCADE, related_name="vote_casts", db_index=False
    )
    published_as = models.CharField(max_length=60, help_text='As printed, e.g. "Yea", "Aye".')
    cast = models.CharField(max_length=8, choices=CastChoice.choices)
    # Party and state as of the vote (a member's party can change later).
    party = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=2, blank=True)

    class Meta:
        ordering = ["vote", "member__name"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "member"], name="vote_cast_natural_key"),
            models.CheckConstraint(condition=Q(cast__in=CastChoice.values), name="vote_cast_valid"),
        ]
        indexes = [models.Index(fields=["member", "vote"], name="vote_cast_by_member")]

    def __str__(self) -> str:
        return f"{self.member.name}: {self.published_as}"


# The order a roll call is read in, and the group names staff know (not CastChoice's longer
# "Other (e.g. a candidate's name)").
CAST_GROUPS = [
    (CastChoice.YES, "Yes"),
    (CastChoice.NO, "No"),
    (CastChoice.PRESENT, "Present"),
    (CastChoice.ABSENT, "Not voting"),
    (CastChoice.OTHER, "Other"),
]


@dataclass
class CastGroup:
    """The members who cast one normalised vote, and the wording most of them were printed
    with (none for "Other", where each cast is its own name)."""

    cast: str
    label: str
    casts: list[VoteCast]
    usual: str

    @property
    def count(self) -> int:
        return len(self.casts)

    @property
    def printed_as(self) -> str:
        """The chamber's word for the group when it is not the group's name, e.g. "Yea"."""
        return self.usual if self.usual.lower() != self.label.lower() else ""


def group_casts(casts: list[VoteCast]) -> list[CastGroup]:
    """The roll call's casts by normalised vote, in reading order; empty groups left out."""
    by_cast: dict[str, list[VoteCast]] = {cast: [] for cast, _ in CAST_GROUPS}
    for cast in casts:
        by_cast.setdefault(cast.cast, []).append(cast)
    groups = []
    for cast, label in CAST_GROUPS:
        members = by_cast[cast]
        if not members:
            continue
        usual = ""
        if cast != CastChoice.OTHER:
            usual = Counter(c.published_as for c in members).most_common(1)[0][0]
        groups.append(CastGroup(cast=cast, label=label, casts=members, usual=usual))
    return groups


def casts_match_tally(vote: Vote, groups: list[CastGroup]) -> bool:
    """Whether the member-by-member record adds up to the yeas and nays the chamber printed
    (true when there is nothing to compare)."""
    if vote.yeas is None or not groups:
        return True
    counted = {group.cast: group.count for group in groups}
    return (counted.get(CastChoice.YES, 0), counted.get(CastChoice.NO, 0)) == (
        vote.yeas,
        vote.nays,
    )

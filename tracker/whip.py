"""The whip count: thresholds, the stance that counts for each member, the board as of any day,
the count over time, and the projection checked against the roll call.

How a member's stance for a vote is derived (the conflict rule):

1. Take the member's latest position (as of the board's day) on each provision or demand the
   vote is about. A link can say that support for its item means a *no* vote; then the stance is
   mirrored (firm support becomes firm no).
2. Of those, the position with the latest date counts: people move, and the newest statement is
   the best guide to the vote.
3. If positions from that same date disagree, the one least favourable to a yes counts, so the
   count never overstates support.
4. A staffer's override (with its note), when one is in force on the board's day, replaces the
   derived stance. No position at all is "unknown".
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tracker.feeds.sources import BY_KEY
from tracker.models import (
    Activity,
    ActivityKind,
    CastChoice,
    Chamber,
    Position,
    Stakeholder,
    Stance,
    Vote,
    normalise_cast,
)
from tracker.models.whip import (
    SEATS,
    LinkMeaning,
    StanceOverride,
    ThresholdRule,
    Vacancy,
    VoteTarget,
    VoteTargetLink,
)

# The board's columns, most favourable to a yes first.
GROUPS = [
    ("firm_yes", "Firm yes"),
    ("lean_yes", "Lean yes"),
    ("undecided", "Undecided"),
    ("lean_no", "Lean no"),
    ("firm_no", "Firm no"),
    ("unknown", "Unknown"),
]
GROUP_LABELS = dict(GROUPS)
YES_GROUPS = {"firm_yes", "lean_yes"}
NO_GROUPS = {"firm_no", "lean_no"}
PERSUADABLE_GROUPS = {"lean_yes", "undecided", "lean_no"}

_GROUP_OF_STANCE = {
    Stance.FIRM_SUPPORT: "firm_yes",
    Stance.LEAN_SUPPORT: "lean_yes",
    Stance.UNDECIDED: "undecided",
    Stance.LEAN_OPPOSE: "lean_no",
    Stance.FIRM_OPPOSE: "firm_no",
}
_MIRROR = {
    "firm_yes": "firm_no",
    "lean_yes": "lean_no",
    "undecided": "undecided",
    "lean_no": "lean_yes",
    "firm_no": "firm_yes",
}
_ORDER = {key: index for index, (key, _) in enumerate(GROUPS)}


# Thresholds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    rule: str
    seats: int
    vacancies: int
    voting: int
    needed: int
    explanation: str

    @property
    def sworn(self) -> int:
        return self.seats - self.vacancies


def _ceil_fraction(count: int, numerator: int, denominator: int) -> int:
    return -(-count * numerator // denominator)


def threshold_for(
    rule: str,
    *,
    seats: int,
    vacancies: int = 0,
    voting: int | None = None,
    vice_president_supports: bool | None = None,
) -> Threshold:
    """Yes votes needed under `rule`; `voting` defaults to every sworn member voting."""
    if vacancies < 0 or vacancies >= seats:
        raise ValueError(f"{vacancies} vacancies cannot be right for {seats} seats.")
    sworn = seats - vacancies
    voting = sworn if voting is None else voting
    if not 0 <= voting <= sworn:
        raise ValueError(f"{voting} members cannot vote when {sworn} are sworn.")
    empty = f" ({vacancies} vacant)" if vacancies else ""
    if rule == ThresholdRule.THREE_FIFTHS_SWORN:
        needed = _ceil_fraction(sworn, 3, 5)
        explanation = f"three-fifths of {sworn} senators sworn{empty}"
    elif rule == ThresholdRule.MAJORITY_VOTING:
        # A tie fails unless the Vice President breaks it for the motion (Senate only).
        tie_wins = vice_president_supports is True and seats == SEATS[Chamber.SENATE]
        needed = voting // 2 if voting % 2 == 0 and tie_wins else voting // 2 + 1
        explanation = f"a majority of {voting} voting{empty}"
        if tie_wins and voting % 2 == 0:
            explanation += ", with the Vice President breaking a tie for it"
    elif rule == ThresholdRule.TWO_THIRDS_VOTING:
        needed = _ceil_fraction(voting, 2, 3)
        explanation = f"two-thirds of {voting} present and voting{empty}"
    elif rule == ThresholdRule.HOUSE_MAJORITY:
        needed = sworn // 2 + 1
        explanation = f"a majority of {sworn} members sworn{empty}"
    else:
        raise ValueError(f"Unknown threshold rule {rule!r}.")
    return Threshold(rule, seats, vacancies, voting, needed, explanation)


def vote_carried(
    rule: str, *, seats: int, vacancies: int, yeas: int, nays: int, tie_breaker_vote: str = ""
) -> bool:
    """Whether a recorded roll call met `rule`; a Senate tie goes the Vice President's way."""
    if rule == ThresholdRule.THREE_FIFTHS_SWORN:
        return yeas >= threshold_for(rule, seats=seats, vacancies=vacancies).needed
    if rule == ThresholdRule.TWO_THIRDS_VOTING:
        return yeas > 0 and yeas >= _ceil_fraction(yeas + nays, 2, 3)
    if rule in (ThresholdRule.MAJORITY_VOTING, ThresholdRule.HOUSE_MAJORITY):
        # 218 is the House bar with everyone voting; on the floor a majority of those voting.
        if yeas == nays and seats == SEATS[Chamber.SENATE]:
            return normalise_cast(tie_breaker_vote) == CastChoice.YES
        return yeas > nays
    raise ValueError(f"Unknown threshold rule {rule!r}.")


def target_threshold(target: VoteTarget, day: date, *, voting: int | None = None) -> Threshold:
    vacancies = Vacancy.objects.open_on(day, target.chamber).count()
    return threshold_for(
        target.rule,
        seats=target.seats,
        vacancies=vacancies,
        voting=voting,
        vice_president_supports=target.vice_president_supports,
    )


# Stance derivation ------------------------------------------------------------------------------


def group_for(stance: str, support_means: str = LinkMeaning.SUPPORT_MEANS_YES) -> str:
    group = _GROUP_OF_STANCE[Stance(stance)]
    return _MIRROR[group] if support_means == LinkMeaning.SUPPORT_MEANS_NO else group


@dataclass
class MemberCall:
    """How one member is counted, and why."""

    member: Stakeholder
    group: str = "unknown"
    derived_group: str = "unknown"
    position: Position | None = None
    link: VoteTargetLink | None = None
    override: StanceOverride | None = None
    is_stale: bool = False

    @property
    def group_label(self) -> str:
        return GROUP_LABELS[self.group]

    @property
    def derived_group_label(self) -> str:
        return GROUP_LABELS[self.derived_group]

    @property
    def is_overridden(self) -> bool:
        return self.override is not None

    @property
    def recorded_by(self) -> str:
        """Who made the call: the staffer's override, the recorder, a roll call, or the record."""
        if self.override is not None:
            return f"override by {_username(self.override.set_by)}"
        if self.position is None:
            return ""
        if self.position.derived_from_vote_id:
            return "read off a roll call"
        if self.position.recorded_by_id:
            return _username(self.position.recorded_by)
        return "public record (loaded)"


def _username(user: object) -> str:
    return user.get_username() if user is not None else "a former user"  # type: ignore[attr-defined]


def derive_call(
    member: Stakeholder,
    latest: Iterable[tuple[VoteTargetLink, Position]],
    override: StanceOverride | None,
    *,
    stale_before: date,
) -> MemberCall:
    """Apply the module's conflict rule to one member's latest positions and override."""
    call = MemberCall(member)
    best_key: tuple[date, int] | None = None
    for link, position in latest:
        group = group_for(position.stance, link.support_means)
        key = (position.as_of, _ORDER[group])
        if best_key is None or key > best_key:
            best_key, call.derived_group, call.position, call.link = key, group, position, link
    call.group = call.derived_group
    if override is not None and override.stance:
        call.override = override
        call.group = _GROUP_OF_STANCE[Stance(override.stance)]
    call.is_stale = call.position is not None and call.position.as_of < stale_before
    return call


# The board --------------------------------------------------------------------------------------


@dataclass
class Board:
    target: VoteTarget
    day: date
    threshold: Threshold
    calls: list[MemberCall]
    party: str = ""
    state: str = ""
    history: list["CountPoint"] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(call.group for call in self.calls)
        return {key: counted.get(key, 0) for key, _ in GROUPS}

    @property
    def yes(self) -> int:
        return sum(1 for call in self.calls if call.group in YES_GROUPS)

    @property
    def no(self) -> int:
        return sum(1 for call in self.calls if call.group in NO_GROUPS)

    @property
    def still_needed(self) -> int:
        return max(self.threshold.needed - self.yes, 0)

    @property
    def shown(self) -> list[MemberCall]:
        """The members the party and state filters let through."""
        return [
            call
            for call in self.calls
            if (not self.party or call.member.party == self.party)
            and (not self.state or call.member.state == self.state)
        ]

    @property
    def columns(self) -> list[tuple[str, str, list[MemberCall]]]:
        shown = self.shown
        return [(key, label, [c for c in shown if c.group == key]) for key, label in GROUPS]

    @property
    def persuadable(self) -> list[MemberCall]:
        calls = [call for call in self.shown if call.group in PERSUADABLE_GROUPS]
        return sorted(calls, key=lambda call: (_ORDER[call.group], call.member.name))

    @property
    def parties(self) -> list[str]:
        return sorted({call.member.party for call in self.calls if call.member.party})

    @property
    def states(self) -> list[str]:
        return sorted({call.member.state for call in self.calls if call.member.state})

    @property
    def is_past(self) -> bool:
        return self.day < timezone.localdate()


@dataclass(frozen=True)
class CountPoint:
    day: date
    counts: dict[str, int]

    @property
    def yes(self) -> int:
        return self.counts["firm_yes"] + self.counts["lean_yes"]

    @property
    def no(self) -> int:
        return self.counts["firm_no"] + self.counts["lean_no"]


def chamber_members(chamber: str, day: date) -> list[Stakeholder]:
    """The chamber's members serving on `day`."""
    return list(Stakeholder.objects.in_chamber(chamber).serving_on(day).order_by("name"))


def build_board(
    target: VoteTarget,
    *,
    day: date | None = None,
    party: str = "",
    state: str = "",
    exclude_vote: Vote | None = None,
) -> Board:
    """The board as it stood at the end of `day` (today by default), with the count over time.

    A fixed handful of queries whatever the number of positions: members, linked items (none
    when the target came with them prefetched), the positions on those items up to `day` (a
    few columns each; one pass replays them in order), the full rows of the positions that
    count, overrides, vacancies.
    `exclude_vote` leaves out positions read off that roll call, so a projection of a vote
    never uses the vote itself.
    """
    day = day or timezone.localdate()
    # The board's view prefetches the links with their items; anyone else pays one query.
    if "links" in getattr(target, "_prefetched_objects_cache", {}):
        links = list(target.links.all())
    else:
        links = list(target.links.select_related("provision", "demand"))
    members = chamber_members(target.chamber, day)
    positions = _positions_on_links(links, target.chamber, day, exclude_vote)
    overrides = (
        StanceOverride.objects.filter(
            target=target,
            member__in=Stakeholder.objects.in_chamber(target.chamber).serving_on(day),
        )
        .set_by_end_of(day)
        .select_related("set_by")
        .order_by("set_on", "set_at", "id")
    )
    stale_before = day - timedelta(days=target.stale_after_days)
    calls, history = _replay(members, links, positions, overrides, stale_before)
    _attach_positions(calls)
    return Board(
        target=target,
        day=day,
        threshold=target_threshold(target, day),
        calls=calls,
        party=party,
        state=state,
        history=history,
    )


@dataclass(frozen=True, slots=True)
class _Seen:
    """The few columns of a position the replay needs. At scale the replay walks every position
    on the vote's items; building full Position rows for all of them was most of the board's
    time, so those are read afterwards, only for the positions that end up counting."""

    pk: int
    stakeholder_id: int
    item: tuple[str, int]
    stance: str
    as_of: date


def _positions_on_links(
    links: list[VoteTargetLink], chamber: str, day: date, exclude_vote: Vote | None
) -> list[_Seen]:
    provision_ids = [link.provision_id for link in links if link.provision_id]
    demand_ids = [link.demand_id for link in links if link.demand_id]
    if not links:
        return []
    # The chamber's members as a subquery: a list of 100 (or 435) ids as parameters cost more
    # to bind and send than the query itself takes to run.
    members = Stakeholder.objects.in_chamber(chamber).serving_on(day).values("pk")
    positions = Position.objects.filter(
        Q(provision_id__in=provision_ids) | Q(demand_id__in=demand_ids),
        stakeholder__in=members,
        as_of__lte=day,
    )
    if exclude_vote is not None:
        positions = positions.exclude(derived_from_vote=exclude_vote)
    # Oldest first, in the same order as Position.objects.current() picks the latest.
    rows = positions.order_by("as_of", "recorded_at", "id").values_list(
        "pk", "stakeholder_id", "provision_id", "demand_id", "stance", "as_of"
    )
    return [
        _Seen(pk, member_id, ("p", provision_id) if provision_id else ("d", demand_id), stance, on)
        for pk, member_id, provision_id, demand_id, stance, on in rows
    ]


def _attach_positions(calls: list[MemberCall]) -> None:
    """Swap each call's replayed position for the full row (source, recorder): one query."""
    wanted = [call.position.pk for call in calls if call.position is not None]
    if not wanted:
        return
    full = Position.objects.select_related("recorded_by").order_by().in_bulk(wanted)
    for call in calls:
        if call.position is not None:
            call.position = full[call.position.pk]


def _replay(
    members: list[Stakeholder],
    links: list[VoteTargetLink],
    positions: list[_Seen],
    overrides: Iterable[StanceOverride],
    stale_before: date,
) -> tuple[list[MemberCall], list[CountPoint]]:
    """Replay positions and overrides day by day: the final calls and the count after each day."""
    by_member = {member.pk: member for member in members}
    link_of_item = {("p", link.provision_id): link for link in links if link.provision_id} | {
        ("d", link.demand_id): link for link in links if link.demand_id
    }
    latest: dict[int, dict[int, tuple[VoteTargetLink, _Seen]]] = defaultdict(dict)
    override_of: dict[int, StanceOverride] = {}
    group_of = dict.fromkeys(by_member, "unknown")
    counts = {key: 0 for key, _ in GROUPS}
    counts["unknown"] = len(members)

    events: dict[date, list[_Seen | StanceOverride]] = defaultdict(list)
    for position in positions:
        if position.stakeholder_id in by_member:
            events[position.as_of].append(position)
    for override in overrides:
        events[override.set_on].append(override)

    history = []
    calls: dict[int, MemberCall] = {}
    for day in sorted(events):
        touched = set()
        for event in events[day]:
            if isinstance(event, StanceOverride):
                override_of[event.member_id] = event
                touched.add(event.member_id)
                continue
            link = link_of_item[event.item]
            latest[event.stakeholder_id][link.pk] = (link, event)
            touched.add(event.stakeholder_id)
        for member_id in touched:
            call = derive_call(
                by_member[member_id],
                latest[member_id].values(),  # type: ignore[arg-type]
                override_of.get(member_id),
                stale_before=stale_before,
            )
            counts[group_of[member_id]] -= 1
            counts[call.group] += 1
            group_of[member_id] = call.group
            calls[member_id] = call
        history.append(CountPoint(day, dict(counts)))
    ordered = [calls.get(member.pk) or MemberCall(member) for member in members]
    return ordered, history


# Predicted vs actual ----------------------------------------------------------------------------

OUTCOMES = [
    ("hit", "Hits", "Counted yes or no, and voted that way."),
    ("miss", "Misses", "Counted as leaning one way, voted the other."),
    ("surprise", "Surprises", "Counted firm one way, voted the other."),
    ("uncalled", "Not called", "Undecided or no position before the vote; how they voted."),
    ("no_vote", "Did not vote yes or no", "Counted, but answered present or did not vote."),
]
OUTCOME_LABELS = {key: label for key, label, _ in OUTCOMES}


@dataclass
class CheckedCall:
    call: MemberCall
    cast: str
    party: str

    @property
    def cast_label(self) -> str:
        return CastChoice(self.cast).label if self.cast else "No record"

    @property
    def outcome(self) -> str:
        group = self.call.group
        if group not in YES_GROUPS | NO_GROUPS:
            return "uncalled"
        if self.cast not in (CastChoice.YES, CastChoice.NO):
            return "no_vote"
        predicted = CastChoice.YES if group in YES_GROUPS else CastChoice.NO
        if predicted == self.cast:
            return "hit"
        return "surprise" if group.startswith("firm") else "miss"


@dataclass(frozen=True)
class Accuracy:
    label: str
    hits: int
    called: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.hits / self.called) if self.called else None


@dataclass
class Scorecard:
    target: VoteTarget
    vote: Vote
    board: Board
    checked: list[CheckedCall]
    carried: bool

    @property
    def projected_on(self) -> date:
        return self.board.day

    @property
    def by_outcome(self) -> list[tuple[str, str, str, list[CheckedCall]]]:
        return [
            (key, label, meaning, [c for c in self.checked if c.outcome == key])
            for key, label, meaning in OUTCOMES
        ]

    @property
    def overall(self) -> Accuracy:
        return _accuracy("All members", self.checked)

    @property
    def by_party(self) -> list[Accuracy]:
        return _grouped_accuracy(self.checked, lambda c: c.party or "No party")

    @property
    def by_recorder(self) -> list[Accuracy]:
        return _grouped_accuracy(self.checked, lambda c: c.call.recorded_by or "no position")

    @property
    def casts_by_party(self) -> list[tuple[str, dict[str, int]]]:
        """The actual roll call split by party, which is what explains the result."""
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for checked in self.checked:
            if checked.cast:
                table[checked.party or "No party"][checked.cast] += 1
        return [(party, dict(table[party])) for party in sorted(table)]

    @property
    def predicted_carried(self) -> bool:
        return self.board.yes >= self.board.threshold.needed


def _accuracy(label: str, checked: list[CheckedCall]) -> Accuracy:
    scored = [c for c in checked if c.outcome in ("hit", "miss", "surprise")]
    return Accuracy(label, sum(1 for c in scored if c.outcome == "hit"), len(scored))


def _grouped_accuracy(checked: list[CheckedCall], key: object) -> list[Accuracy]:
    groups: dict[str, list[CheckedCall]] = defaultdict(list)
    for item in checked:
        groups[key(item)].append(item)  # type: ignore[operator]
    return [_accuracy(label, groups[label]) for label in sorted(groups)]


def predicted_vs_actual(target: VoteTarget) -> Scorecard | None:
    """Each member's projection the day before the roll call, against how they voted.

    Positions dated on the vote day (and any read off the vote itself) are left out, so the
    check is never circular. None until the target has its roll call.
    """
    vote = target.vote
    if vote is None:
        return None
    board = build_board(target, day=vote.voted_on - timedelta(days=1), exclude_vote=vote)
    casts = {cast.member_id: cast for cast in vote.casts.select_related("member")}
    checked = []
    for call in board.calls:
        cast = casts.pop(call.member.pk, None)
        checked.append(
            CheckedCall(call, cast.cast if cast else "", cast.party if cast else call.member.party)
        )
    # Members who voted then but are no longer in office still count.
    for cast in casts.values():
        checked.append(CheckedCall(MemberCall(cast.member), cast.cast, cast.party))
    vacancies = Vacancy.objects.open_on(vote.voted_on, vote.chamber).count()
    carried = vote_carried(
        target.rule,
        seats=target.seats,
        vacancies=vacancies,
        yeas=vote.yeas or 0,
        nays=vote.nays or 0,
        tie_breaker_vote=vote.tie_breaker_vote,
    )
    return Scorecard(target, vote, board, checked, carried)


# Roll calls settle targets ---------------------------------------------------------------------
#
# A roll call settles a target when it is the only vote on the target's expected day, in its
# chamber, on one of its negotiation's bills, that asks the same kind of question (cloture on
# the motion to proceed, cloture on the bill, passage, concurring...). Anything else (no date,
# two such votes that day) is left for an Editor to link by hand from the board.

# In order: a motion about another motion (to reconsider the cloture vote, to table) is that.
_MOTION_KINDS = [
    ("reconsider", ("reconsider",)),
    ("table", ("table",)),
    ("waive", ("waive",)),
    ("cloture_concur", ("cloture", "concur")),
    ("cloture_proceed", ("cloture", "proceed")),
    ("cloture_amendment", ("cloture", "amendment")),
    ("cloture", ("cloture",)),
    ("proceed", ("proceed",)),
    ("concur", ("concur",)),
    ("passage", ("passage",)),
    ("amendment", ("amendment",)),
]


def motion_kind(text: str) -> str:
    """What kind of question a motion or a roll call asks, from its words."""
    lowered = text.lower()
    for kind, words in _MOTION_KINDS:
        if all(word in lowered for word in words):
            return kind
    return "other"


def candidate_votes(target: VoteTarget, *, days: int = 0) -> list[Vote]:
    """Roll calls that could be the target's: its chamber, its negotiation's bills, and within
    `days` of its expected day."""
    if target.expected_on is None:
        return []
    votes = Vote.objects.filter(
        chamber=target.chamber,
        bill__negotiation_id=target.negotiation_id,
        voted_on__range=(
            target.expected_on - timedelta(days=days),
            target.expected_on + timedelta(days=days),
        ),
    ).select_related("bill")
    return list(votes.order_by("voted_on", "roll_number", "pk"))


def matching_votes(target: VoteTarget) -> list[Vote]:
    kind = motion_kind(target.motion)
    return [
        vote
        for vote in candidate_votes(target)
        if motion_kind(f"{vote.question} {vote.title}") == kind
    ]


def settle_targets_for(vote: Vote) -> list[Activity]:
    """Link every open target this newly arrived roll call settles, and say how it went."""
    if vote.bill_id is None:
        return []
    targets = VoteTarget.objects.filter(
        vote__isnull=True,
        chamber=vote.chamber,
        expected_on=vote.voted_on,
        negotiation__bills=vote.bill_id,
    ).select_related("negotiation")
    return [settle(target, vote) for target in targets if matching_votes(target) == [vote]]


@transaction.atomic
def settle(target: VoteTarget, vote: Vote, *, by: AbstractBaseUser | None = None) -> Activity:
    """Link the target to its roll call (by the feed, or by an Editor) and record the result:
    passed or failed against its threshold, and how the count the day before fared."""
    if vote.chamber != target.chamber:
        raise ValueError("The roll call is from the other chamber.")
    target.vote = vote
    target.save(update_fields=["vote"])
    scorecard = predicted_vs_actual(target)
    return Activity.objects.create(
        negotiation_id=target.negotiation_id,
        kind=ActivityKind.WHIP_RESULT,
        actor=by,
        occurred_at=vote.voted_at or _noon(vote.voted_on),
        source="" if by else BY_KEY[vote.chamber].origin,
        source_url=vote.source_url[:500],
        summary=result_summary(scorecard)[:300],
        vote=vote,
        bill_id=vote.bill_id,
    )


def result_summary(scorecard: "Scorecard") -> str:
    """ "Cloture on ...: failed 49-50, 60 needed. The count the day before called 7 of 100
    (7 right); 0 surprises; 93 had no call." """
    vote = scorecard.vote
    outcome = "carried" if scorecard.carried else "failed"
    surprises = sum(1 for call in scorecard.checked if call.outcome == "surprise")
    uncalled = sum(1 for call in scorecard.checked if call.outcome == "uncalled")
    return (
        f"{scorecard.target.motion}: {outcome} {vote.yeas or 0}-{vote.nays or 0}, "
        f"{scorecard.board.threshold.needed} needed. {coverage(scorecard)}; "
        f"{surprises} surprise{'s' if surprises != 1 else ''}; {uncalled} had no call."
    )


def coverage(scorecard: "Scorecard") -> str:
    """How much of the chamber the count called, and how many of those it got right."""
    overall = scorecard.overall
    return (
        f"The count the day before called {overall.called} of {len(scorecard.checked)} "
        f"({overall.hits} right)"
    )


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=ZoneInfo("America/New_York"))


# Overrides --------------------------------------------------------------------------------------


@transaction.atomic
def set_override(
    target: VoteTarget,
    member: Stakeholder,
    *,
    stance: str,
    note: str,
    by: AbstractBaseUser | None,
    on: date | None = None,
) -> StanceOverride:
    """Count `member` as `stance` on `target` from `on` (today); a blank stance clears the call."""
    if member.chamber != target.chamber:
        raise ValueError(f"{member.name} does not sit in the {target.get_chamber_display()}.")
    override = StanceOverride(
        target=target,
        member=member,
        stance=stance,
        note=note.strip(),
        set_on=on or timezone.localdate(),
        set_by=by,
    )
    override.full_clean()
    override.save()
    counted = GROUP_LABELS[_GROUP_OF_STANCE[Stance(stance)]] if stance else "the derived stance"
    Activity.objects.create(
        negotiation_id=target.negotiation_id,
        kind=ActivityKind.NOTE,
        actor=by,
        source="" if by else "system",
        summary=f"Whip count for {target.motion}: {member.name} counted as {counted}"[:300],
        detail=override.note,
        to_value=stance,
        stakeholder=member,
    )
    return override

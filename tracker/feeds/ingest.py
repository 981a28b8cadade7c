"""Apply parsed feed records to the database: upserts by natural key, no HTTP.

Each record (a bill with its actions, a roll call with its casts, a legislator) is written in its
own transaction, so a bad record never takes good ones with it. Every real change writes an
Activity row; a payload identical to what is stored writes nothing but `last_synced_at`.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from tracker.feed_effects import follow_bill
from tracker.feeds.congress import ActionList, BillDetails, BillRecord, CostEstimateRecord
from tracker.feeds.legislators import Legislator
from tracker.feeds.roll_calls import BillRef, MemberCast, RollCall, normalised_cast
from tracker.feeds.sources import BY_KEY
from tracker.models import (
    Activity,
    ActivityKind,
    Amendment,
    Bill,
    BillAction,
    BillSummary,
    BillTextVersion,
    BillTitle,
    Cosponsor,
    CostEstimate,
    PackageVersion,
    Stakeholder,
    StakeholderKind,
    Vote,
    VoteCast,
    required_majority,
)
from tracker.whip import settle_targets_for

EASTERN = ZoneInfo("America/New_York")
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# Vote fields whose change is news (an amended record); the rest are corrections of wording.
_VOTE_RESULT_FIELDS = ("result", "yeas", "nays", "present", "not_voting", "tie_breaker_vote")


class IngestError(Exception):
    """A record that cannot be stored as it is; the message names it."""


@dataclass
class Outcome:
    outcome: str
    new_members: list[str] = field(default_factory=list)
    detail: str = ""


# Members ----------------------------------------------------------------------------------------


class MemberIndex:
    """Stakeholder ids by the id a chamber's feed uses (LIS id or bioguide id), loaded once."""

    def __init__(self, chamber: str) -> None:
        self.chamber = chamber
        id_field = "lis_id" if chamber == "senate" else "bioguide_id"
        self.by_feed_id: dict[str, int] = {
            feed_id: pk
            for feed_id, pk in Stakeholder.objects.exclude(**{id_field: ""})
            .order_by()
            .values_list(id_field, "pk")
        }

    def ensure(self, casts: tuple[MemberCast, ...]) -> list[str]:
        """Create the members these casts name that we do not know, from the payload's fields."""
        unknown = {cast.member_id: cast for cast in casts if cast.member_id not in self.by_feed_id}
        if not unknown:
            return []
        senate = self.chamber == "senate"
        with transaction.atomic():
            # One insert for all of a roll's newcomers (a new Congress brings hundreds).
            created = Stakeholder.objects.bulk_create(
                _new_member(senate, cast) for cast in unknown.values()
            )
        for member, cast in zip(created, unknown.values(), strict=True):
            self.by_feed_id[cast.member_id] = member.pk
        return [
            f"{cast.display_name or cast.last_name} ({cast.member_id})" for cast in unknown.values()
        ]


def _new_member(senate: bool, cast: MemberCast) -> Stakeholder:
    name = " ".join(part for part in (cast.first_name, cast.last_name) if part) or cast.display_name
    return Stakeholder(
        slug=slugify(f"{name} {cast.member_id}")[:80],
        name=name[:200],
        kind=StakeholderKind.SENATOR if senate else StakeholderKind.REPRESENTATIVE,
        role="Senator" if senate else "Representative",
        party=cast.party[:20],
        state=cast.state[:2],
        lis_id=cast.member_id if senate else "",
        bioguide_id="" if senate else cast.member_id,
        # Known from a roll call only: counted on no board until the legislators feed lists
        # them (a vote from 2021 names senators who have since left).
        in_office=False,
    )


# Roll calls -------------------------------------------------------------------------------------


class BillIndex:
    """(congress, type, number) -> (bill id, negotiation id), cached for a run."""

    def __init__(self) -> None:
        self._cache: dict[BillRef, tuple[int, int | None] | None] = {}

    def get(self, ref: BillRef | None) -> tuple[int, int | None] | None:
        if ref is None:
            return None
        if ref not in self._cache:
            self._cache[ref] = (
                Bill.objects.filter(
                    congress=ref.congress, bill_type=ref.bill_type, number=ref.number
                )
                .values_list("pk", "negotiation_id")
                .first()
            )
        return self._cache[ref]


# What a roll call sets on its Vote, in the order VoteIndex reads them back.
_VOTE_FIELDS = (
    "voted_on",
    "voted_at",
    "question",
    "title",
    "result",
    "majority_requirement",
    "yeas",
    "nays",
    "present",
    "not_voting",
    "amendment",
    "tie_breaker_by",
    "tie_breaker_vote",
    "source_url",
    "source_modified_at",
    "is_confirmed",
    "bill_id",
)
# member id -> (published as, normalised, party, state): a cast as compared and written.
CastRow = tuple[str, str, str, str]


@dataclass(frozen=True)
class StoredVote:
    pk: int
    values: dict[str, object]
    last_synced: bool


class VoteIndex:
    """The stored votes of each chamber-session a run touches, read in one query per session.

    Only a hint to skip per-vote SELECTs: a vote that looks unchanged is confirmed against its
    stored casts, and any write happens under a row lock on freshly read data.
    """

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, int, int], dict[int, StoredVote]] = {}
        self._written: set[str] = set()

    def get(self, roll: RollCall) -> StoredVote | None:
        if roll.key in self._written:
            # Written during this run (the same vote can be published twice): read it afresh.
            return _stored_vote(roll)
        session = (roll.chamber, roll.congress, roll.session)
        if session not in self._sessions:
            rows = Vote.objects.filter(
                chamber=roll.chamber,
                congress=roll.congress,
                session=roll.session,
                roll_number__isnull=False,
            ).values_list("roll_number", "pk", "last_synced_at", *_VOTE_FIELDS)
            self._sessions[session] = {
                number: StoredVote(pk, dict(zip(_VOTE_FIELDS, values, strict=True)), bool(synced))
                for number, pk, synced, *values in rows.order_by()
            }
        return self._sessions[session].get(roll.roll_number)

    def written(self, roll: RollCall) -> None:
        """After a write: the next look at this vote reads it from the database again."""
        self._written.add(roll.key)


def _stored_vote(roll: RollCall) -> StoredVote | None:
    row = (
        Vote.objects.filter(
            chamber=roll.chamber,
            congress=roll.congress,
            session=roll.session,
            roll_number=roll.roll_number,
        )
        .values_list("pk", "last_synced_at", *_VOTE_FIELDS)
        .first()
    )
    if row is None:
        return None
    pk, synced, *values = row
    return StoredVote(pk, dict(zip(_VOTE_FIELDS, values, strict=True)), bool(synced))


def _stored_casts(vote_id: int) -> dict[int, tuple[str, str, str, str, int]]:
    # order_by(): VoteCast's default ordering joins Stakeholder to sort by name, for nothing here.
    rows = (
        VoteCast.objects.filter(vote_id=vote_id)
        .order_by()
        .values_list("member_id", "published_as", "cast", "party", "state", "pk")
    )
    return {member_id: (p, c, party, state, pk) for member_id, p, c, party, state, pk in rows}


def ingest_roll_call(
    roll: RollCall, *, members: MemberIndex, bills: BillIndex, votes: VoteIndex | None = None
) -> Outcome:
    """Create or update the vote by chamber + congress + session + roll number, with its casts.

    A roll whose member list disagrees with its own totals, or carries vote values we cannot
    read, is refused whole (IngestError): the stored vote, if any, stays as it was.

    Round trips per vote do not depend on its casts: a new vote is BEGIN, the vote, all its casts
    in one insert, its Activity and COMMIT; an unchanged one is a single SELECT of its casts when
    `votes` (shared by a run) already holds its row.
    """
    problems = roll.inconsistencies()
    if problems:
        raise IngestError(f"{roll.key}: {'; '.join(problems)}")
    new_members = members.ensure(roll.casts)
    bill = bills.get(roll.bill)
    values = _vote_values(roll, bill)
    by_feed_id = members.by_feed_id
    casts: dict[int, CastRow] = {
        by_feed_id[cast.member_id]: (
            cast.published_as[:60],
            normalised_cast(cast.published_as),
            cast.party[:20],
            cast.state[:2],
        )
        for cast in roll.casts
    }
    stored = votes.get(roll) if votes is not None else _stored_vote(roll)
    if stored is None:
        try:
            with transaction.atomic():
                vote = Vote.objects.create(
                    chamber=roll.chamber,
                    congress=roll.congress,
                    session=roll.session,
                    roll_number=roll.roll_number,
                    last_synced_at=timezone.now(),
                    **values,
                )
                _insert_casts(vote.pk, casts)
                _record_vote(vote, roll, bill, summary=_new_vote_summary(vote), when=roll.voted_at)
        except IntegrityError:
            # Stored meanwhile by someone else (or our index was stale): compare under a lock.
            pass
        else:
            if votes is not None:
                votes.written(roll)
            return Outcome(CREATED, new_members)
    elif (
        stored.last_synced
        and not _changed_fields(stored.values, values)
        and not _cast_diff(casts, _stored_casts(stored.pk)).count
    ):
        # The same record again: nothing is written, not even a timestamp (the run says when the
        # source was last read).
        return Outcome(UNCHANGED, new_members)
    if votes is not None:
        votes.written(roll)
    return _update_locked(roll, values, casts, bill, new_members)


def _vote_values(roll: RollCall, bill: tuple[int, int | None] | None) -> dict[str, object]:
    values: dict[str, object] = {
        "voted_on": roll.voted_on,
        "voted_at": roll.voted_at,
        "question": roll.question,
        "title": roll.title,
        "result": roll.result[:200],
        # As the chamber published it, else read off the question (cloture, waivers, ...).
        "majority_requirement": required_majority(
            roll.chamber, roll.question, published=roll.majority_requirement
        )[:5],
        "yeas": roll.yeas,
        "nays": roll.nays,
        "present": roll.present,
        "not_voting": roll.not_voting,
        "amendment": roll.amendment[:40],
        "tie_breaker_by": roll.tie_breaker_by[:100],
        "tie_breaker_vote": roll.tie_breaker_vote[:20],
        "source_url": roll.source_url[:500],
        "source_modified_at": roll.modified_at,
        "is_confirmed": True,
    }
    if bill is not None:
        # A roll that names no bill we track leaves a bill set by hand alone.
        values["bill_id"] = bill[0]
    return values


def _changed_fields(stored: dict[str, object], values: dict[str, object]) -> list[str]:
    return [name for name, value in values.items() if stored[name] != value]


def _update_locked(
    roll: RollCall,
    values: dict[str, object],
    casts: dict[int, CastRow],
    bill: tuple[int, int | None] | None,
    new_members: list[str],
) -> Outcome:
    now = timezone.now()
    with transaction.atomic():
        vote = (
            Vote.objects.select_for_update()
            .filter(
                chamber=roll.chamber,
                congress=roll.congress,
                session=roll.session,
                roll_number=roll.roll_number,
            )
            .first()
        )
        if vote is None:
            vote = Vote.objects.create(
                chamber=roll.chamber,
                congress=roll.congress,
                session=roll.session,
                roll_number=roll.roll_number,
                last_synced_at=now,
                **values,
            )
            _insert_casts(vote.pk, casts)
            _record_vote(vote, roll, bill, summary=_new_vote_summary(vote), when=roll.voted_at)
            return Outcome(CREATED, new_members)
        changed_fields = [name for name, value in values.items() if getattr(vote, name) != value]
        before = {name: getattr(vote, name) for name in _VOTE_RESULT_FIELDS}
        cast_changes = _write_casts(vote, casts, existing=_stored_casts(vote.pk))
        if not changed_fields and not cast_changes and vote.last_synced_at:
            return Outcome(UNCHANGED, new_members)
        for name in changed_fields:
            setattr(vote, name, values[name])
        vote.last_synced_at = now
        vote.save(update_fields=[*changed_fields, "last_synced_at"])
        if not changed_fields and not cast_changes:
            return Outcome(UNCHANGED, new_members)
        news = _amendment_summary(vote, before, changed_fields, cast_changes)
        if news:
            _record_vote(vote, roll, bill, summary=news, when=now)
        return Outcome(UPDATED, new_members, detail=news)


@dataclass
class _CastDiff:
    new: list[int]
    changed: list[int]
    gone: list[int]

    @property
    def count(self) -> int:
        return len(self.new) + len(self.changed) + len(self.gone)


def _cast_diff(
    casts: dict[int, CastRow], existing: dict[int, tuple[str, str, str, str, int]]
) -> _CastDiff:
    return _CastDiff(
        new=[member_id for member_id in casts if member_id not in existing],
        changed=[
            member_id
            for member_id, row in casts.items()
            if member_id in existing and existing[member_id][:4] != row
        ],
        # An amended record no longer lists these members; an empty list never wipes casts.
        gone=[row[4] for member_id, row in existing.items() if member_id not in casts]
        if casts
        else [],
    )


def _insert_casts(vote_id: int, casts: dict[int, CastRow]) -> None:
    """One INSERT for all of a vote's casts, straight from plain tuples.

    The ORM's bulk_create prepares every value of every instance in Python, which at 435 casts a
    roll cost more than the insert itself; on PostgreSQL the columns go as five arrays instead.
    """
    if not casts:
        return
    if connection.vendor != "postgresql":
        VoteCast.objects.bulk_create(
            [
                VoteCast(None, vote_id, member_id, published_as, cast, party, state)
                for member_id, (published_as, cast, party, state) in casts.items()
            ]
        )
        return
    rows = list(casts.values())
    params = [vote_id, list(casts), *([row[i] for row in rows] for i in range(4))]
    with connection.cursor() as cursor:
        cursor.execute(_insert_casts_sql(), params)


@cache
def _insert_casts_sql() -> str:
    meta, quote = VoteCast._meta, connection.ops.quote_name
    columns = ", ".join(
        quote(meta.get_field(name).column)
        for name in ("vote", "member", "published_as", "cast", "party", "state")
    )
    # Names from the model's own metadata, values as parameters: nothing from a feed in the SQL.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT %s, * FROM UNNEST("  # noqa: S608
        "%s::bigint[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[])"
    )


def _write_casts(
    vote: Vote,
    casts: dict[int, CastRow],
    *,
    existing: dict[int, tuple[str, str, str, str, int]],
) -> int:
    """Bulk-write the difference: a constant number of queries whatever the number of casts."""
    diff = _cast_diff(casts, existing)
    _insert_casts(vote.pk, {member_id: casts[member_id] for member_id in diff.new})
    if diff.changed:
        VoteCast.objects.bulk_update(
            [
                VoteCast(pk=existing[member_id][4], published_as=p, cast=c, party=party, state=s)
                for member_id in diff.changed
                for p, c, party, s in (casts[member_id],)
            ],
            ["published_as", "cast", "party", "state"],
        )
    if diff.gone:
        VoteCast.objects.filter(pk__in=diff.gone).delete()
    return diff.count


def _new_vote_summary(vote: Vote) -> str:
    summary = f"{vote.get_chamber_display()} roll call {vote.roll_number}: {vote.question} — "
    summary += f"{vote.result} ({vote.tally})" if vote.tally else vote.result
    if vote.tie_breaker_vote:
        summary += f"; the Vice President broke the tie voting {vote.tie_breaker_vote}"
    return summary[:300]


def _amendment_summary(
    vote: Vote, before: dict[str, object], changed_fields: list[str], cast_changes: int
) -> str:
    """What changed, in words; "" when only wording or bookkeeping changed."""
    parts = []
    if "result" in changed_fields:
        parts.append(f"result {before['result'] or 'unknown'} → {vote.result}")
    tallies = [name for name in _VOTE_RESULT_FIELDS[1:] if name in changed_fields]
    if tallies:
        parts.append(f"tally now {vote.tally}")
    if cast_changes:
        parts.append(f"{cast_changes} member vote{'s' if cast_changes != 1 else ''} changed")
    wording = {"question", "title", "amendment", "voted_on", "voted_at", "bill_id"}
    if not parts and wording & set(changed_fields):
        parts.append("record corrected")
    if not parts:
        return ""
    roll = f"{vote.get_chamber_display()} roll call {vote.roll_number}"
    return f"{roll} amended by {BY_KEY[vote.chamber].origin}: {', '.join(parts)}"[:300]


def _record_vote(
    vote: Vote,
    roll: RollCall,
    bill: tuple[int, int | None] | None,
    *,
    summary: str,
    when: datetime | None,
) -> None:
    Activity.objects.create(
        negotiation_id=bill[1] if bill else None,
        kind=ActivityKind.VOTE,
        occurred_at=when or _noon(roll.voted_on),
        source=BY_KEY[roll.chamber].origin,
        source_url=roll.source_url[:500],
        summary=summary,
        bill_id=bill[0] if bill else None,
        vote=vote,
    )
    # A roll call may settle the whip count of a vote staff were counting toward.
    settle_targets_for(vote)


# Bills ------------------------------------------------------------------------------------------


def ingest_bill(
    record: BillRecord, actions: ActionList | None, details: BillDetails | None = None
) -> Outcome:
    """Upsert the bill by congress + type + number (never its title) and merge its actions and
    its amendments, cosponsors, titles, summaries and text versions, all in one transaction.

    Actions have no upstream id; each is keyed by BillAction.fingerprint_for (date, time, source
    system, action code, normalised text), because the same event arrives from several source
    systems with the same date and code but different wording. New actions write Activity; actions
    the API no longer lists are removed only when the list arrived complete.
    """
    now = timezone.now()
    values = {
        "title": record.title or None,
        "introduced_on": record.introduced_on,
        "latest_action_on": record.latest_action_on,
        "latest_action_text": record.latest_action_text,
        "public_law": record.public_law[:20] or None,
        "source_updated_at": record.changed_at,
    }
    # An empty title or law number in a payload never blanks what we have.
    values = {name: value for name, value in values.items() if value is not None}
    with transaction.atomic():
        bill = (
            Bill.objects.select_for_update()
            .filter(congress=record.congress, bill_type=record.bill_type, number=record.number)
            .first()
        )
        created = bill is None
        if created:
            bill = Bill.objects.create(
                congress=record.congress,
                bill_type=record.bill_type,
                number=record.number,
                last_synced_at=now,
                **values,
            )
            changed_fields = list(values)
        else:
            changed_fields = [
                name for name, value in values.items() if getattr(bill, name) != value
            ]
            for name in changed_fields:
                setattr(bill, name, values[name])
            bill.last_synced_at = now
            bill.save(update_fields=[*changed_fields, "last_synced_at"])
        new_actions = _merge_actions(bill, actions) if actions is not None else 0
        if new_actions or (actions is not None and actions.actions and not bill.stage):
            # What the new actions move: the bill's stage, its versions, provision statuses.
            follow_bill(bill)
        record_changes = 0
        # The first time, years of amendments, cosponsors and CBO estimates are history, not news.
        first_time = bill.records_synced_at is None
        if details is not None:
            record_changes = merge_bill_details(bill, details, announce=not first_time)
            if first_time:
                bill.records_synced_at = now
                bill.save(update_fields=["records_synced_at"])
        record_changes += merge_cost_estimates(bill, record.cost_estimates, announce=not first_time)
    counts = f"{new_actions} new actions, {record_changes} other changes"
    if created:
        return Outcome(CREATED, detail=counts)
    if changed_fields or new_actions or record_changes:
        return Outcome(UPDATED, detail=counts)
    return Outcome(UNCHANGED)


def _merge_actions(bill: Bill, actions: ActionList) -> int:
    existing = {
        fingerprint: (pk, position)
        for fingerprint, pk, position in BillAction.objects.filter(bill=bill).values_list(
            "fingerprint", "pk", "position"
        )
    }
    incoming: dict[str, BillAction] = {}
    # Congress.gov lists the newest first; the position counts from the oldest.
    total = len(actions.actions)
    for index, action in enumerate(actions.actions):
        fingerprint = BillAction.fingerprint_for(
            acted_on=action.acted_on,
            acted_at_time=action.acted_at_time,
            source_system_code=action.source_system_code,
            action_code=action.action_code,
            text=action.text,
        )
        incoming[fingerprint] = BillAction(
            bill=bill,
            acted_on=action.acted_on,
            acted_at_time=action.acted_at_time,
            text=action.text,
            action_type=action.action_type[:40],
            action_code=action.action_code[:20],
            source_system_code=action.source_system_code,
            fingerprint=fingerprint,
            position=total - index,
        )
    new = [action for fingerprint, action in incoming.items() if fingerprint not in existing]
    BillAction.objects.bulk_create(new)
    if actions.complete:
        moved = [
            BillAction(pk=existing[fingerprint][0], position=action.position)
            for fingerprint, action in incoming.items()
            if fingerprint in existing and existing[fingerprint][1] != action.position
        ]
        BillAction.objects.bulk_update(moved, ["position"])
    Activity.objects.bulk_create(
        Activity(
            negotiation_id=bill.negotiation_id,
            kind=ActivityKind.BILL_ACTION,
            occurred_at=_action_time(action.acted_on, action.acted_at_time),
            source="congress.gov",
            source_url=bill.congress_gov_url + "/all-actions" if bill.congress_gov_url else "",
            summary=f"{bill.label}: {action.text}"[:300],
            bill=bill,
        )
        for action in new
    )
    gone = [pk for fingerprint, (pk, _) in existing.items() if fingerprint not in incoming]
    if gone and actions.complete and incoming:
        # Re-worded or re-dated upstream: the API's list is the record; a short or empty list
        # (a missing page) never removes anything.
        BillAction.objects.filter(pk__in=gone).delete()
    return len(new)


# Amendments, cosponsors, titles, summaries, text versions --------------------------------------

# More news of one kind than this in one refresh (a bill seen for the first time lists all its
# cosponsors) becomes one timeline entry naming them, not a flood.
_NEWS_PER_KIND = 5


@dataclass
class _News:
    """Changes of one kind on one bill, told as timeline entries."""

    bill: Bill
    subpage: str
    lines: list[tuple[str, datetime | None]] = field(default_factory=list)

    def add(self, line: str, when: date | datetime | None = None) -> None:
        if isinstance(when, date) and not isinstance(when, datetime):
            when = _noon(when)
        self.lines.append((line, when))

    def activities(self, plural: str) -> list[Activity]:
        bill = self.bill
        url = f"{bill.congress_gov_url}/{self.subpage}" if bill.congress_gov_url else ""
        common = {
            "negotiation_id": bill.negotiation_id,
            "kind": ActivityKind.BILL_RECORD,
            "source": "congress.gov",
            "source_url": url,
            "bill": bill,
        }
        if len(self.lines) <= _NEWS_PER_KIND:
            return [
                Activity(
                    summary=f"{bill.label}: {line}"[:300],
                    occurred_at=when or timezone.now(),
                    **common,
                )
                for line, when in self.lines
            ]
        named = "; ".join(line for line, _ in self.lines)
        return [
            Activity(
                summary=f"{bill.label}: {len(self.lines)} {plural} — {named}"[:300],
                detail="\n".join(line for line, _ in self.lines),
                **common,
            )
        ]


def _sync_rows(
    model: type[models.Model], bill: Bill, key: tuple[str, ...], rows: list[dict], *, complete: bool
) -> tuple[list[dict], list[tuple[models.Model, list[str]]]]:
    """Merge one of the bill's lists, each row's identity being its `key` fields: create the
    rows not stored, update the changed ones, and delete stored rows the list no longer has,
    but only from a `complete` list and never from an empty one (a missing page or a glitch
    upstream must not wipe what we have). Returns (new rows, [(row, fields that changed)])."""
    existing = {
        tuple(getattr(row, name) for name in key): row for row in model.objects.filter(bill=bill)
    }
    incoming = {tuple(values[name] for name in key): values for values in rows}
    new = [values for identity, values in incoming.items() if identity not in existing]
    changed = []
    for identity, values in incoming.items():
        row = existing.get(identity)
        diff = [name for name, value in values.items() if row and getattr(row, name) != value]
        if diff:
            for name in diff:
                setattr(row, name, values[name])
            row.save(update_fields=diff)
            changed.append((row, diff))
    model.objects.bulk_create(model(bill=bill, **values) for values in new)
    gone = [row.pk for identity, row in existing.items() if identity not in incoming]
    if gone and incoming and complete:
        model.objects.filter(pk__in=gone).delete()
    return new, changed


def merge_bill_details(bill: Bill, details: BillDetails, *, announce: bool = True) -> int:
    """Store the bill's sub-resources; with `announce`, every addition or real change is told on
    the timeline. Returns the number of rows created or changed (removals are silent
    corrections)."""
    activities: list[Activity] = []
    count = 0

    new, changed = _sync_rows(
        Amendment,
        bill,
        ("congress", "amendment_type", "number"),
        [
            {
                "congress": a.congress,
                "amendment_type": a.amendment_type[:8],
                "number": a.number,
                "purpose": a.purpose,
                "description": a.description,
                "latest_action_on": a.latest_action_on,
                "latest_action_text": a.latest_action_text,
                "source_updated_at": a.updated_at,
            }
            for a in details.amendments
            if a.number > 0 and a.amendment_type
        ],
        complete="amendments" in details.complete,
    )
    # Only a new amendment is news: what later happens to it (agreed to, tabled) arrives as the
    # bill's own actions and votes, and saying it a third time would only crowd the timeline.
    news = _News(bill, "amendments")
    for values in new:
        what = values["purpose"] or values["description"] or values["latest_action_text"]
        news.add(f"{Amendment(**values).label} — {what}", values["latest_action_on"])
    activities += news.activities("amendments")
    count += len(new) + len(changed)

    # Cosponsors are linked to the member when we know them.
    members = dict(
        Stakeholder.objects.filter(
            bioguide_id__in=[c.bioguide_id for c in details.cosponsors if c.bioguide_id]
        ).values_list("bioguide_id", "pk")
    )
    new, changed = _sync_rows(
        Cosponsor,
        bill,
        ("bioguide_id",),
        [
            {
                "bioguide_id": c.bioguide_id[:10],
                "member_id": members.get(c.bioguide_id),
                "full_name": c.full_name[:200],
                "party": c.party[:20],
                "state": c.state[:2],
                "sponsored_on": c.sponsored_on,
                "is_original": c.is_original,
                "withdrawn_on": c.withdrawn_on,
            }
            for c in details.cosponsors
            if c.bioguide_id
        ],
        complete="cosponsors" in details.complete,
    )
    news = _News(bill, "cosponsors")
    for values in new:
        news.add(f"{values['full_name']} cosponsored", values["sponsored_on"])
    for cosponsor, diff in changed:
        if "withdrawn_on" in diff and cosponsor.withdrawn_on:
            news.add(f"{cosponsor.full_name} withdrew as a cosponsor", cosponsor.withdrawn_on)
    activities += news.activities("cosponsors")
    count += len(new) + len(changed)

    # Titles are bookkeeping: stored for the bill page, not news.
    new, changed = _sync_rows(
        BillTitle,
        bill,
        ("title_type", "title"),
        [{"title_type": t.title_type[:200], "title": t.title} for t in details.titles if t.title],
        complete="titles" in details.complete,
    )
    count += len(new) + len(changed)

    new, changed = _sync_rows(
        BillSummary,
        bill,
        ("version_code", "acted_on"),
        [
            {
                "version_code": s.version_code[:10],
                "acted_on": s.acted_on,
                "action_desc": s.action_desc[:200],
                "text": s.text,
                "source_updated_at": s.updated_at,
            }
            for s in details.summaries
        ],
        complete="summaries" in details.complete,
    )
    news = _News(bill, "")
    for values in new:
        news.add(
            f"CRS summary ({values['action_desc'] or values['version_code']})",
            values["source_updated_at"] or values["acted_on"],
        )
    activities += news.activities("summaries")
    count += len(new) + len(changed)

    new, changed = _sync_rows(
        BillTextVersion,
        bill,
        ("version_type", "dated"),
        [
            {
                "version_type": t.version_type[:200],
                "dated": t.dated,
                "formats": [list(pair) for pair in t.urls],
            }
            for t in details.texts
            if t.version_type
        ],
        complete="texts" in details.complete,
    )
    news = _News(bill, "text")
    for values in new:
        news.add(f"text published: {values['version_type']}", values["dated"])
    activities += news.activities("text versions")
    count += len(new) + len(changed)

    if announce:
        Activity.objects.bulk_create(activities)
    return count


def merge_cost_estimates(
    bill: Bill, estimates: tuple[CostEstimateRecord, ...], *, announce: bool = True
) -> int:
    """Store the bill's CBO cost estimates by their link, each tied to the package version it
    scores when its description names that version's day; with `announce`, each new one is told
    on the timeline (and so in digests). None is removed: a list that lacks one this time is no
    sign CBO withdrew it. Returns the number created or changed."""
    stored = {estimate.url: estimate for estimate in CostEstimate.objects.filter(bill=bill)}
    versions: list[PackageVersion] | None = None
    now = timezone.now()
    activities, count = [], 0
    for record in estimates:
        values = {
            "title": record.title[:500],
            "description": record.description,
            "published_at": record.published_at,
        }
        estimate = stored.get(record.url[:500])
        is_new = estimate is None
        if estimate is None:
            estimate = CostEstimate(bill=bill, url=record.url[:500], **values)
            changed = list(values)
        else:
            changed = [name for name, value in values.items() if getattr(estimate, name) != value]
            for name in changed:
                setattr(estimate, name, values[name])
        if not changed:
            continue
        if estimate.version_id is None:
            if versions is None:
                versions = list(PackageVersion.objects.filter(bill=bill))
            estimate.version = estimate.matching_version(versions)
        estimate.last_synced_at = now
        estimate.save()
        stored[estimate.url] = estimate
        count += 1
        if is_new:
            activities.append(
                Activity(
                    negotiation_id=bill.negotiation_id,
                    kind=ActivityKind.BILL_RECORD,
                    occurred_at=record.published_at or now,
                    source="congress.gov",
                    source_url=estimate.url,
                    summary=f"{bill.label}: new CBO cost estimate — {estimate.title}"[:300],
                    detail=estimate.scored_text,
                    bill=bill,
                )
            )
    if announce:
        Activity.objects.bulk_create(activities)
    return count


def _action_time(acted_on: date, acted_at: time | None) -> datetime:
    return datetime.combine(acted_on, acted_at or time(12), tzinfo=EASTERN)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=EASTERN)


# Members ----------------------------------------------------------------------------------------


def ingest_legislator(legislator: Legislator) -> Outcome:
    """Create or update a member by bioguide id (or LIS id), keeping our own display name."""
    with transaction.atomic():
        member = (
            Stakeholder.objects.select_for_update()
            .filter(bioguide_id=legislator.bioguide_id)
            .first()
        )
        if member is None and legislator.lis_id:
            member = (
                Stakeholder.objects.select_for_update().filter(lis_id=legislator.lis_id).first()
            )
        values = {
            "bioguide_id": legislator.bioguide_id,
            "kind": legislator.kind,
            "party": legislator.party,
            "state": legislator.state,
            "district": legislator.district,
            "in_office": True,
            "serving_since": legislator.serving_since,
            "serving_until": None,
        }
        if legislator.lis_id:
            values["lis_id"] = legislator.lis_id
        try:
            if member is None:
                Stakeholder.objects.create(
                    slug=slugify(f"{legislator.name} {legislator.bioguide_id}")[:80],
                    name=legislator.name,
                    role="Senator" if legislator.kind == "senator" else "Representative",
                    **values,
                )
                return Outcome(CREATED)
            changed = [name for name, value in values.items() if getattr(member, name) != value]
            if not changed:
                return Outcome(UNCHANGED)
            for name in changed:
                setattr(member, name, values[name])
            with transaction.atomic():
                member.save(update_fields=changed)
        except IntegrityError as error:
            raise IngestError(
                f"{legislator.bioguide_id}: another member already has LIS id "
                f"{legislator.lis_id} ({error})"
            ) from None
        return Outcome(UPDATED, detail=", ".join(changed))


# A file that lists fewer of a chamber than this (a truncated file, or one that lists only the
# Senate) says nothing about who left that chamber.
_FULL_CHAMBER = {StakeholderKind.SENATOR: 80, StakeholderKind.REPRESENTATIVE: 348}


def record_departures(listed: list[Legislator], *, on: date) -> int:
    """Members in office whom the current legislators list no longer names have left: they
    stop counting on boards after `on` (their record stays). Returns how many left."""
    left = 0
    for kind, enough in _FULL_CHAMBER.items():
        named = {person.bioguide_id for person in listed if person.kind == kind}
        if len(named) < enough:
            continue
        left += (
            Stakeholder.objects.filter(kind=kind, in_office=True)
            .exclude(bioguide_id="")
            .exclude(bioguide_id__in=named)
            .update(in_office=False, serving_until=on)
        )
    return left

"""Watch the feeds move the negotiation: rewind the demo to a day, then replay what Congress
published after it, day by day, through the real ingest (which moves stages, versions,
provision statuses and whip counts as it would on a live feed).

Rewinding is a demo tool, not history editing: it removes the bill actions after the day and
what the feeds wrote from them (their timeline entries, status moves, proposals, whip results),
unlinks whip counts settled after the day, and puts back at In text the provisions whose later
status (Passed Senate, Passed House, Enacted) is what the feeds settle. Staff judgement
(Dropped) and everything entered by hand stay as they are.
"""

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Q

from tracker.demo.replay import RECORDED_FEEDS
from tracker.feed_effects import follow_bill
from tracker.feeds import congress, house
from tracker.feeds.congress import ActionList, ActionRecord, BillRecord
from tracker.feeds.ingest import BillIndex, MemberIndex, ingest_bill, ingest_roll_call
from tracker.feeds.roll_calls import RollCall
from tracker.models import (
    Activity,
    ActivityKind,
    Bill,
    BillAction,
    Negotiation,
    Provision,
    ProvisionStatus,
    StatusProposal,
    Vote,
    VoteTarget,
)
from tracker.whip import settle_targets_for

EASTERN = ZoneInfo("America/New_York")
P = ProvisionStatus
# Statuses the feeds settle; rewound, they go back to the text stage they were in before.
_FEED_SETTLED = [P.PASSED_SENATE, P.PASSED_HOUSE, P.ENACTED]
# What the feeds wrote, removed when rewound past it.
_FEED_KINDS = [ActivityKind.BILL_ACTION, ActivityKind.PROPOSAL, ActivityKind.WHIP_RESULT]


@dataclass
class Day:
    """What Congress published on one day, as the recorded feeds have it."""

    day: date
    bills: dict[str, tuple[BillRecord, list[ActionRecord]]] = field(default_factory=dict)
    house_rolls: list[RollCall] = field(default_factory=list)


@transaction.atomic
def rewind(negotiation: Negotiation, day: date) -> dict[str, int]:
    """Take the negotiation back to the end of `day`; returns what was undone, by kind."""
    after = datetime.combine(day, time.max, tzinfo=EASTERN)
    bills = Bill.objects.filter(negotiation=negotiation)
    undone = {
        "bill actions": BillAction.objects.filter(bill__in=bills, acted_on__gt=day).delete()[0],
        "feed entries": Activity.objects.filter(negotiation=negotiation, occurred_at__gt=after)
        .filter(
            Q(kind__in=_FEED_KINDS)
            | Q(kind=ActivityKind.STATUS_CHANGE, actor__isnull=True, source="congress.gov")
        )
        .delete()[0],
        "proposals": StatusProposal.objects.filter(
            provision__negotiation=negotiation, event_on__gt=day
        ).delete()[0],
        "whip counts reopened": VoteTarget.objects.filter(
            negotiation=negotiation, vote__voted_on__gt=day
        ).update(vote=None),
        "provisions back to In text": Provision.objects.filter(
            negotiation=negotiation, status__in=_FEED_SETTLED
        ).update(status=P.IN_TEXT, revision=F("revision") + 1),
    }
    for bill in bills:
        # Forget when it was last synced so a live refresh would fetch it whole again.
        Bill.objects.filter(pk=bill.pk).update(source_updated_at=None, records_synced_at=None)
        follow_bill(bill)
    return undone


def recorded_days(negotiation: Negotiation, after: date, root: Path = RECORDED_FEEDS) -> list[Day]:
    """The days after `after` on which the recorded feeds have news for the negotiation."""
    days: dict[date, Day] = defaultdict(lambda: Day(date.min))
    for bill in Bill.objects.filter(negotiation=negotiation):
        folder = root / "congress" / "bill" / str(bill.congress) / bill.bill_type
        item = folder / f"{bill.number}.json"
        if not item.exists():
            continue
        record = congress.parse_bill(json.loads(item.read_text()))
        actions = [congress.parse_action(entry) for entry in _pages(folder / str(bill.number))]
        for action in actions:
            if action.acted_on > after:
                days[action.acted_on].bills[bill.key] = (record, actions)
    for path in sorted((root / "house").glob("*/roll*.xml")):
        roll = house.parse_roll(path.read_bytes(), source_url=_clerk_url(path))
        if roll.voted_on > after:
            days[roll.voted_on].house_rolls.append(roll)
    for day, news in days.items():
        news.day = day
    return [days[day] for day in sorted(days)]


def _pages(folder: Path) -> Iterator[dict]:
    """A bill's recorded actions, every page, newest first as the API lists them."""
    pages = [folder / "actions.json", *sorted(folder.glob("actions.offset-*.json"), key=_offset)]
    for page in pages:
        if page.exists():
            yield from json.loads(page.read_text())["actions"]


def _offset(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def _clerk_url(path: Path) -> str:
    return f"https://clerk.house.gov/evs/{path.parent.name}/{path.name}"


def replay(days: list[Day], *, say: Callable[[str], None] = print) -> None:
    """Bring in each day's news in order, as the feeds would have, saying what moved."""
    members, bills = MemberIndex("house"), BillIndex()
    for news in days:
        before = _counts()
        for record, actions in news.bills.values():
            shown = [action for action in actions if action.acted_on <= news.day]
            ingest_bill(record, ActionList(tuple(shown), len(shown)))
        for roll in news.house_rolls:
            ingest_roll_call(roll, members=members, bills=bills)
        # Roll calls entered by hand stand for the Senate's that day: they arrive as the feed
        # would bring them, and may settle a whip count.
        for vote in Vote.objects.filter(voted_on=news.day, chamber="senate").exclude(
            roll_number=None
        ):
            settle_targets_for(vote)
        say(f"{news.day:%b} {news.day.day}, {news.day.year}: {_moved(before, _counts())}")


def _counts() -> dict[str, int]:
    return {
        "bill actions": BillAction.objects.count(),
        "status moves": Activity.objects.filter(
            kind=ActivityKind.STATUS_CHANGE, actor__isnull=True, source="congress.gov"
        ).count(),
        "proposals": StatusProposal.objects.count(),
        "whip results": Activity.objects.filter(kind=ActivityKind.WHIP_RESULT).count(),
        "votes": Vote.objects.exclude(last_synced_at=None).count(),
    }


def _moved(before: dict[str, int], after: dict[str, int]) -> str:
    changes = [
        f"{after[name] - before[name]} {name}" for name in after if after[name] != before[name]
    ]
    return ", ".join(changes) or "nothing moved"

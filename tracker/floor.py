"""Where the negotiation stands on the floor, as the feeds tell it: each followed bill's stage,
the Senate procedure on a bill and the next step expected, the versions' standing and the
whip counts the roll calls settled; and the proposals waiting for an Editor. A few queries,
whatever the size of the negotiation."""

from dataclasses import dataclass, field

from tracker.bill_progress import FloorTrack, floor_track, in_order
from tracker.models import (
    Activity,
    ActivityKind,
    Bill,
    BillStage,
    Chamber,
    Negotiation,
    PackageVersion,
    StatusProposal,
    Vote,
)

# Stages after which a bill has no next floor step.
FINAL_STAGES = {BillStage.BECAME_LAW, BillStage.VETOED}


def bill_track(bill: Bill) -> FloorTrack:
    """The Senate floor procedure on `bill`, with its roll calls linked (two queries)."""
    votes = Vote.objects.filter(bill=bill, chamber=Chamber.SENATE).exclude(roll_number=None)
    vote_times = {
        (voted_on.year, roll): (pk, voted_at)
        for pk, voted_on, roll, voted_at in votes.values_list(
            "pk", "voted_on", "roll_number", "voted_at"
        )
    }
    return floor_track(in_order(list(bill.actions.all())), vote_times=vote_times)


@dataclass
class Standing:
    bills: list[Bill] = field(default_factory=list)
    lead: Bill | None = None
    next_step: str = ""
    versions: list[PackageVersion] = field(default_factory=list)
    results: list[Activity] = field(default_factory=list)


def where_it_stands(negotiation: Negotiation) -> Standing:
    """The negotiation's floor picture; the lead bill is the one whose stage moved last. The
    same for every viewer, so the dashboard keeps it drawn (the proposals, with their forms,
    come from open_proposals)."""
    bills = list(Bill.objects.filter(negotiation=negotiation).exclude(stage=""))
    bills.sort(key=lambda bill: (bill.stage_on is not None, bill.stage_on), reverse=True)
    lead = bills[0] if bills else None
    next_step = ""
    if lead is not None and lead.stage not in FINAL_STAGES:
        next_step = bill_track(lead).next_step
    return Standing(
        bills=bills,
        lead=lead,
        next_step=next_step,
        versions=list(
            PackageVersion.objects.filter(negotiation=negotiation).select_related("bill")
        ),
        results=list(
            Activity.objects.filter(negotiation=negotiation, kind=ActivityKind.WHIP_RESULT)
            .select_related("vote")
            .order_by("-occurred_at")[:3]
        ),
    )


def open_proposals(negotiation: Negotiation, *, shown: int = 10) -> list[StatusProposal]:
    """The status changes the feeds propose and no Editor has decided yet, the first `shown`."""
    return list(
        StatusProposal.objects.open()
        .filter(provision__negotiation=negotiation)
        .select_related("provision")[:shown]
    )

"""What the feeds move in the negotiation, beyond storing what Congress published.

When a bill's actions change, `follow_bill` (called in the ingest's own transaction) derives:
- the bill's stage (tracker/bill_progress.py), with the action that set it;
- where each package version on that bill stands: the first decisive action on the bill from
  the version's date until a later version of the bill takes over (passed a chamber, passed
  both, became law, vetoed, or a failed vote: cloture not invoked, failed of passage), so the
  Senate deal "failed cloture on Feb 7", the Senate-passed text "passed the Senate on Feb 13",
  the law "became Public Law 118-50";
- provision statuses, by the rules below, when a version's standing is newly settled.

The rules (also in the README):
- Moves the record settles are made, recorded as Activity by the feed (source congress.gov,
  linked to the bill's actions), once: a version passes the Senate (the House) -> its included
  provisions still before that stage move to Passed Senate (Passed House); a version becomes
  law -> its included provisions become Enacted.
- Moves that need judgement become proposals an Editor accepts or dismisses: a provision that
  was in an earlier version of the enacted bill but is not in the enacted version -> "Dropped?";
  a version failing a vote -> "Dropped?" for its provisions that no later version carries; a line
  whose inclusion the record does not confirm -> the move it would get, proposed.
- Never backwards, never a Dropped or Enacted provision, never over a staff status change made
  after the event's day; a staff member may undo a feed's move, and later runs respect that.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import Max

from tracker.bill_progress import ActionLike, bill_stage, in_order, is_failed_vote, stage_of
from tracker.models import (
    Activity,
    ActivityKind,
    Bill,
    Inclusion,
    PackageVersion,
    ProposalState,
    Provision,
    ProvisionStatus,
    StatusProposal,
    VersionLine,
    VersionStanding,
)

EASTERN = ZoneInfo("America/New_York")
FEED = "congress.gov"

P = ProvisionStatus
# How far along the workflow a status is; a feed only ever moves a provision forward.
_PROGRESS = {
    P.PROPOSED: 1,
    P.IN_NEGOTIATION: 2,
    P.AGREED_IN_PRINCIPLE: 3,
    P.IN_TEXT: 4,
    P.PASSED_SENATE: 5,
    P.PASSED_HOUSE: 5,
    P.ENACTED: 7,
}
# Staff judgement or the end of the road: a feed never moves these.
_NEVER_MOVED = {P.DROPPED, P.ENACTED}

# A version's standing from the decisive action that settled it.
_STANDING_OF_STAGE = {
    "passed_house": VersionStanding.PASSED_HOUSE,
    "passed_senate": VersionStanding.PASSED_SENATE,
    "passed_both": VersionStanding.PASSED_BOTH,
    "became_law": VersionStanding.BECAME_LAW,
    "vetoed": VersionStanding.VETOED,
}
_SETTLED_MOVE = {
    VersionStanding.PASSED_SENATE: P.PASSED_SENATE,
    VersionStanding.PASSED_HOUSE: P.PASSED_HOUSE,
    VersionStanding.BECAME_LAW: P.ENACTED,
}


@dataclass
class Followed:
    """What one bill's changed actions moved."""

    stage_changed: bool = False
    versions_settled: list[PackageVersion] = field(default_factory=list)
    moved: list[Activity] = field(default_factory=list)
    proposed: list[StatusProposal] = field(default_factory=list)


def follow_bill(bill: Bill) -> Followed:
    """Derive the bill's stage and its versions' standing from its stored actions, and move or
    propose provision statuses for versions newly settled. Safe to run again: a re-run writes
    nothing."""
    followed = Followed()
    actions = in_order(list(bill.actions.all()))
    stage = bill_stage(actions)
    on = stage.action.acted_on if stage.action else None
    text = stage.action.text if stage.action else ""
    if (bill.stage, bill.stage_on, bill.stage_text) != (stage.stage, on, text):
        bill.stage, bill.stage_on, bill.stage_text = stage.stage, on, text
        fields = ["stage", "stage_on", "stage_text"]
        if stage.public_law and bill.public_law != stage.public_law:
            bill.public_law = stage.public_law
            fields.append("public_law")
        bill.save(update_fields=fields)
        followed.stage_changed = True
    versions = list(bill.versions.order_by("dated", "id"))
    for index, version in enumerate(versions):
        # From the version's date until a later version of the bill takes over.
        later = versions[index + 1].dated if index + 1 < len(versions) else None
        decisive = _decisive_action(actions, version.dated, later)
        standing = _standing(decisive) if decisive else ""
        settled = (standing, decisive.acted_on if decisive else None)
        if (version.standing, version.standing_on) == settled:
            continue
        version.standing, version.standing_on = settled
        version.standing_text = decisive.text if decisive else ""
        version.save(update_fields=["standing", "standing_on", "standing_text"])
        if decisive is not None:
            followed.versions_settled.append(version)
            _apply_rules(bill, version, decisive, followed)
    return followed


def _decisive_action(
    actions: list[ActionLike], since: date, until: date | None
) -> ActionLike | None:
    """The first action from `since` (and before `until`) that settles where a version
    stands."""
    for action in actions:
        if action.acted_on < since:
            continue
        if until is not None and action.acted_on >= until:
            return None
        if stage_of(action) in _STANDING_OF_STAGE or is_failed_vote(action):
            return action
    return None


def _standing(action: ActionLike) -> str:
    return _STANDING_OF_STAGE.get(stage_of(action), VersionStanding.FAILED)


def _event_time(action: ActionLike) -> datetime:
    return datetime.combine(action.acted_on, action.acted_at_time or time(12), tzinfo=EASTERN)


def _apply_rules(
    bill: Bill, version: PackageVersion, action: ActionLike, followed: Followed
) -> None:
    """Move or propose the statuses of the provisions a newly settled version touches."""
    lines = {
        line.provision_id: line
        for line in VersionLine.objects.filter(version=version).select_related("provision")
    }
    included = {pk: line for pk, line in lines.items() if _is_included(line)}
    unconfirmed = {
        pk: line for pk, line in lines.items() if line.inclusion == Inclusion.UNCONFIRMED
    }
    standing = version.standing
    candidates: dict[int, tuple[str, str, bool]] = {}  # provision -> (status, reason, settled)
    if standing in _SETTLED_MOVE:
        target = _SETTLED_MOVE[standing]
        reason = f"{bill.label}: {action.text}"
        for pk in included:
            candidates[pk] = (target, reason, True)
        for pk in unconfirmed:
            candidates[pk] = (
                target,
                f"{reason} (the record does not confirm it is included)",
                False,
            )
    if standing == VersionStanding.BECAME_LAW:
        for pk in _left_out_of(version, set(included) | set(unconfirmed)):
            reason = f"Not in the version that became law ({bill.label}: {action.text})"
            candidates.setdefault(pk, (P.DROPPED, reason, False))
    if standing == VersionStanding.FAILED:
        carried_later = set(
            VersionLine.objects.filter(
                version__negotiation_id=version.negotiation_id, version__dated__gt=version.dated
            ).values_list("provision_id", flat=True)
        )
        reason = f"{version.name} failed: {action.text}"
        for pk in set(included) - carried_later:
            candidates[pk] = (P.DROPPED, reason, False)
    if not candidates:
        return
    provisions = Provision.objects.filter(pk__in=candidates).order_by("pk")
    staff_changed = dict(
        Activity.objects.filter(
            provision__in=candidates, kind=ActivityKind.STATUS_CHANGE, actor__isnull=False
        )
        .values_list("provision")
        .annotate(last=Max("occurred_at"))
        .values_list("provision", "last")
    )
    when = _event_time(action)
    key = f"{bill.key}:{version.slug}:{standing}"
    moved: list[Provision] = []
    for provision in provisions:
        status, reason, settled = candidates[provision.pk]
        last_staff = staff_changed.get(provision.pk)
        if last_staff is not None and last_staff.astimezone(EASTERN).date() > action.acted_on:
            continue  # staff said otherwise after the event: their judgement stands
        if provision.status in _NEVER_MOVED or provision.status == status:
            continue
        if status != P.DROPPED and _PROGRESS[provision.status] >= _PROGRESS[status]:
            continue  # never backwards
        if settled:
            followed.moved.append(
                provision.change_status(
                    status,
                    by=None,
                    note=reason,
                    allowed={status},
                    source=FEED,
                    source_url=bill.actions_url,
                    occurred_at=when,
                )
            )
            moved.append(provision)
        else:
            proposal = _propose(provision, status, reason, action, bill, key)
            if proposal is not None:
                followed.proposed.append(proposal)
    _supersede_moot_proposals(moved)


def _supersede_moot_proposals(provisions: list[Provision]) -> None:
    """Close the open proposals a move made moot: the provision is now at or past the status
    proposed, or enacted (which settles a proposal to drop it too)."""
    for provision in provisions:
        rank = _PROGRESS.get(provision.status, 0)
        moot = [
            status
            for status, progress in _PROGRESS.items()
            if progress <= rank or provision.status == P.ENACTED
        ]
        if provision.status == P.ENACTED:
            moot.append(P.DROPPED)
        provision.proposals.open().filter(proposed_status__in=moot).update(
            state=ProposalState.SUPERSEDED
        )


def _is_included(line: VersionLine) -> bool:
    if line.inclusion not in (Inclusion.INCLUDED, Inclusion.PARTIAL):
        return False
    return line.amount is None or line.amount > 0


def _left_out_of(enacted: PackageVersion, in_it: set[int]) -> set[int]:
    """Provisions an earlier version of the same bill carried that the enacted one does not."""
    earlier = VersionLine.objects.filter(
        version__bill_id=enacted.bill_id, version__dated__lt=enacted.dated
    ).exclude(inclusion=Inclusion.NOT_INCLUDED)
    return set(earlier.values_list("provision_id", flat=True)) - in_it


def _propose(
    provision: Provision,
    status: str,
    reason: str,
    action: ActionLike,
    bill: Bill,
    key: str,
) -> StatusProposal | None:
    proposal, created = StatusProposal.objects.get_or_create(
        provision=provision,
        proposed_status=status,
        event_key=key[:80],
        defaults={
            "reason": reason,
            "event_on": action.acted_on,
            "source": FEED,
            "source_url": bill.actions_url,
        },
    )
    if not created:
        return None
    Activity.objects.create(
        negotiation_id=provision.negotiation_id,
        kind=ActivityKind.PROPOSAL,
        occurred_at=_event_time(action),
        source=FEED,
        source_url=bill.actions_url,
        summary=f"{provision.title}: the feed proposes {proposal.get_proposed_status_display()}"[
            :300
        ],
        detail=reason,
        provision=provision,
        bill=bill,
    )
    return proposal

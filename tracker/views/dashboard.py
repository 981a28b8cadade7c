from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tracker.floor import where_it_stands
from tracker.funding import version_totals
from tracker.models import (
    Activity,
    Demand,
    Provision,
    SeenMarker,
    Vote,
    VoteTarget,
)
from tracker.views import live
from tracker.views.access import current_negotiation
from tracker.whip import build_board

DASHBOARD = "dashboard"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The negotiation at a glance: a status strip (stage, next floor step, the open whip count,
    what changed since the last visit), the latest activity, then the detail. Live: the page
    polls itself, and a poll gets the strip and the latest activity when anything changed."""
    polled = live.is_poll(request)
    if polled:
        not_modified, stamp = live.unchanged(request)
        if not_modified is not None:
            return not_modified
    else:
        stamp = live.current_stamp()
    negotiation = current_negotiation()
    standing = where_it_stands(negotiation)
    marker = SeenMarker.objects.for_page(request.user, DASHBOARD)
    open_targets = VoteTarget.objects.filter(negotiation=negotiation, vote__isnull=True).order_by(
        F("expected_on").asc(nulls_last=True)
    )
    next_target = open_targets.select_related("negotiation").prefetch_related("links").first()
    context = {
        "negotiation": negotiation,
        "standing": standing,
        "whip_board": build_board(next_target) if next_target is not None else None,
        "whip_target": next_target,
        "marker": marker,
        "changes_since": _changes_since(negotiation.pk, marker, stamp.activity),
        "seen_page": DASHBOARD,
        "latest_activity": Activity.objects.filter(negotiation=negotiation).for_timeline()[:12],
        **live.poll_context(request, stamp),
    }
    if polled:
        return live.stamped(render(request, "tracker/home.html#live-parts", context), stamp)
    context |= {
        "can_decide": request.user.has_perm("tracker.change_provision"),
        "versions": version_totals(negotiation.pk),
        "status_counts": Provision.objects.filter(negotiation=negotiation).status_counts(),
        "open_demands": Demand.objects.filter(negotiation=negotiation)
        .open()
        .select_related("demanded_by"),
        "recent_votes": Vote.objects.filter(bill__negotiation=negotiation)
        .select_related("bill")
        .order_by("-voted_on", "-roll_number")[:6],
        # Votes staff are counting toward: scheduled ones first, then those without a date.
        "vote_targets": open_targets[:5],
    }
    return live.stamped(render(request, "tracker/home.html", context), stamp)


def _changes_since(negotiation_id: int, marker: SeenMarker | None, stamp: int) -> int | None:
    """How many changes were recorded since the user's last visit (None on a first visit)."""
    if marker is None:
        return None
    return Activity.objects.filter(
        negotiation_id=negotiation_id, id__gt=marker.activity_id, id__lte=stamp
    ).count()

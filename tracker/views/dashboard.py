from collections.abc import Callable
from functools import cached_property

from django.contrib.auth.decorators import login_required
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from tracker.floor import Standing, open_proposals, where_it_stands
from tracker.funding import version_totals
from tracker.models import (
    Activity,
    Demand,
    Negotiation,
    Provision,
    SeenMarker,
    Vote,
    VoteTarget,
)
from tracker.page_cache import Stamp, kept
from tracker.views import live
from tracker.views.access import current_negotiation
from tracker.whip import build_board

DASHBOARD = "dashboard"
PAGE = "tracker/home.html"
# Open demands listed on the dashboard; the demands page has them all.
OPEN_DEMANDS_SHOWN = 10


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The negotiation at a glance: a status strip (stage, next floor step, the open whip count,
    what changed since the last visit), the latest activity, then the detail. Live: the page
    polls itself, and a poll gets the strip and the latest activity when anything changed.

    What is the same for every viewer (the floor, the whip count, the activity, the totals) is
    drawn once per data change (tracker/page_cache.py); the last visit and the forms are drawn
    for each request."""
    polled = live.is_poll(request)
    if polled:
        not_modified, stamp = live.unchanged(request)
        if not_modified is not None:
            return not_modified
    else:
        stamp = live.current_stamp()
    negotiation = current_negotiation()
    parts = _Parts(negotiation, stamp)
    marker = SeenMarker.objects.for_page(request.user, DASHBOARD)
    context = {
        "negotiation": negotiation,
        "floor_items": parts.floor_items(),
        "marker": marker,
        "changes_since": _changes_since(negotiation.pk, marker, stamp.activity),
        "seen_page": DASHBOARD,
        "latest_activity": parts.latest_activity(oob=polled),
        **live.poll_context(request, stamp),
    }
    if polled:
        return live.stamped(render(request, f"{PAGE}#live-parts", context), stamp)
    proposals = open_proposals(negotiation)
    context |= {
        "floor_record": parts.floor_record(),
        "proposals": proposals,
        # Asked only when there is something to decide (the permission costs two queries).
        "can_decide": bool(proposals) and request.user.has_perm("tracker.change_provision"),
        "detail": parts.detail(),
    }
    return live.stamped(render(request, PAGE, context), stamp)


class _Parts:
    """The dashboard's parts that every viewer sees alike, each drawn at most once per data
    stamp in this process; the floor picture behind two of them is read once per request."""

    def __init__(self, negotiation: Negotiation, stamp: Stamp) -> None:
        self.negotiation, self.stamp = negotiation, stamp

    @cached_property
    def standing(self) -> Standing:
        return where_it_stands(self.negotiation)

    def _kept(self, name: str, *vary_on: object, build: Callable[[], SafeString]) -> SafeString:
        return kept(
            f"dashboard-{name}", self.negotiation.pk, *vary_on, stamp=self.stamp, build=build
        )

    def floor_items(self) -> SafeString:
        """The strip's stage, next floor step and open whip count."""

        def build() -> SafeString:
            target = (
                _open_targets(self.negotiation)
                .select_related("negotiation")
                .prefetch_related("links")
                .first()
            )
            context = {
                "standing": self.standing,
                "whip_board": build_board(target) if target is not None else None,
                "whip_target": target,
            }
            return render_to_string(f"{PAGE}#floor-items", context)

        return self._kept("floor-items", build=build)

    def floor_record(self) -> SafeString:
        """Where it stands: the bills, the next step, the versions, the settled counts."""
        return self._kept(
            "floor-record",
            build=lambda: render_to_string(f"{PAGE}#floor-record", {"standing": self.standing}),
        )

    def latest_activity(self, *, oob: bool) -> SafeString:
        activities = Activity.objects.filter(negotiation=self.negotiation).for_timeline()
        return self._kept(
            "activity",
            oob,
            build=lambda: render_to_string(
                f"{PAGE}#activity", {"latest_activity": activities[:12], "oob": oob}
            ),
        )

    def detail(self) -> SafeString:
        """The summary, the versions' totals, provisions by status, open demands and votes."""

        def build() -> SafeString:
            negotiation = self.negotiation
            open_demands = Demand.objects.filter(negotiation=negotiation).open()
            context = {
                "negotiation": negotiation,
                "versions": version_totals(negotiation.pk),
                "status_counts": Provision.objects.filter(negotiation=negotiation).status_counts(),
                "open_demands": open_demands.select_related("demanded_by")[:OPEN_DEMANDS_SHOWN],
                "open_demand_count": open_demands.count(),
                "recent_votes": Vote.objects.filter(bill__negotiation=negotiation)
                .select_related("bill")
                .order_by("-voted_on", "-roll_number")[:6],
                # Votes staff are counting toward: scheduled ones first, then those without
                # a date.
                "vote_targets": _open_targets(negotiation)[:5],
            }
            return render_to_string(f"{PAGE}#detail", context)

        return self._kept("detail", build=build)


def _open_targets(negotiation: Negotiation) -> QuerySet[VoteTarget]:
    """Whip counts not yet settled by a roll call, the next expected first."""
    return VoteTarget.objects.filter(negotiation=negotiation, vote__isnull=True).order_by(
        F("expected_on").asc(nulls_last=True)
    )


def _changes_since(negotiation_id: int, marker: SeenMarker | None, stamp: int) -> int | None:
    """How many changes were recorded since the user's last visit (None on a first visit)."""
    if marker is None:
        return None
    return Activity.objects.filter(
        negotiation_id=negotiation_id, id__gt=marker.activity_id, id__lte=stamp
    ).count()

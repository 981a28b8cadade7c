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
    Vote,
    VoteTarget,
)
from tracker.views.access import current_negotiation


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The negotiation at a glance: toplines per version, provisions by status, open demands,
    recent votes and the latest activity."""
    negotiation = current_negotiation()
    return render(
        request,
        "tracker/home.html",
        {
            "negotiation": negotiation,
            "standing": where_it_stands(negotiation),
            "can_decide": request.user.has_perm("tracker.change_provision"),
            "versions": version_totals(negotiation.pk),
            "status_counts": Provision.objects.filter(negotiation=negotiation).status_counts(),
            "open_demands": Demand.objects.filter(negotiation=negotiation)
            .open()
            .select_related("demanded_by"),
            "recent_votes": Vote.objects.filter(bill__negotiation=negotiation)
            .select_related("bill")
            .order_by("-voted_on", "-roll_number")[:6],
            "latest_activity": Activity.objects.filter(negotiation=negotiation).for_timeline()[:12],
            # Votes staff are counting toward: scheduled ones first, then those without a date.
            "vote_targets": VoteTarget.objects.filter(
                negotiation=negotiation, vote__isnull=True
            ).order_by(F("expected_on").asc(nulls_last=True))[:5],
        },
    )

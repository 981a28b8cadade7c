from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tracker.models import (
    Activity,
    Demand,
    PackageVersion,
    Provision,
    ProvisionStatus,
    Unit,
    VersionLine,
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
            "versions": version_totals(negotiation.pk),
            "status_counts": status_counts(negotiation.pk),
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


def version_totals(negotiation_id: int) -> list[PackageVersion]:
    """Each version with its stated topline and the sum of its top-level dollar lines."""
    summed = dict(
        VersionLine.objects.filter(
            version__negotiation_id=negotiation_id,
            provision__parent__isnull=True,
            provision__is_memo=False,
            provision__unit=Unit.USD,
            amount__isnull=False,
        )
        .values_list("version")
        .annotate(total=Sum("amount"))
        .values_list("version", "total")
    )
    versions = list(PackageVersion.objects.filter(negotiation_id=negotiation_id))
    for version in versions:
        version.lines_total = summed.get(version.pk)
    return versions


def status_counts(negotiation_id: int) -> list[tuple[str, str, int]]:
    """(status, label, count) for every status of the workflow, zeros included."""
    counted = dict(
        Provision.objects.filter(negotiation_id=negotiation_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [(value, label, counted.get(value, 0)) for value, label in ProvisionStatus.choices]


def health(request: HttpRequest) -> HttpResponse:
    """For load balancers, container health checks and the page benchmark's baseline."""
    return HttpResponse("ok", content_type="text/plain")

"""Roll-call votes as the chambers published them, member by member, each with where it came
from and when the feed last checked it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from tracker.forms import VoteFilterForm
from tracker.models import Bill, Vote
from tracker.models.votes import casts_match_tally, group_casts
from tracker.views.access import current_negotiation
from tracker.views.paging import paginate

PAGE_SIZE = 25


def _get_vote(pk: int) -> Vote:
    return get_object_or_404(Vote.objects.select_related("bill"), pk=pk)


@login_required
@require_GET
def vote_list(request: HttpRequest) -> HttpResponse:
    """The negotiation's roll calls, newest first, by chamber if asked."""
    negotiation = current_negotiation()
    filters = VoteFilterForm(request.GET or None)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    bill = get_object_or_404(Bill, pk=wanted["bill"]) if wanted.get("bill") else None
    # The negotiation's votes are those on its bills, as on the dashboard; or one bill's.
    votes = (
        Vote.objects.filter(bill=bill)
        if bill
        else Vote.objects.filter(bill__negotiation=negotiation)
    )
    votes = votes.select_related("bill")
    if wanted.get("chamber"):
        votes = votes.filter(chamber=wanted["chamber"])
    page, query = paginate(request, votes.order_by("-voted_on", "-roll_number", "-pk"), PAGE_SIZE)
    template = "votes/list.html#results" if request.htmx else "votes/list.html"
    return render(
        request,
        template,
        {
            "negotiation": negotiation,
            "bill": bill,
            "filters": filters,
            "page": page,
            "query": query,
        },
        status=400 if filters.errors else 200,
    )


@login_required
@require_GET
def vote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The roll call as published, member by member, grouped by how each voted."""
    vote = _get_vote(pk)
    # One query for every cast, however many: up to 435 in the House.
    casts = list(vote.casts.select_related("member").order_by("member__name", "pk"))
    groups = group_casts(casts)
    return render(
        request,
        "votes/detail.html",
        {
            "vote": vote,
            "cast_groups": groups,
            "cast_count": len(casts),
            "casts_match_tally": casts_match_tally(vote, groups),
            "whip_targets": vote.targets.all(),
        },
    )

"""Roll-call votes as the chambers published them, member by member, each with where it came
from and when the feed last checked it."""

from typing import NamedTuple

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from tracker.forms import VoteFilterForm
from tracker.models import Bill, Vote
from tracker.models.votes import casts_match_tally, group_casts
from tracker.page_cache import current_stamp, kept
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

    def draw_results() -> str:
        page, query = paginate(
            request, votes.order_by("-voted_on", "-roll_number", "-pk"), PAGE_SIZE
        )
        return render_to_string(
            "votes/list.html#results", {"filters": filters, "page": page, "query": query}
        )

    # The same for everyone who asks for the same filters and page, until a feed run or an
    # edit moves the stamp.
    results = mark_safe(  # noqa: S308  (drawn by the template)
        kept(
            "vote-list",
            negotiation.pk,
            request.GET.urlencode(),
            stamp=current_stamp(),
            build=draw_results,
        )
    )
    status = 400 if filters.errors else 200
    if request.htmx:
        return HttpResponse(results, status=status)
    return render(
        request,
        "votes/list.html",
        {"negotiation": negotiation, "bill": bill, "filters": filters, "results": results},
        status=status,
    )


class CastLine(NamedTuple):
    """One member's cast, as printed: only what the list shows, read as a tuple."""

    member_id: int
    name: str
    party: str
    state: str
    cast: str
    published_as: str


def _cast_items(casts: list[CastLine], usual: str, member_url: tuple[str, str]) -> SafeString:
    """A group's members as list items: up to 435 in the House, so written here with one
    reverse() for the list rather than a template loop with one per member."""
    start, end = member_url
    items = []
    for cast in casts:
        published = ""
        if cast.published_as != usual:
            published = f' <span class="published">“{escape(cast.published_as)}”</span>'
        items.append(
            f'\n        <li><a href="{start}{cast.member_id}{end}">{escape(cast.name)}</a>'
            f' <span class="muted">({escape(cast.party or "—")}-{escape(cast.state or "—")})'
            f"</span>{published}</li>\n      "
        )
    return mark_safe("".join(items))  # noqa: S308  (every value escaped above)


def _casts_section(vote: Vote) -> str:
    """How each member voted, grouped: the same for everyone until the roll call changes."""
    # One query for every cast, however many: up to 435 in the House.
    casts = [
        CastLine(*row)
        for row in vote.casts.order_by("member__name", "pk").values_list(
            "member_id", "member__name", "party", "state", "cast", "published_as"
        )
    ]
    groups = group_casts(casts)  # type: ignore[arg-type]  # reads .cast and .published_as
    start, end = reverse("tracker-stakeholder-detail", args=[0]).rsplit("/0/", 1)
    member_url = (f"{start}/", f"/{end}")
    return render_to_string(
        "votes/detail.html#casts",
        {
            "vote": vote,
            "cast_groups": [
                (group, _cast_items(group.casts, group.usual, member_url)) for group in groups
            ],
            "cast_count": len(casts),
            "casts_match_tally": casts_match_tally(vote, groups),
        },
    )


@login_required
@require_GET
def vote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The roll call as published, member by member, grouped by how each voted."""
    vote = _get_vote(pk)
    # Casts change only when a feed run brings the roll call again (or an admin edits it),
    # and either moves the stamp.
    casts = kept("vote-casts", vote.pk, stamp=current_stamp(), build=lambda: _casts_section(vote))
    return render(
        request,
        "votes/detail.html",
        {
            "vote": vote,
            "casts": mark_safe(casts),  # noqa: S308  (drawn by the template)
            "whip_targets": vote.targets.all(),
        },
    )

"""Bills and roll-call votes as Congress published them, each with where it came from and when
the feed last checked it."""

import html
import re
from collections import Counter
from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.html import strip_tags
from django.views.decorators.http import require_GET

from tracker.forms import MAX_ID
from tracker.models import Bill, BillSummary, CastChoice, Chamber, Vote, VoteCast
from tracker.views.access import current_negotiation

PAGE_SIZE = 25

# The order a roll call is read in, and the group names staff know (not CastChoice's longer
# "Other (e.g. a candidate's name)").
CAST_GROUPS = [
    (CastChoice.YES, "Yes"),
    (CastChoice.NO, "No"),
    (CastChoice.PRESENT, "Present"),
    (CastChoice.ABSENT, "Not voting"),
    (CastChoice.OTHER, "Other"),
]

# Block-level tags end a line, so a CRS summary's paragraphs and list items stay apart once
# its tags are stripped.
_BLOCK_END = re.compile(r"</(p|li|h\d|div|ul|ol|tr)\s*>|<br\s*/?>", re.IGNORECASE)


VOTES_ON_BILL_PAGE = 20


class VoteFilterForm(forms.Form):
    chamber = forms.ChoiceField(
        required=False, choices=[("", "Both chambers"), *Chamber.choices], label="Chamber"
    )
    # Set by a bill page's "all votes on it" link.
    bill = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )


@dataclass
class CastGroup:
    """The members who cast one normalised vote, and the wording most of them were printed
    with (none for "Other", where each cast is its own name)."""

    cast: str
    label: str
    casts: list[VoteCast]
    usual: str

    @property
    def count(self) -> int:
        return len(self.casts)

    @property
    def printed_as(self) -> str:
        """The chamber's word for the group when it is not the group's name, e.g. "Yea"."""
        return self.usual if self.usual.lower() != self.label.lower() else ""


def group_casts(casts: list[VoteCast]) -> list[CastGroup]:
    """The roll call's casts by normalised vote, in reading order; empty groups left out."""
    by_cast: dict[str, list[VoteCast]] = {cast: [] for cast, _ in CAST_GROUPS}
    for cast in casts:
        by_cast.setdefault(cast.cast, []).append(cast)
    groups = []
    for cast, label in CAST_GROUPS:
        members = by_cast[cast]
        if not members:
            continue
        usual = ""
        if cast != CastChoice.OTHER:
            usual = Counter(c.published_as for c in members).most_common(1)[0][0]
        groups.append(CastGroup(cast=cast, label=label, casts=members, usual=usual))
    return groups


def casts_match_tally(vote: Vote, groups: list[CastGroup]) -> bool:
    """Whether the member-by-member record adds up to the yeas and nays the chamber printed
    (true when there is nothing to compare)."""
    if vote.yeas is None or not groups:
        return True
    counted = {group.cast: group.count for group in groups}
    return (counted.get(CastChoice.YES, 0), counted.get(CastChoice.NO, 0)) == (
        vote.yeas,
        vote.nays,
    )


def summary_as_text(published: str) -> str:
    """A CRS summary's HTML as plain text: tags dropped, entities read, paragraphs kept apart.
    The template escapes the result, so nothing in a summary is ever run as markup."""
    text = html.unescape(strip_tags(_BLOCK_END.sub("\n", published)))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _get_bill(pk: int) -> Bill:
    return get_object_or_404(Bill, pk=pk)


def _get_vote(pk: int) -> Vote:
    return get_object_or_404(Vote.objects.select_related("bill"), pk=pk)


@login_required
@require_GET
def bill_list(request: HttpRequest) -> HttpResponse:
    """The negotiation's bills with their latest action and where that came from."""
    negotiation = current_negotiation()
    bills = Bill.objects.filter(negotiation=negotiation)
    return render(request, "bills/list.html", {"negotiation": negotiation, "bills": bills})


@login_required
@require_GET
def bill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything Congress.gov published about the bill that the feed brought in."""
    bill = _get_bill(pk)
    # Undated records last (PostgreSQL would sort them first): "latest" must be the latest.
    summaries: list[BillSummary] = list(
        bill.summaries.order_by(F("acted_on").desc(nulls_last=True), "-version_code")
    )
    for summary in summaries:
        summary.plain_text = summary_as_text(summary.text)
    cosponsors = list(bill.cosponsors.select_related("member"))
    withdrawn = sum(1 for c in cosponsors if c.withdrawn_on)
    return render(
        request,
        "bills/detail.html",
        {
            "bill": bill,
            "versions": bill.versions.all(),
            "actions": bill.actions.all(),
            "amendments": bill.amendments.all(),
            "cosponsors": cosponsors,
            "withdrawn_count": withdrawn,
            "active_cosponsors": len(cosponsors) - withdrawn,
            "latest_summary": summaries[0] if summaries else None,
            "earlier_summaries": summaries[1:],
            "texts": bill.texts.order_by(F("dated").desc(nulls_last=True), "version_type"),
            "titles": bill.titles.all(),
            "votes": bill.votes.order_by("-voted_on", "-roll_number", "-pk")[:VOTES_ON_BILL_PAGE],
            "vote_count": bill.votes.count(),
        },
    )


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
    page = Paginator(votes.order_by("-voted_on", "-roll_number", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    template = "votes/list.html#results" if request.htmx else "votes/list.html"
    return render(
        request,
        template,
        {
            "negotiation": negotiation,
            "bill": bill,
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
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

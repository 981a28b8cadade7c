"""Bills as Congress.gov published them, each with where it came from and when the feed last
checked it."""

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from tracker.floor import bill_track
from tracker.models import Bill, BillSummary
from tracker.page_cache import current_stamp, kept
from tracker.views.access import current_negotiation

VOTES_ON_BILL_PAGE = 20


def _get_bill(pk: int) -> Bill:
    return get_object_or_404(Bill, pk=pk)


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
    content = kept("bill-detail", bill.pk, stamp=current_stamp(), build=lambda: _content(bill))
    return render(request, "bills/detail.html", {"bill": bill, "content": content})


def _content(bill: Bill) -> str:
    """The bill's page, drawn: the same for every viewer (no form on it), so kept per bill
    until something changes (a feed run ends, an admin edits)."""
    # Undated records last (PostgreSQL would sort them first): "latest" must be the latest.
    summaries: list[BillSummary] = list(
        bill.summaries.order_by(F("acted_on").desc(nulls_last=True), "-version_code")
    )
    cosponsors = list(bill.cosponsors.select_related("member"))
    withdrawn = sum(1 for c in cosponsors if c.withdrawn_on)
    return render_to_string(
        "bills/detail.html#content",
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
            "track": bill_track(bill),
            "vote_count": bill.votes.count(),
        },
    )

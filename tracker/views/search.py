"""The one search box: everything in the negotiation at once, grouped by kind."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tracker.page_cache import current_stamp, kept
from tracker.search import MAX_QUERY, search
from tracker.views.access import current_negotiation


@login_required
@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    """Results as a page (Enter, or without JavaScript) or, as staff type in the header's box,
    as the panel under it."""
    query = request.GET.get("q", "")[:MAX_QUERY]
    if request.htmx and not query.strip():
        return HttpResponse("")  # the box was emptied: the panel closes
    negotiation = current_negotiation()
    # The same for every viewer: kept per query until something changes.
    results = kept(
        "search",
        negotiation.pk,
        " ".join(query.split()),
        stamp=current_stamp(),
        build=lambda: search(query, negotiation),
    )
    template = "search/results.html#panel" if request.htmx else "search/results.html"
    return render(request, template, {"results": results, "query": results.query})

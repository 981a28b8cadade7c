"""The funding comparison across the package's versions, as a page, a chart and a CSV, each
drawn once per data change (tracker/page_cache.py): at scale the table has thousands of cells."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from tracker.charts import grouped_bars
from tracker.exports import csv_file, csv_text, funding_header, funding_rows
from tracker.funding import funding_comparison
from tracker.models import Negotiation
from tracker.page_cache import current_stamp, kept
from tracker.views.access import current_negotiation


def _get_negotiation(request: HttpRequest) -> Negotiation:
    slug = request.GET.get("negotiation")
    if slug:
        return get_object_or_404(Negotiation, slug=slug)
    return current_negotiation()


def _pick_negotiation(request: HttpRequest, negotiations: list[Negotiation]) -> Negotiation:
    """The asked-for negotiation out of the picker's list, saving the page a query."""
    slug = request.GET.get("negotiation")
    if not slug:
        return current_negotiation()
    for negotiation in negotiations:
        if negotiation.slug == slug:
            return negotiation
    raise Http404(f"No negotiation {slug!r}.")


def _hide_empty(request: HttpRequest) -> bool:
    """?empty=hide: versions with no figure in any line are left out, of the page and the CSV."""
    return request.GET.get("empty") == "hide"


def _query(request: HttpRequest, *, hide_empty: bool) -> str:
    """The page's own query string with the empty versions hidden or not; the rest is kept."""
    query = request.GET.copy()
    query.pop("empty", None)
    if hide_empty:
        query["empty"] = "hide"
    return f"?{query.urlencode()}" if query else ""


@login_required
@require_GET
def funding_compare(request: HttpRequest) -> HttpResponse:
    """The table, its chart and the CSV link. All of it but the heading is the same for every
    viewer of the same negotiation and query, so it is drawn once per data change."""
    negotiations = list(Negotiation.objects.only("slug", "name"))
    negotiation = _pick_negotiation(request, negotiations)
    hide_empty = _hide_empty(request)
    # The CSV follows the page: the same versions, hidden or not.
    csv_query = _query(request, hide_empty=hide_empty)
    toggle_query = _query(request, hide_empty=not hide_empty) or "?"

    def draw() -> str:
        comparison = funding_comparison(negotiation, hide_empty=hide_empty)
        chart = grouped_bars(
            [version.get_stage_display() for version in comparison.versions],
            comparison.chart_series,
        )
        context = {
            "negotiation": negotiation,
            "comparison": comparison,
            "chart": chart,
            "negotiations": negotiations,
            "csv_query": csv_query,
            "toggle_query": toggle_query,
        }
        return render_to_string("funding/compare.html#comparison", context)

    part = kept(
        "funding",
        negotiation.pk,
        hide_empty,
        csv_query,
        toggle_query,
        stamp=current_stamp(),
        build=draw,
    )
    context = {"negotiation": negotiation, "comparison_part": part}
    return render(request, "funding/compare.html", context)


@login_required
@require_GET
def funding_compare_csv(request: HttpRequest) -> HttpResponse:
    negotiation = _get_negotiation(request)
    hide_empty = _hide_empty(request)

    def write() -> tuple[str, str]:
        comparison = funding_comparison(negotiation, hide_empty=hide_empty)
        suffix = "-with-figures" if comparison.hides_empty else ""
        header, rows = funding_header(comparison), funding_rows(comparison)
        return f"funding-{negotiation.slug}{suffix}.csv", csv_text(header, rows)

    name, text = kept("funding-csv", negotiation.pk, hide_empty, stamp=current_stamp(), build=write)
    return csv_file(name, text)

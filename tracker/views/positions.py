"""The position grid, on the page and as a CSV."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tracker.exports import csv_response
from tracker.forms import GridFilterForm
from tracker.position_grid import build_position_grid
from tracker.views.access import current_negotiation


@login_required
def position_grid(request: HttpRequest) -> HttpResponse:
    """Stakeholders down the side, key provisions and demands across, current stance in each
    cell. Four queries whatever the size: stakeholders, provisions, demands, positions."""
    negotiation = current_negotiation()
    filters = GridFilterForm(request.GET or None)
    show = filters.cleaned_data["show"] if filters.is_valid() else ""
    grid = build_position_grid(negotiation, show or "senators")
    template = "positions/grid.html#grid" if request.htmx else "positions/grid.html"
    context = {"filters": filters, "show": show or "senators", **grid}
    return render(request, template, context, status=400 if filters.errors else 200)


@login_required
def position_grid_csv(request: HttpRequest) -> HttpResponse:
    """The grid as the page shows it, for a spreadsheet."""
    negotiation = current_negotiation()
    filters = GridFilterForm(request.GET or None)
    show = (filters.cleaned_data["show"] if filters.is_valid() else "") or "senators"
    grid = build_position_grid(negotiation, show)
    header = ["Stakeholder", *(target.title for _, _, target in grid["columns"])]
    rows = [[str(row.person), *(cell.text for cell in row.cells)] for row in grid["rows"]]
    return csv_response(f"positions-{negotiation.slug}-{show}.csv", header, rows)

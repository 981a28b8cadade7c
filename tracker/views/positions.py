"""The position grid, on the page and as a CSV."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from tracker.exports import csv_file, csv_text
from tracker.forms import GridFilterForm
from tracker.models import Negotiation
from tracker.page_cache import current_stamp, kept
from tracker.position_grid import build_position_grid
from tracker.views.access import current_negotiation


def _grid_filters(request: HttpRequest) -> tuple[GridFilterForm, dict]:
    """The filter form and what it asks for (the defaults where it is not valid)."""
    filters = GridFilterForm(request.GET or None)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    return filters, {
        "show": wanted.get("show") or "senators",
        "hide_derived": wanted.get("hide_derived", False),
        "primary_only": wanted.get("primary_only", False),
    }


@login_required
def position_grid(request: HttpRequest) -> HttpResponse:
    """Stakeholders down the side, key provisions and demands across, current stance in each
    cell. The grid is the same for everyone who asks for the same filters: drawn once per
    change and kept."""
    negotiation = current_negotiation()
    filters, wanted = _grid_filters(request)
    if filters.errors:
        # Drawn with the errors, and never kept: any text can be in a crafted link.
        grid = _draw_grid(negotiation, wanted, filters)
    else:
        grid = kept(
            "position-grid",
            negotiation.pk,
            *wanted.values(),
            stamp=current_stamp(),
            build=lambda: _draw_grid(negotiation, wanted, filters),
        )
    status = 400 if filters.errors else 200
    if request.htmx:
        return HttpResponse(grid, status=status)
    context = {"filters": filters, **wanted, "query": request.GET.urlencode(), "grid": grid}
    return render(request, "positions/grid.html", context, status=status)


def _draw_grid(negotiation: Negotiation, wanted: dict, filters: GridFilterForm) -> str:
    grid = build_position_grid(negotiation, **wanted)
    context = {"filters": filters, **grid, "tallies": _tallies(grid["rows"], len(grid["columns"]))}
    return render_to_string("positions/grid.html#grid", context)


def _tallies(rows: list, width: int) -> list[tuple[int, int]]:
    """(support, oppose) per column, firm and leaning together, from the cells shown."""
    tallies = [[0, 0] for _ in range(width)]
    for row in rows:
        for index, cell in enumerate(row.cells):
            if cell.stance in ("firm_support", "lean_support"):
                tallies[index][0] += 1
            elif cell.stance in ("firm_oppose", "lean_oppose"):
                tallies[index][1] += 1
    return [(support, oppose) for support, oppose in tallies]


@login_required
def position_grid_csv(request: HttpRequest) -> HttpResponse:
    """The grid as the page shows it, for a spreadsheet: each cell says where its stance comes
    from (the roll call and its question, or the source's type). Kept like the page."""
    negotiation = current_negotiation()
    _, wanted = _grid_filters(request)
    text = kept(
        "position-grid-csv",
        negotiation.pk,
        *wanted.values(),
        stamp=current_stamp(),
        build=lambda: _grid_csv(negotiation, wanted),
    )
    return csv_file(f"positions-{negotiation.slug}-{wanted['show']}.csv", text)


def _grid_csv(negotiation: Negotiation, wanted: dict) -> str:
    grid = build_position_grid(negotiation, **wanted)
    header = ["Stakeholder", *(target.title for _, _, target in grid["columns"])]
    rows = [[str(row.person), *(cell.text for cell in row.cells)] for row in grid["rows"]]
    return csv_text(header, rows)

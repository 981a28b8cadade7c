from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from tracker.exports import csv_response
from tracker.forms import GridFilterForm, NoteForm, PositionForm, StakeholderFilterForm
from tracker.models import (
    Activity,
    ActivityKind,
    Demand,
    Negotiation,
    Position,
    Provision,
    ProvisionKind,
    Stakeholder,
    StakeholderKind,
    Stance,
    VoteCast,
)
from tracker.views.access import current_negotiation, permission_needed
from tracker.views.editing import add_note

PAGE_SIZE = 50
GRID_COLUMNS = 16
GRID_ROWS = 120


def _get_stakeholder(pk: int) -> Stakeholder:
    return get_object_or_404(Stakeholder, pk=pk)


@login_required
def stakeholder_list(request: HttpRequest) -> HttpResponse:
    filters = StakeholderFilterForm(request.GET or None)
    stakeholders = Stakeholder.objects.all()
    if filters.is_valid():
        wanted = filters.cleaned_data
        if wanted["q"]:
            stakeholders = stakeholders.filter(
                Q(name__icontains=wanted["q"]) | Q(role__icontains=wanted["q"])
            )
        if wanted["kind"]:
            stakeholders = stakeholders.filter(kind=wanted["kind"])
        if wanted["chamber"]:
            stakeholders = stakeholders.in_chamber(wanted["chamber"])
        if wanted["party"]:
            stakeholders = stakeholders.filter(party=wanted["party"])
        if wanted["state"]:
            stakeholders = stakeholders.filter(state=wanted["state"])
    page = Paginator(stakeholders.order_by("name"), PAGE_SIZE).get_page(request.GET.get("page"))
    # Positions counted for this page only, not for every stakeholder before paging.
    counts = dict(
        Position.objects.filter(stakeholder__in=[s.pk for s in page])
        .values_list("stakeholder")
        .annotate(n=Count("id"))
        .values_list("stakeholder", "n")
    )
    for stakeholder in page:
        stakeholder.position_count = counts.get(stakeholder.pk, 0)
    query = request.GET.copy()
    query.pop("page", None)
    template = "stakeholders/list.html#results" if request.htmx else "stakeholders/list.html"
    context = {"filters": filters, "page": page, "query": query.urlencode()}
    return render(request, template, context, status=400 if filters.errors else 200)


@login_required
def stakeholder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    stakeholder = _get_stakeholder(pk)
    return render(request, "stakeholders/detail.html", _detail_context(request, stakeholder))


def _targets(negotiation: Negotiation) -> tuple[list[Provision], list[Demand]]:
    provisions = list(Provision.objects.filter(negotiation=negotiation).order_by("kind", "title"))
    demands = list(Demand.objects.filter(negotiation=negotiation).order_by("title"))
    return provisions, demands


def _detail_context(request: HttpRequest, stakeholder: Stakeholder, **extra: object) -> dict:
    can_record = request.user.has_perm("tracker.add_position")
    context = {
        "stakeholder": stakeholder,
        "current": Position.objects.filter(stakeholder=stakeholder)
        .current()
        .select_related("provision", "demand")
        .order_by("provision__title", "demand__title"),
        "history": stakeholder.positions.select_related(
            "provision", "demand", "recorded_by", "derived_from_vote"
        ),
        "casts": VoteCast.objects.filter(member=stakeholder)
        .select_related("vote")
        .order_by("-vote__voted_on")[:20],
        "demands": stakeholder.demands.all(),
        "notes": Activity.objects.filter(
            stakeholder=stakeholder, kind=ActivityKind.NOTE
        ).select_related("actor")[:20],
        "note_form": NoteForm(),
        "can_record": can_record,
        "can_note": request.user.has_perm("tracker.add_activity"),
    }
    if can_record and "position_form" not in extra:
        provisions, demands = _targets(current_negotiation())
        context["position_form"] = PositionForm(provisions=provisions, demands=demands)
    return context | extra


@permission_needed("tracker.add_position", "record positions")
@require_POST
def position_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a stakeholder's stance; the old one stays in the history."""
    stakeholder = _get_stakeholder(pk)
    provisions, demands = _targets(current_negotiation())
    form = PositionForm(request.POST, provisions=provisions, demands=demands)
    if not form.is_valid():
        if not request.htmx:
            messages.error(request, "The position was not recorded: see the form below.")
        context = _detail_context(request, stakeholder, position_form=form)
        template = (
            "stakeholders/detail.html#positions" if request.htmx else "stakeholders/detail.html"
        )
        return TemplateResponse(request, template, context, status=422)
    position = stakeholder.record_position(by=request.user, **form.position_kwargs())
    if not request.htmx:
        messages.success(request, f"Recorded: {position}.")
        return redirect(stakeholder.get_absolute_url())
    provisions, demands = _targets(current_negotiation())
    context = _detail_context(
        request,
        stakeholder,
        just_recorded=position,
        position_form=PositionForm(provisions=provisions, demands=demands),
    )
    return TemplateResponse(request, "stakeholders/detail.html#positions", context)


@permission_needed("tracker.add_activity", "add notes")
@require_POST
def stakeholder_note(request: HttpRequest, pk: int) -> HttpResponse:
    stakeholder = _get_stakeholder(pk)
    refused = add_note(request, stakeholder)
    if refused is not None:
        context = _detail_context(request, stakeholder, note_form=refused)
        return TemplateResponse(request, "stakeholders/detail.html", context, status=422)
    return redirect(stakeholder.get_absolute_url())


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


def build_position_grid(negotiation: Negotiation, show: str) -> dict:
    """The grid's rows, columns and cells for one filter ("senators", "house", a party, "all")."""
    people = Stakeholder.objects.all()
    if show == "senators":
        people = people.filter(kind=StakeholderKind.SENATOR)
    elif show == "house":
        people = people.filter(kind=StakeholderKind.REPRESENTATIVE)
    elif show in {"D", "R", "I"}:
        people = people.filter(party=show)
    on_provisions = Position.objects.filter(
        provision__negotiation=negotiation, stakeholder__in=people
    )
    on_demands = Position.objects.filter(demand__negotiation=negotiation, stakeholder__in=people)
    # The key columns: whole packages first, then the most-discussed provisions and demands.
    busiest = dict(
        on_provisions.values_list("provision")
        .annotate(n=Count("id"))
        .order_by("-n", "provision")
        .values_list("provision", "n")[:GRID_COLUMNS]
    )
    provisions = sorted(
        Provision.objects.filter(pk__in=busiest),
        key=lambda p: (p.kind != ProvisionKind.PACKAGE, -busiest[p.pk], p.title),
    )
    busiest_demands = dict(
        on_demands.values_list("demand")
        .annotate(n=Count("id"))
        .order_by("-n", "demand")
        .values_list("demand", "n")[: max(GRID_COLUMNS - len(provisions), 4)]
    )
    demands = sorted(
        Demand.objects.filter(pk__in=busiest_demands),
        key=lambda d: (-busiest_demands[d.pk], d.title),
    )
    people = list(
        people.filter(
            Exists(on_provisions.filter(stakeholder=OuterRef("pk")))
            | Exists(on_demands.filter(stakeholder=OuterRef("pk")))
        ).order_by("name")[:GRID_ROWS]
    )
    current = (
        Position.objects.filter(stakeholder__in=[person.pk for person in people])
        .filter(Q(provision__in=busiest) | Q(demand__in=busiest_demands))
        .current()
        .only("id", "stakeholder_id", "provision_id", "demand_id", "stance", "as_of", "source_url")
    )
    labels = dict(Stance.choices)
    cells = {
        (
            p.stakeholder_id,
            "provision" if p.provision_id else "demand",
            p.provision_id or p.demand_id,
        ): GridCell(stance=p.stance, label=labels[p.stance], as_of=p.as_of, source_url=p.source_url)
        for p in current
    }
    columns = [("provision", p.pk, p) for p in provisions] + [("demand", d.pk, d) for d in demands]
    rows = [
        GridRow(person, [cells.get((person.pk, kind, pk), UNKNOWN_CELL) for kind, pk, _ in columns])
        for person in people
    ]
    return {"columns": columns, "rows": rows}


@dataclass(frozen=True)
class GridCell:
    """One cell, worked out here so the template does no lookups for thousands of cells."""

    stance: str
    label: str
    as_of: date | None = None
    source_url: str = ""

    @property
    def text(self) -> str:
        """The cell in words, as the page reads: the stance, and whether it has a source."""
        return f"{self.label} (unsourced)" if self.as_of and not self.source_url else self.label

    @cached_property
    def html(self) -> SafeString:
        """The cell's markup: the stance in words, linked to its source if any. Worked out once
        per cell (the grid has thousands at scale); format_html escapes every value."""
        badge = format_html('<span class="stance stance-{}">{}</span>', self.stance, self.label)
        if self.source_url:
            return format_html(
                '<a href="{}" rel="noopener noreferrer" title="As of {}">{}</a>',
                self.source_url,
                f"{self.as_of:%b} {self.as_of.day}, {self.as_of.year}",
                badge,
            )
        if self.as_of:
            return format_html('{} <span class="badge unsourced">unsourced</span>', badge)
        return badge


UNKNOWN_CELL = GridCell(stance="unknown", label="Unknown")


@dataclass
class GridRow:
    person: Stakeholder
    cells: list[GridCell]

    @property
    def cells_html(self) -> SafeString:
        # One string per row: the template does one lookup per row, not one per cell.
        return format_html_join("", "<td>{}</td>", ((cell.html,) for cell in self.cells))

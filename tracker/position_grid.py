"""The position grid: stakeholders down the side, the key provisions and demands across, each
stakeholder's current stance in each cell."""

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from tracker.models import (
    Demand,
    Negotiation,
    Position,
    Provision,
    ProvisionKind,
    Stakeholder,
    StakeholderKind,
    Stance,
)

GRID_COLUMNS = 16
GRID_ROWS = 120


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

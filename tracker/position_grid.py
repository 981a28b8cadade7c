"""The position grid: stakeholders down the side, the key provisions and demands across, each
stakeholder's current stance in each cell, with where it comes from: a stance read off a roll
call says so (the legend gives each vote's question), a source shows its type, a weak source is
marked. Filters hide stances read off roll calls, or keep only primary-sourced positions."""

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from tracker.models import (
    Demand,
    Negotiation,
    Position,
    Provision,
    ProvisionKind,
    SourceType,
    Stakeholder,
    StakeholderKind,
    Stance,
    Vote,
)
from tracker.models.stakeholders import derived_label
from tracker.page_cache import Stamp, kept

GRID_COLUMNS = 16
GRID_ROWS = 120


def build_position_grid(
    negotiation: Negotiation, show: str, *, hide_derived: bool = False, primary_only: bool = False
) -> dict:
    """The grid's rows, columns and cells for one filter ("senators", "house", a party, "all").
    `hide_derived` leaves out stances read off roll calls and `primary_only` positions without a
    primary source, as if they were not recorded: each cell is then the latest of the rest."""
    people = Stakeholder.objects.all()
    if show == "senators":
        people = people.filter(kind=StakeholderKind.SENATOR)
    elif show == "house":
        people = people.filter(kind=StakeholderKind.REPRESENTATIVE)
    elif show in {"D", "R", "I"}:
        people = people.filter(party=show)
    counted = Position.objects.all()
    if hide_derived:
        counted = counted.stated()
    if primary_only:
        counted = counted.primary_sourced()
    on_provisions = counted.filter(provision__negotiation=negotiation, stakeholder__in=people)
    on_demands = counted.filter(demand__negotiation=negotiation, stakeholder__in=people)
    # The key columns: whole packages first, then the most-discussed provisions and demands.
    busiest, busiest_demands = kept(
        "position-grid-columns",
        negotiation.pk,
        show,
        hide_derived,
        primary_only,
        stamp=_positions_stamp(),
        build=lambda: _busiest(on_provisions, on_demands),
    )
    provisions = sorted(
        Provision.objects.filter(pk__in=busiest),
        key=lambda p: (p.kind != ProvisionKind.PACKAGE, -busiest[p.pk], p.title),
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
        counted.filter(stakeholder__in=[person.pk for person in people])
        .filter(Q(provision__in=busiest) | Q(demand__in=busiest_demands))
        .current()
        .select_related("derived_from_vote")
        .only(
            "id",
            "stakeholder_id",
            "provision_id",
            "demand_id",
            "stance",
            "as_of",
            "source_url",
            "source_type",
            "source_is_weak",
            "derived_from_vote",
            "derived_from_vote__roll_number",
            "derived_from_vote__question",
            "derived_from_vote__voted_on",
        )
    )
    labels = dict(Stance.choices)
    cells = {}
    votes: dict[int, Vote] = {}
    for p in current:
        vote = p.derived_from_vote
        if vote is not None:
            votes[vote.pk] = vote
        key = (
            p.stakeholder_id,
            "provision" if p.provision_id else "demand",
            p.provision_id or p.demand_id,
        )
        cells[key] = GridCell(
            stance=p.stance,
            label=labels[p.stance],
            as_of=p.as_of,
            source_url=p.source_url,
            source_type=p.source_type,
            source_is_weak=p.source_is_weak,
            derived_from=vote,
        )
    columns = [("provision", p.pk, p) for p in provisions] + [("demand", d.pk, d) for d in demands]
    rows = [
        GridRow(person, [cells.get((person.pk, kind, pk), UNKNOWN_CELL) for kind, pk, _ in columns])
        for person in people
    ]
    derived_votes = sorted(votes.values(), key=lambda vote: (vote.voted_on, vote.roll_number or 0))
    return {"columns": columns, "rows": rows, "derived_votes": derived_votes}


def _positions_stamp() -> Stamp:
    """Where the positions stood: the newest row of their history, which every recorded,
    edited or deleted position adds to. One index lookup, unmoved by notes, votes and the rest,
    so the column choice outlives the changes that cannot move it."""
    newest = Position.history.aggregate(newest=Max("history_id"))["newest"]
    return Stamp(activity=newest or 0, rest="positions")


def _busiest(on_provisions: QuerySet, on_demands: QuerySet) -> tuple[dict, dict]:
    """The most-discussed provisions and demands, with their counts: two counts over every
    position, so kept until a position changes."""
    provisions = dict(
        on_provisions.values_list("provision")
        .annotate(n=Count("id"))
        .order_by("-n", "provision")
        .values_list("provision", "n")[:GRID_COLUMNS]
    )
    # Demands fill the columns the provisions leave, four at least.
    demands = dict(
        on_demands.values_list("demand")
        .annotate(n=Count("id"))
        .order_by("-n", "demand")
        .values_list("demand", "n")[: max(GRID_COLUMNS - len(provisions), 4)]
    )
    return provisions, demands


@dataclass(frozen=True)
class GridCell:
    """One cell, worked out here so the template does no lookups for thousands of cells."""

    stance: str
    label: str
    as_of: date | None = None
    source_url: str = ""
    source_type: str = ""
    source_is_weak: bool = False
    # The roll call the stance was read off, if it was.
    derived_from: Vote | None = None

    @property
    def source_note(self) -> str:
        """Where the stance comes from, in a few words: "derived from roll call 39", or the
        source's type ("news", "aggregator, weak source")."""
        if self.derived_from is not None:
            return derived_label(self.derived_from.roll_number)
        if not self.source_url:
            return ""
        kind = SourceType(self.source_type).label.lower() if self.source_type else "type not given"
        return f"{kind}, weak source" if self.source_is_weak else kind

    @property
    def text(self) -> str:
        """The cell in words, as the CSV writes it: the stance, and where it comes from."""
        if not self.as_of:
            return self.label
        if self.derived_from is not None:
            return f"{self.label} ({self.source_note}: {self.derived_from.question})"
        if not self.source_url:
            return f"{self.label} (unsourced)"
        return f"{self.label} (source: {self.source_note})"

    @cached_property
    def html(self) -> SafeString:
        """The cell's markup: the stance in words, linked to its source if any, and a note on
        where it comes from. Worked out once per cell (the grid has thousands at scale);
        format_html escapes every value."""
        badge = format_html('<span class="stance stance-{}">{}</span>', self.stance, self.label)
        if self.derived_from is not None:
            note = format_html(
                '<span class="cell-note derived-note" title="{}">roll call {}</span>',
                self.derived_from.question,
                self.derived_from.roll_number or "number unconfirmed",
            )
        else:
            note = format_html('<span class="cell-note">{}</span>', self.source_note)
        if self.source_url:
            return format_html(
                '<a href="{}" rel="noopener noreferrer" title="As of {}">{}</a>{}',
                self.source_url,
                f"{self.as_of:%b} {self.as_of.day}, {self.as_of.year}",
                badge,
                note,
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

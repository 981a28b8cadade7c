"""The funding comparison: every funding line across the versions of the package, with what
changed, category subtotals that add up to each version's total, and where that total disagrees
with the topline the version states.

What is summed: dollar lines (unit usd) that are not memo lines. A sub-line is a part of its
parent line, so it is summed only in a version where no line above it has an amount (then it is
the best figure the record has); otherwise it is shown but not added twice. Staff counts and
equipment are shown and never summed.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from tracker.models import (
    Category,
    Inclusion,
    Negotiation,
    PackageVersion,
    Provision,
    ProvisionKind,
    Unit,
    VersionLine,
)
from tracker.templatetags.tracker import dollars


@dataclass
class Cell:
    version: PackageVersion
    line: VersionLine | None = None
    is_summed: bool = False
    change: int | None = None
    change_since: PackageVersion | None = None
    # Written once here rather than worked out in the template: the table has thousands of
    # cells at scale, and template lookups are what would make it slow.
    value: str = ""
    text: str = ""
    change_text: str = ""
    css: str = ""
    unconfirmed: bool = False
    excluded: bool = False

    def finish(self, unit: str) -> None:
        amount = self.amount
        if amount is None:
            return
        self.value = str(amount)
        self.text = dollars(amount) if unit == Unit.USD else f"{amount:,} {unit}"
        if self.change:
            size = dollars(abs(self.change)) if unit == Unit.USD else f"{abs(self.change):,}"
            self.change_text = ("+" if self.change > 0 else "−") + size
        self.css = "" if self.is_summed else " not-summed"
        self.unconfirmed = self.is_unconfirmed
        self.excluded = self.line is not None and self.line.inclusion == Inclusion.NOT_INCLUDED

    @property
    def amount(self) -> int | None:
        return self.line.amount if self.line else None

    @property
    def change_size(self) -> int | None:
        """The change without its sign; the page writes + or − in front."""
        return abs(self.change) if self.change is not None else None

    @property
    def is_unconfirmed(self) -> bool:
        return self.line is not None and not self.line.is_confirmed


@dataclass
class Row:
    provision: Provision
    depth: int
    cells: list[Cell]

    @property
    def is_money(self) -> bool:
        return self.provision.unit == Unit.USD

    @property
    def why_not_summed(self) -> str:
        """Why some or all of this row's amounts are left out of the totals, for the reader."""
        if self.provision.is_memo:
            return "memo: overlaps other lines, never summed"
        if not self.is_money:
            return f"{self.provision.get_unit_display().lower()}, never summed"
        if self.depth and any(
            cell.amount is not None and not cell.is_summed for cell in self.cells
        ):
            return "part of the line above: summed only where that line has no figure"
        return ""


@dataclass
class CategoryBlock:
    category: str
    rows: list[Row]
    subtotals: list[int | None]

    @property
    def label(self) -> str:
        return Category(self.category).label


@dataclass
class Comparison:
    negotiation: Negotiation
    versions: list[PackageVersion]
    blocks: list[CategoryBlock]
    totals: list[int | None] = field(default_factory=list)

    @property
    def stated(self) -> list[int | None]:
        return [version.stated_total for version in self.versions]

    @property
    def mismatches(self) -> list[int | None]:
        """Stated topline minus the itemised total, where both exist and differ (else None)."""
        gaps: list[int | None] = []
        for total, stated in zip(self.totals, self.stated, strict=True):
            gaps.append(stated - (total or 0) if stated is not None and stated != total else None)
        return gaps

    @property
    def gaps(self) -> list[tuple[int, int] | None]:
        """Each version's mismatch as (signed gap, size), for the page to write with a sign."""
        return [(gap, abs(gap)) if gap is not None else None for gap in self.mismatches]

    @property
    def has_mismatch(self) -> bool:
        return any(gap is not None for gap in self.mismatches)

    @property
    def chart_series(self) -> list[tuple[str, list[int | None]]]:
        """Category subtotals per version, for the chart; categories with no dollars left out."""
        return [
            (block.label, block.subtotals)
            for block in self.blocks
            if any(amount for amount in block.subtotals)
        ]


def funding_comparison(negotiation: Negotiation) -> Comparison:
    """Build the table in three queries: versions, funding provisions, and their lines."""
    versions = list(PackageVersion.objects.filter(negotiation=negotiation).order_by("dated", "id"))
    provisions = list(
        Provision.objects.filter(negotiation=negotiation, kind=ProvisionKind.FUNDING)
        .select_related("parent")
        .order_by("title")
    )
    lines: dict[tuple[int, int], VersionLine] = {
        (line.provision_id, line.version_id): line
        for line in VersionLine.objects.filter(provision__in=[p.pk for p in provisions])
    }
    by_pk = {provision.pk: provision for provision in provisions}
    children: dict[int | None, list[Provision]] = defaultdict(list)
    for provision in provisions:
        parent = provision.parent_id if provision.parent_id in by_pk else None
        children[parent].append(provision)

    def ancestors(provision: Provision) -> list[int]:
        chain, seen = [], {provision.pk}
        while provision.parent_id in by_pk and provision.parent_id not in seen:
            seen.add(provision.parent_id)
            chain.append(provision.parent_id)
            provision = by_pk[provision.parent_id]
        return chain

    def row_for(provision: Provision, depth: int) -> Row:
        cells = []
        previous: tuple[PackageVersion, int] | None = None
        for version in versions:
            line = lines.get((provision.pk, version.pk))
            cell = Cell(version, line)
            cell.is_summed = (
                line is not None
                and line.amount is not None
                and provision.unit == Unit.USD
                and not provision.is_memo
                and not any(
                    (lines.get((pk, version.pk)) or VersionLine()).amount is not None
                    for pk in ancestors(provision)
                )
            )
            if cell.amount is not None:
                if previous is not None:
                    cell.change, cell.change_since = cell.amount - previous[1], previous[0]
                previous = (version, cell.amount)
            cell.finish(provision.unit)
            cells.append(cell)
        return Row(provision, depth, cells)

    def walk(provision: Provision, depth: int) -> list[Row]:
        rows = [row_for(provision, depth)]
        for child in children[provision.pk]:
            rows.extend(walk(child, depth + 1))
        return rows

    # Sub-lines stay under their parent, in the parent's category, so each tree reads as one.
    rows_by_category: dict[str, list[Row]] = defaultdict(list)
    for top in children[None]:
        rows_by_category[top.category].extend(walk(top, 0))
    order = {value: index for index, value in enumerate(Category.values)}
    blocks = []
    for category in sorted(rows_by_category, key=lambda c: order.get(c, len(order))):
        rows = rows_by_category[category]
        blocks.append(CategoryBlock(category, rows, _sum_columns(rows, len(versions))))
    comparison = Comparison(negotiation, versions, blocks)
    comparison.totals = _add([block.subtotals for block in blocks], len(versions))
    return comparison


def _sum_columns(rows: list[Row], width: int) -> list[int | None]:
    return _add(
        [[cell.amount if cell.is_summed else None for cell in row.cells] for row in rows], width
    )


def _add(columns: list[list[int | None]], width: int) -> list[int | None]:
    """Column sums; None where nothing in the column had an amount (not the same as $0)."""
    sums: list[int | None] = [None] * width
    for values in columns:
        for index, value in enumerate(values):
            if value is not None:
                sums[index] = (sums[index] or 0) + value
    return sums

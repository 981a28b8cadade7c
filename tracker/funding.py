"""The funding comparison: every funding line across the versions of the package, with what
changed, category subtotals that add up to each version's total, and where that total disagrees
with the topline the version states.

What is summed: dollar lines (unit usd) that are not memo lines. A line can sit inside another
line's figure: always, as a sub-line of its parent, or in one version only, as that version's
line says (`VersionLine.within`: the request's $481M for Ukrainian arrivals is inside its $61.4B
for Ukraine). Such a figure is summed only in a version where the line it sits in has no amount
(then it is the best figure the record has); otherwise it is shown but never added twice. Staff
counts and equipment are shown and never summed.

Uncertainty reaches the totals: a subtotal or total that adds an unconfirmed figure says so, with
the sum of its confirmed figures alone beside it. The dashboard's totals come from here too, so
there is one rule for every total the tracker shows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from html import escape

from django.utils.safestring import SafeString, mark_safe

from tracker.models import (
    Category,
    CostEstimate,
    Inclusion,
    Negotiation,
    PackageVersion,
    Provision,
    ProvisionKind,
    Unit,
    VersionLine,
)
from tracker.money import format_dollars

EMPTY_CELL = '<td class="num"><span class="muted">—</span></td>'
NOT_INCLUDED_MARK = ' <span class="muted">(not included)</span>'


@dataclass(frozen=True, slots=True)
class Figure:
    """What the table reads of a VersionLine. At scale the table has a thousand of them, and
    full model rows (with the note and history machinery) cost more than the rest of the page."""

    amount: int | None
    inclusion: str
    is_confirmed: bool
    note: str
    within_id: int | None = None


@dataclass(frozen=True, slots=True)
class Sum:
    """A subtotal or total: what the summed figures come to, what the confirmed ones alone come
    to (None when none of them is confirmed), and whether an unconfirmed figure is in it."""

    amount: int | None = None
    confirmed: int | None = None
    includes_unconfirmed: bool = False

    @property
    def differs(self) -> bool:
        """Whether the confirmed-only sum is worth showing beside the total."""
        return self.includes_unconfirmed and self.confirmed != self.amount

    def __add__(self, other: "Sum") -> "Sum":
        return Sum(
            _plus(self.amount, other.amount),
            _plus(self.confirmed, other.confirmed),
            self.includes_unconfirmed or other.includes_unconfirmed,
        )


def _plus(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b


@dataclass(slots=True)
class Cell:
    version: PackageVersion
    line: Figure | None = None
    is_summed: bool = False
    change: int | None = None
    change_since: PackageVersion | None = None
    # The line whose figure this one sits inside in this version (so it is not summed again).
    covered_by: Provision | None = None
    # Whether that line is one this version's line names as `within` (not just its parent):
    # the cell then says which, since the row's place in the table does not show it.
    covered_elsewhere: bool = False

    def html(self, unit: str, since: dict[int, str]) -> str:
        """The cell as the page shows it (see Row.html); `since` holds each version's name,
        escaped. Formatted only here, so the CSV, which writes plain numbers, never pays for
        the page's dollar text."""
        line = self.line
        if line is None:
            return EMPTY_CELL
        if line.amount is None:
            if line.is_confirmed:
                return EMPTY_CELL
            return (
                f'<td class="num"><span class="badge" title="{escape(line.note)}">'
                "amount unconfirmed</span></td>"
            )
        amount = line.amount
        # Dollar text holds only digits, "$", ",", "." and B or M (money.format_dollars).
        text = format_dollars(amount) if unit == Unit.USD else escape(f"{amount:,} {unit}")
        badge = ""
        if not line.is_confirmed:
            badge = f' <span class="badge" title="{escape(line.note)}">unconfirmed</span>'
        change = ""
        if self.change and self.change_since is not None:
            size = abs(self.change)
            change = (
                f'<br><span class="change" title="Change since {since[self.change_since.id]}">'
                f"{'+' if self.change > 0 else '−'}"
                f"{format_dollars(size) if unit == Unit.USD else f'{size:,}'}</span>"
            )
        inside = ""
        if self.covered_by is not None and self.covered_elsewhere:
            inside = f'<br><span class="muted inside">inside {escape(self.covered_by.title)}</span>'
        return (
            f'<td class="num{"" if self.is_summed else " not-summed"}"><data value="{amount}">'
            f"{text}</data>{badge}"
            f"{NOT_INCLUDED_MARK if line.inclusion == Inclusion.NOT_INCLUDED else ''}"
            f"{inside}{change}</td>"
        )

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

    @property
    def summed(self) -> Sum:
        """What this cell adds to its subtotal: nothing unless it is summed."""
        if not self.is_summed or self.line is None:
            return Sum()
        confirmed = self.line.is_confirmed
        return Sum(self.line.amount, self.line.amount if confirmed else None, not confirmed)


@dataclass
class Row:
    provision: Provision
    depth: int
    cells: list[Cell]
    # Each version's name, escaped for markup, shared by every row of the table.
    version_names: dict[int, str] = field(default_factory=dict)

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
        inside: dict[str, list[str]] = {}
        for cell in self.cells:
            if cell.covered_by is not None:
                stages = inside.setdefault(cell.covered_by.title, [])
                stages.append(cell.version.get_stage_display())
        return "; ".join(
            f"inside “{title}” in {', '.join(stages)}: not added again"
            for title, stages in inside.items()
        )

    @cached_property
    def html(self) -> SafeString:
        """The row's markup, written here in one pass rather than by the template: a template
        loop costs a dozen context lookups per cell, and at scale the table has ~2,700 cells.
        Plain strings with each text escaped once: format_html per cell was most of the
        page's time."""
        provision = self.provision
        why = self.why_not_summed
        unit, since = provision.unit, self.version_names
        cells = "".join(cell.html(unit, since) for cell in self.cells)
        why_html = f'<br><span class="muted">{escape(why)}</span>' if why else ""
        return mark_safe(  # noqa: S308  (every text in it is escaped here or in Cell.html)
            f'<tr class="line depth-{self.depth}{" memo" if provision.is_memo else ""}"'
            f' data-line="{escape(provision.slug)}"><th scope="row">{escape(provision.title)}'
            f"{why_html}</th>{cells}</tr>"
        )


@dataclass
class CategoryBlock:
    category: str
    rows: list[Row]
    subtotals: list[Sum]

    @property
    def label(self) -> str:
        return Category(self.category).label


@dataclass
class Comparison:
    negotiation: Negotiation
    versions: list[PackageVersion]
    blocks: list[CategoryBlock]
    totals: list[Sum] = field(default_factory=list)
    # CBO cost estimates beside the version each scores (by version id); see _estimates.
    estimates: dict[int, list[CostEstimate]] = field(default_factory=dict)
    # Versions with no figure in any line (their columns are all dashes), and whether the
    # table leaves them out ("empty columns collapsed on request").
    empty_versions: list[PackageVersion] = field(default_factory=list)
    hides_empty: bool = False

    @property
    def headers(self) -> list[tuple[PackageVersion, list[CostEstimate]]]:
        """Each version with the CBO estimates shown beside it."""
        return [(version, self.estimates.get(version.pk, [])) for version in self.versions]

    @property
    def stated(self) -> list[int | None]:
        return [version.stated_total for version in self.versions]

    @property
    def mismatches(self) -> list[int | None]:
        """Stated topline minus the itemised total, where both exist and differ (else None)."""
        gaps: list[int | None] = []
        for total, stated in zip(self.totals, self.stated, strict=True):
            amount = total.amount
            gaps.append(stated - (amount or 0) if stated is not None and stated != amount else None)
        return gaps

    @property
    def gaps(self) -> list[tuple[int, int] | None]:
        """Each version's mismatch as (signed gap, size), for the page to write with a sign."""
        return [(gap, abs(gap)) if gap is not None else None for gap in self.mismatches]

    @property
    def has_mismatch(self) -> bool:
        return any(gap is not None for gap in self.mismatches)

    @property
    def chart_series(self) -> list[tuple[str, list[Sum]]]:
        """Category subtotals per version, for the chart; categories with no dollars left out."""
        return [
            (block.label, block.subtotals)
            for block in self.blocks
            if any(subtotal.amount for subtotal in block.subtotals)
        ]


def funding_comparison(negotiation: Negotiation, *, hide_empty: bool = False) -> Comparison:
    """Build the table in four queries: versions, funding provisions, their lines, and the CBO
    estimates of the versions' bills. With `hide_empty`, versions with no figure in any line
    are left out (and listed in `hidden_versions`)."""
    comparison = _compare(negotiation.pk, negotiation, hide_empty=hide_empty)
    comparison.estimates = _estimates(comparison.versions)
    return comparison


def _compare(
    negotiation_id: int, negotiation: Negotiation | None = None, *, hide_empty: bool = False
) -> Comparison:
    versions = list(
        PackageVersion.objects.filter(negotiation_id=negotiation_id).order_by("dated", "id")
    )
    # Only the columns the table reads: the full rows (descriptions, notes, JSON sources,
    # timestamps) cost more to decode than the rest of the table at scale.
    provisions = list(
        Provision.objects.filter(negotiation_id=negotiation_id, kind=ProvisionKind.FUNDING)
        .only("id", "slug", "title", "category", "unit", "parent_id", "is_memo", "kind")
        .order_by("title")
    )
    # Unordered on purpose: VersionLine's default ordering joins the versions to sort, which
    # tripled this query's time, and the table places each figure by key anyway.
    lines = VersionLine.objects.filter(
        provision__negotiation_id=negotiation_id, provision__kind=ProvisionKind.FUNDING
    ).order_by()
    figures: dict[tuple[int, int], Figure] = {
        (provision_id, version_id): Figure(amount, inclusion, is_confirmed, note, within_id)
        for provision_id, version_id, amount, inclusion, is_confirmed, note, within_id in (
            lines.values_list(
                "provision_id",
                "version_id",
                "amount",
                "inclusion",
                "is_confirmed",
                "note",
                "within_id",
            )
        )
    }
    # A version whose column would show nothing but dashes: no line has a figure there, nor
    # says that its figure is unconfirmed.
    shown = {
        version_id
        for (_, version_id), figure in figures.items()
        if figure.amount is not None or not figure.is_confirmed
    }
    empty = [version for version in versions if version.id not in shown]
    if hide_empty:
        versions = [version for version in versions if version.id in shown]
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

    # Plain ids, not .pk: the loop below runs once per cell, thousands of times at scale.
    version_ids = [(version, version.id) for version in versions]
    version_names = {version.id: escape(version.name) for version in versions}

    def containers(provision: Provision, line: Figure) -> list[int]:
        """The lines whose figure this one sits inside in the line's version: the one it is
        within there, with that line's parents, then its own parents, nearest first."""
        chain = []
        if line.within_id in by_pk and line.within_id != provision.id:
            chain = [line.within_id, *ancestors(by_pk[line.within_id])]
        return chain + [pk for pk in ancestors(provision) if pk not in chain]

    def row_for(provision: Provision, depth: int) -> Row:
        cells = []
        provision_id = provision.id
        summable = provision.unit == Unit.USD and not provision.is_memo
        lines = [figures.get((provision_id, version_id)) for _, version_id in version_ids]
        changes = changes_since_previous([line.amount if line else None for line in lines])
        for (version, version_id), line, (change, since) in zip(
            version_ids, lines, changes, strict=True
        ):
            cell = Cell(version, line)
            if line is not None and line.amount is not None:
                if summable:
                    cell.covered_by = next(
                        (
                            by_pk[pk]
                            for pk in containers(provision, line)
                            if (figure := figures.get((pk, version_id))) is not None
                            and figure.amount is not None
                        ),
                        None,
                    )
                    cell.is_summed = cell.covered_by is None
                    cell.covered_elsewhere = (
                        cell.covered_by is not None
                        and cell.covered_by.pk not in ancestors(provision)
                    )
                if since is not None:
                    cell.change, cell.change_since = change, versions[since]
            cells.append(cell)
        return Row(provision, depth, cells, version_names)

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
    comparison = Comparison(negotiation, versions, blocks)  # type: ignore[arg-type]
    comparison.totals = _add([block.subtotals for block in blocks], len(versions))
    comparison.empty_versions = empty
    comparison.hides_empty = hide_empty and bool(empty)
    return comparison


def _estimates(versions: list[PackageVersion]) -> dict[int, list[CostEstimate]]:
    """Each version's CBO estimates: those that score it, and those of its bill whose scored
    text is not known (shown beside every version on that bill, saying so)."""
    by_version: dict[int, list[CostEstimate]] = {version.pk: [] for version in versions}
    estimates = list(CostEstimate.objects.for_versions(versions))
    for version in versions:
        by_version[version.pk] = [
            estimate
            for estimate in estimates
            if estimate.version_id == version.pk
            or (estimate.version_id is None and estimate.bill_id == version.bill_id)
        ]
    return by_version


def changes_since_previous(amounts: list[int | None]) -> list[tuple[int | None, int | None]]:
    """For each figure, in version order: the change since the last version that has one, and
    that version's index; (None, None) where there is no figure or none before it."""
    changes: list[tuple[int | None, int | None]] = []
    previous: int | None = None
    for index, amount in enumerate(amounts):
        if amount is None or previous is None:
            changes.append((None, None))
        else:
            changes.append((amount - amounts[previous], previous))  # type: ignore[operator]
        if amount is not None:
            previous = index
    return changes


def version_totals(negotiation_id: int) -> list[PackageVersion]:
    """Each version with its stated topline and `lines_total`, the Sum of its lines as the
    funding comparison adds them (the same rule, so the dashboard and the table agree)."""
    comparison = _compare(negotiation_id)
    for version, total in zip(comparison.versions, comparison.totals, strict=True):
        version.lines_total = total  # type: ignore[attr-defined]
    return comparison.versions


def _sum_columns(rows: list[Row], width: int) -> list[Sum]:
    return _add([[cell.summed for cell in row.cells] for row in rows], width)


def _add(columns: list[list[Sum]], width: int) -> list[Sum]:
    """Column sums; an amount of None where nothing in the column had one (not $0)."""
    sums = [Sum()] * width
    for values in columns:
        sums = [total + value for total, value in zip(sums, values, strict=True)]
    return sums

"""CSV downloads of what the analysis pages show, safe to open in a spreadsheet.

A cell that starts with =, +, -, @ (or a tab or carriage return, which some spreadsheets skip
before reading a formula) is prefixed with an apostrophe so it is read as text, never run as a
formula (OWASP's "CSV injection"). Numbers are written as numbers: a negative difference is data.
"""

import csv
import io
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.http import HttpResponse

from tracker.funding import Comparison, Sum
from tracker.models import attach_derived_votes
from tracker.whip import Board

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A cell value a spreadsheet will show as written."""
    if type(value) is str:  # most cells: checked first, as a file has thousands
        text = value
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return "yes" if value else "no"
    elif isinstance(value, int | float | Decimal):
        return value
    else:
        text = value.isoformat() if isinstance(value, date) else str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_response(filename: str, header: list[str], rows: Iterable[list]) -> HttpResponse:
    """An attachment download of `rows` under `header`, every cell neutralised."""
    return csv_file(filename, csv_text(header, rows))


def csv_text(header: list[str], rows: Iterable[list]) -> str:
    """`rows` under `header` as CSV, every cell neutralised. It starts with a UTF-8 byte-order
    mark so Excel reads names like "Luján" right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue()


def csv_file(filename: str, text: str) -> HttpResponse:
    """CSV text (from csv_text) as an attachment download."""
    # Only plain characters in the header; no quotes, slashes or "..".
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "-", filename)
    safe_name = re.sub(r"\.{2,}", ".", safe_name).strip("-.") or "export"
    if not safe_name.endswith(".csv"):
        safe_name += ".csv"
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response


WHIP_HEADER = [
    "Counted as",
    "Member",
    "Party",
    "State",
    "Derived stance",
    "Overridden",
    "Override note",
    "Based on",
    "Position date",
    "Stale",
    "Source",
    "Recorded by",
    "Source type",
    "Derived from (roll call: question)",
]


def whip_board_rows(board: Board) -> list[list]:
    """One row per member the page lists, in the page's order (by group, then name). A stance
    read off a roll call names it and the question it answered."""
    rows = []
    attach_derived_votes(call.position for _, _, calls in board.columns for call in calls)
    for _, label, calls in board.columns:
        for call in calls:
            position = call.position
            rows.append(
                [
                    label,
                    call.member.name,
                    call.member.party,
                    call.member.state,
                    call.derived_group_label,
                    call.is_overridden,
                    call.override.note if call.override else "",
                    str(call.link) if call.link else "",
                    position.as_of if position else None,
                    call.is_stale,
                    position.source_url if position else "",
                    call.recorded_by,
                    position.get_source_type_display() if position else "",
                    f"{position.derived_label}: {position.derived_question}"
                    if position and position.derived_from_vote_id
                    else "",
                ]
            )
    return rows


def funding_header(comparison: Comparison) -> list[str]:
    header = ["Category", "Line", "Unit", "Not summed because"]
    for version in comparison.versions:
        stage = version.get_stage_display()
        header += [
            version.name,
            f"Unconfirmed ({stage})",
            f"Confirmed figures only ({stage})",
            f"Change ({stage})",
        ]
    return header


def funding_rows(comparison: Comparison) -> list[list]:
    """The table as the page shows it: lines, category subtotals, total, topline, gap. Each
    version has four columns: the amount; "unconfirmed" on an unconfirmed figure, "includes
    unconfirmed" on a subtotal or total that adds one; what a total's confirmed figures alone
    come to, where that differs; and the change since the previous figure."""
    rows = []
    for block in comparison.blocks:
        for row in block.rows:
            cells: list = [
                block.label,
                ("  " * row.depth) + row.provision.title,
                row.provision.unit,
                row.why_not_summed,
            ]
            for cell in row.cells:
                flag = ""
                if cell.is_unconfirmed:
                    flag = "unconfirmed" if cell.amount is not None else "amount unconfirmed"
                cells += [cell.amount, flag, None, cell.change]
            rows.append(cells)
        rows.append(_summary(f"Subtotal: {block.label}", block.subtotals))
    rows.append(_summary("Total of the lines", comparison.totals))
    stated: list = ["", "Stated topline", "usd", ""]
    for version in comparison.versions:
        unconfirmed = version.stated_total is not None and not version.stated_total_confirmed
        stated += [version.stated_total, "unconfirmed" if unconfirmed else "", None, None]
    rows.append(stated)
    gaps: list = ["", "Topline not matched by the lines (stated minus lines)", "usd", ""]
    for gap in comparison.mismatches:
        gaps += [gap, "", None, None]
    rows.append(gaps)
    return rows


def _summary(label: str, totals: list[Sum]) -> list:
    cells: list = ["", label, "usd", ""]
    for total in totals:
        cells += [
            total.amount,
            "includes unconfirmed" if total.includes_unconfirmed else "",
            (total.confirmed if total.confirmed is not None else "none") if total.differs else None,
            None,
        ]
    return cells

"""CSV downloads: exactly what the page shows, and never a formula in a spreadsheet."""

import csv
import io
import re
from datetime import date

import pytest

from tests.factories import make_negotiation, make_provision, make_stakeholder
from tracker.exports import csv_response, neutralise
from tracker.models.whip import VoteTarget, VoteTargetLink


def _read(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("Lankford (R-OK)", "Lankford (R-OK)"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell: str, written: str) -> None:
    assert neutralise(cell) == written


def test_numbers_dates_and_blanks_stay_data() -> None:
    assert neutralise(-300_000_000) == -300_000_000
    assert neutralise(None) == ""
    assert neutralise(True) == "yes"
    assert neutralise(date(2024, 2, 7)) == "2024-02-07"


def test_csv_response_is_an_attachment_with_a_safe_name() -> None:
    response = csv_response('whip "board"/../x', ["Name", "=cmd"], [["@evil", -5], ["Luján", 3]])

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="whip-board-.-x.csv"'
    assert _read(response) == [["Name", "'=cmd"], ["'@evil", "-5"], ["Luján", "3"]]


@pytest.mark.django_db
def test_the_whip_csv_lists_what_the_board_shows(client, viewer) -> None:
    negotiation = make_negotiation()
    target = VoteTarget.objects.create(negotiation=negotiation, motion="Cloture")
    deal = make_provision(negotiation, title="The deal")
    VoteTargetLink.objects.create(target=target, provision=deal)
    shown = make_stakeholder(name="Oklahoma Senator", party="R", state="OK")
    hidden = make_stakeholder(name="Connecticut Senator", party="D", state="CT")
    shown.record_position(
        stance="lean_support",
        as_of=date(2024, 2, 1),
        provision=deal,
        source_url="https://example.org/=1",
        statement="=cmd|' /C calc'!A0",
    )
    hidden.record_position(stance="firm_oppose", as_of=date(2024, 2, 1), provision=deal)
    client.force_login(viewer)
    query = {"as_of": "2024-02-05", "party": "R"}

    page = client.get(f"/whip/{target.pk}/", query).content.decode()
    rows = _read(client.get(f"/whip/{target.pk}/board.csv", query))

    on_page = re.findall(r'data-member="([^"]+)" data-group="([^"]+)"', page)
    assert on_page == [("Oklahoma Senator", "lean_yes")]
    assert rows[0][:2] == ["Counted as", "Member"]
    assert [(row[1], row[0]) for row in rows[1:]] == [("Oklahoma Senator", "Lean yes")]
    assert rows[1][8:11] == ["2024-02-01", "no", "https://example.org/=1"]


@pytest.mark.django_db
def test_the_funding_csv_has_the_pages_figures(client, viewer, demo) -> None:
    client.force_login(viewer)

    page = client.get("/funding/", {"negotiation": demo.slug}).content.decode()
    rows = _read(client.get("/funding/comparison.csv", {"negotiation": demo.slug}))

    header, lines = rows[0], rows[1:]
    versions = header[4::4]
    assert len(versions) == demo.versions.count()
    # Every amount the page shows (as <data value>) in page order equals the CSV's, row by row.
    page_rows = re.findall(r'<tr class="[^"]*" data-line="[^"]+">(.*?)</tr>', page, re.S)
    page_rows += re.findall(r'<tr data-line="stated">(.*?)</tr>', page, re.S)
    page_values = [re.findall(r'<data value="(-?\d+)">', row) for row in page_rows]
    csv_values = [[cell for cell in line[4::4] if cell] for line in lines]
    assert sorted(page_values) == sorted(csv_values)
    total = next(line for line in lines if line[1] == "Total of the lines")
    assert total[header.index(versions[-1])] == str(95_340_000_000)
    assert lines[-1][1].startswith("Topline not matched")


@pytest.mark.django_db
def test_the_funding_csv_marks_unconfirmed_figures_and_the_totals_that_add_them(
    client, viewer, demo
) -> None:
    client.force_login(viewer)

    rows = _read(client.get("/funding/comparison.csv", {"negotiation": demo.slug}))

    header, lines = rows[0], rows[1:]
    request = header.index("President's national security supplemental request")
    enacted = header.index("Public Law 118-50 (H.R. 815 as enacted)")
    by_line = {line[1].strip(): line for line in lines}
    total = by_line["Total of the lines"]
    # The request's total adds the unconfirmed Indo-Pacific $7.4B: marked, confirmed-only beside.
    assert header[request + 1] == "Unconfirmed (Request)"
    assert total[request : request + 3] == ["105850000000", "includes unconfirmed", "98450000000"]
    assert total[enacted : enacted + 3] == ["95340000000", "", ""]
    indo_pacific = by_line["Indo-Pacific / Taiwan (incl. submarine industrial base where counted)"]
    assert indo_pacific[request : request + 2] == ["7400000000", "unconfirmed"]
    refugees = by_line["Ukrainians and other refugees/displaced people (US-side support)"]
    assert refugees[enacted : enacted + 2] == ["", "amount unconfirmed"]
    assert "inside “Ukraine" in refugees[3]


@pytest.mark.django_db
def test_the_demo_whip_csv_downloads_for_a_viewer(client, viewer, demo, demo_targets) -> None:
    cloture, _ = demo_targets
    client.force_login(viewer)

    response = client.get(f"/whip/{cloture.pk}/board.csv", {"as_of": "2024-02-06"})

    rows = _read(response)
    assert response.status_code == 200
    assert len(rows) == 1 + 100
    assert sum(1 for row in rows[1:] if row[0] in ("Firm yes", "Lean yes")) == 3

"""The funding comparison: lines across versions, subtotals that add up, topline flags, and
totals that stay honest about the figures in them."""

import csv
import io
import re
from datetime import date

import pytest
from django.core.cache import caches

from tests.factories import make_negotiation, make_provision, make_version
from tracker.funding import funding_comparison, version_totals
from tracker.models import PackageVersion, Provision, VersionLine
from tracker.page_cache import FRAGMENTS
from tracker.views import funding as funding_views

pytestmark = pytest.mark.django_db

BILLION = 1_000_000_000
MILLION = 1_000_000


def _page(client, viewer, negotiation) -> str:
    client.force_login(viewer)
    response = client.get("/funding/", {"negotiation": negotiation.slug})
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, line: str) -> str:
    """One row of the table, by its data-line."""
    return re.search(rf'<tr[^>]*data-line="{line}">(.*?)</tr>', page, re.S).group(1)


def _cells(page: str, line: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", _row(page, line), re.S)


def _columns(page: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    return [
        re.sub(r"<.*", "", label, flags=re.S).strip()
        for label in re.findall(r'<th scope="col" class="num">(.*?)</th>', head, re.S)
    ]


def _figure(cell: str) -> int | None:
    """The amount a cell shows (its first <data value>), None for a dash."""
    found = re.search(r'<data value="(-?\d+)">', cell)
    return int(found.group(1)) if found else None


def _by_stage(page: str, line: str) -> dict[str, str]:
    return dict(zip(_columns(page), _cells(page, line), strict=True))


# The record's totals ------------------------------------------------------------------------


def test_the_request_sums_to_the_records_105_85_billion_counting_ukrainian_arrivals_once(
    client, viewer, demo
) -> None:
    page = _page(client, viewer, demo)

    total = _by_stage(page, "total")["Request"]
    assert _figure(total) == 105_850 * MILLION
    assert "matches or no topline" in _by_stage(page, "gap")["Request"]
    # The $481M for Ukrainians arriving in the US is shown, inside the $61.4B for Ukraine.
    arrivals = _by_stage(page, "refugees-displaced")["Request"]
    assert _figure(arrivals) == 481 * MILLION
    assert "not-summed" in _row(page, "refugees-displaced")
    assert "inside Ukraine" in arrivals
    assert _figure(_by_stage(page, "subtotal-humanitarian")["Request"]) == 9_150 * MILLION
    # The chart's description reads "Humanitarian: Request $9.15B, ..." (no $9.63B).
    assert "Humanitarian: Request $9.15B," in page


def test_the_senate_deals_stated_118_28_billion_stands_beside_what_its_lines_add_up_to(
    client, viewer, demo
) -> None:
    page = _page(client, viewer, demo)

    assert _figure(_by_stage(page, "stated")["Senate text"]) == 118_280 * MILLION
    # Ukraine 60.06 + Israel 14.1 + humanitarian ~10 + refugees 2.33 + Indo-Pacific 4.83 +
    # border 20.23 + Red Sea 2.44 + Nonprofit Security Grants 0.4: the record itemises no more.
    assert _figure(_by_stage(page, "total")["Senate text"]) == 114_390 * MILLION
    gap = _by_stage(page, "gap")["Senate text"]
    assert _figure(gap) == 3_890 * MILLION and "⚑" in gap


def test_the_enacted_total_is_the_records_confirmed_60_84_plus_26_38_plus_8_12(
    client, viewer, demo
) -> None:
    page = _page(client, viewer, demo)

    enacted = {
        line: _by_stage(page, line)["Enacted"]
        for line in (
            "ukraine",
            "israel-bill-total",
            "indo-pacific",
            "israel-security",
            "humanitarian",
            "total",
            "gap",
        )
    }
    assert _figure(enacted["ukraine"]) == 60_840 * MILLION
    assert _figure(enacted["israel-bill-total"]) == 26_380 * MILLION
    assert _figure(enacted["indo-pacific"]) == 8_120 * MILLION
    assert _figure(enacted["total"]) == 95_340 * MILLION
    assert "matches or no topline" in enacted["gap"]
    # The unconfirmed $17B and $9.15B are shown inside H.R. 8034's $26.38B, never summed.
    for line in ("israel-security", "humanitarian"):
        assert "unconfirmed" in enacted[line]
        assert "inside Israel Security Supplemental Appropriations Act (H.R. 8034)" in enacted[line]
    assert "unconfirmed" not in enacted["total"]


# Unconfirmed figures reach the totals --------------------------------------------------------


def test_a_total_with_an_unconfirmed_figure_says_so_with_its_confirmed_only_sum(
    client, viewer, demo
) -> None:
    page = _page(client, viewer, demo)

    # The request's Indo-Pacific $7.4B is a sum of reported parts (unconfirmed).
    request_total = _by_stage(page, "total")["Request"]
    assert "unconfirmed" in request_total
    assert re.search(
        r"confirmed only: <data class=\"confirmed\" value=\"98450000000\">", request_total
    )
    indo_pacific = _by_stage(page, "subtotal-indo_pacific")["Request"]
    assert "unconfirmed" in indo_pacific and "confirmed only: none" in indo_pacific
    # A subtotal of confirmed figures only reads as it is.
    assert "unconfirmed" not in _by_stage(page, "subtotal-ukraine")["Request"]


def test_the_chart_marks_bars_that_add_an_unconfirmed_figure_in_words_and_outline(
    client, viewer, demo
) -> None:
    page = _page(client, viewer, demo)
    chart = re.search(r'<figure class="chart">(.*?)</figure>', page, re.S).group(1)

    assert "Request: $7.4B, unconfirmed (confirmed only: none)" in chart
    assert "Enacted: $60.84B<" in chart  # a confirmed bar says nothing more
    dashed = re.findall(r'<rect [^>]*stroke-dasharray="5 3"/>\s*<text[^>]*>([^<]*)</text>', chart)
    assert dashed and all("unconfirmed" in label for label in dashed)
    assert "dashed outline: the bar adds an unconfirmed figure" in chart


def test_the_dashboard_adds_the_versions_by_the_same_rule(client, viewer, demo) -> None:
    client.force_login(viewer)

    page = client.get("/").content.decode()

    versions = {version.slug: version for version in version_totals(demo.pk)}
    table = funding_comparison(demo)
    for version, total in zip(table.versions, table.totals, strict=True):
        assert versions[version.slug].lines_total == total
    row = re.search(r"<td>President&#x27;s national security.*?</tr>", page, re.S).group(0)
    assert "$105.85B" in row and "$106.33B" not in row
    assert "unconfirmed" in row and "confirmed only:<br>$98.45B" in row


# The rules, on a small negotiation -----------------------------------------------------------


def test_a_line_within_another_in_one_version_is_summed_only_where_that_line_has_no_figure() -> (
    None
):
    negotiation = make_negotiation()
    request = make_version(negotiation, dated=date(2023, 10, 20))
    deal = make_version(negotiation, dated=date(2024, 2, 4))
    ukraine = make_provision(negotiation, title="Ukraine")
    arrivals = make_provision(negotiation, title="Refugees", category="humanitarian")
    VersionLine.objects.create(provision=ukraine, version=request, amount=61 * BILLION)
    VersionLine.objects.create(
        provision=arrivals, version=request, amount=BILLION // 2, within=ukraine
    )
    VersionLine.objects.create(provision=arrivals, version=deal, amount=2 * BILLION)

    comparison = funding_comparison(negotiation)

    assert [total.amount for total in comparison.totals] == [61 * BILLION, 2 * BILLION]
    rows = {row.provision: row for block in comparison.blocks for row in block.rows}
    assert rows[arrivals].cells[0].covered_by == ukraine
    assert "inside “Ukraine” in Request" in rows[arrivals].why_not_summed
    assert rows[arrivals].cells[1].is_summed


def test_a_sub_line_counts_where_its_parent_has_no_figure() -> None:
    negotiation = make_negotiation()
    early = make_version(negotiation, dated=date(2024, 1, 1), stated_total=5 * BILLION)
    late = make_version(negotiation, dated=date(2024, 2, 1), stated_total=3 * BILLION)
    parent = make_provision(negotiation, title="Border")
    child = make_provision(negotiation, title="Border: CBP", parent=parent)
    VersionLine.objects.create(provision=parent, version=early, amount=5 * BILLION)
    VersionLine.objects.create(provision=child, version=early, amount=2 * BILLION)
    VersionLine.objects.create(provision=child, version=late, amount=3 * BILLION)

    comparison = funding_comparison(negotiation)

    assert [total.amount for total in comparison.totals] == [5 * BILLION, 3 * BILLION]
    assert comparison.mismatches == [None, None]
    rows = comparison.blocks[0].rows
    assert [row.provision for row in rows] == [parent, child]
    assert rows[1].cells[1].change == 1 * BILLION
    assert rows[1].cells[1].change_since == early


def test_subtotals_carry_the_unconfirmed_mark_and_the_confirmed_only_sum() -> None:
    negotiation = make_negotiation()
    version = make_version(negotiation)
    firm = make_provision(negotiation, title="Firm")
    rounded = make_provision(negotiation, title="Rounded")
    other = make_provision(negotiation, title="Elsewhere", category="israel")
    VersionLine.objects.create(provision=firm, version=version, amount=3 * BILLION)
    VersionLine.objects.create(
        provision=rounded, version=version, amount=2 * BILLION, is_confirmed=False
    )
    VersionLine.objects.create(provision=other, version=version, amount=BILLION)

    comparison = funding_comparison(negotiation)

    ukraine, israel = (block.subtotals[0] for block in comparison.blocks)
    assert (ukraine.amount, ukraine.confirmed, ukraine.includes_unconfirmed) == (
        5 * BILLION,
        3 * BILLION,
        True,
    )
    assert not israel.includes_unconfirmed
    total = comparison.totals[0]
    assert (total.amount, total.confirmed, total.differs) == (6 * BILLION, 4 * BILLION, True)


def test_memo_lines_staff_counts_and_covered_sub_lines_are_shown_but_not_summed(demo) -> None:
    comparison = funding_comparison(demo)
    rows = {row.provision.slug: row for block in comparison.blocks for row in block.rows}
    enacted = [v.slug for v in comparison.versions].index("enacted")
    request = [v.slug for v in comparison.versions].index("request")

    assert not rows["staff-cbp-total"].cells[request].is_summed
    assert rows["taiwan-replenishment"].depth == 1
    assert not rows["taiwan-replenishment"].cells[enacted].is_summed
    assert "inside “Indo-Pacific" in rows["taiwan-replenishment"].why_not_summed
    memo = make_provision(demo, slug="memo-line", title="A memo line", is_memo=True)
    VersionLine.objects.create(provision=memo, version=comparison.versions[enacted], amount=BILLION)
    row = next(
        row
        for block in funding_comparison(demo).blocks
        for row in block.rows
        if row.provision == memo
    )
    assert not row.cells[enacted].is_summed and "memo" in row.why_not_summed


def test_a_line_whose_amount_is_unconfirmed_says_so_apart_from_its_status(
    client, viewer, demo
) -> None:
    page = _page(client, viewer, demo)

    for line in ("refugees-displaced", "nonprofit-security-grants"):
        provision = Provision.objects.get(negotiation=demo, slug=line)
        assert provision.status == "enacted"
        assert "amount unconfirmed" in _by_stage(page, line)["Enacted"]


def test_it_reads_four_queries_whatever_the_size(django_assert_num_queries) -> None:
    negotiation = make_negotiation()
    versions = [make_version(negotiation, dated=date(2024, 1, n)) for n in range(1, 4)]
    for n in range(20):
        provision = make_provision(negotiation, slug=f"line-{n}")
        for version in versions:
            VersionLine.objects.create(provision=provision, version=version, amount=n)

    with django_assert_num_queries(4):
        comparison = funding_comparison(negotiation)
    assert [total.amount for total in comparison.totals] == [sum(range(20))] * 3


def test_the_page_costs_as_many_queries_on_a_big_negotiation_as_on_the_demo(
    client, viewer, demo
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.bench.scale import ScaleSize, seed_scale
    from tracker.models import Bill, CostEstimate

    client.force_login(viewer)
    client.get("/funding/", {"negotiation": demo.slug})  # the session's one-off checks

    def queries(slug: str) -> int:
        caches[FRAGMENTS].clear()  # drawn from scratch, not kept from the request before
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/funding/", {"negotiation": slug}).status_code == 200
        return len(captured)

    on_demo = queries(demo.slug)
    big = seed_scale(
        ScaleSize(
            senators=10,
            representatives=0,
            others=0,
            provisions=240,
            demands=2,
            positions=10,
            votes=1,
            activities=10,
        )
    )
    # Lines inside others, unconfirmed figures and CBO estimates, as the demo has them.
    versions = list(big.versions.order_by("dated"))
    bill = Bill.objects.create(congress=118, bill_type="s", number=9999, negotiation=big)
    PackageVersion.objects.filter(pk__in=[v.pk for v in versions]).update(bill=bill)
    lines = list(VersionLine.objects.filter(provision__negotiation=big).order_by("pk"))
    for index, line in enumerate(lines[1:], start=1):
        line.is_confirmed = index % 3 != 0
        other = lines[index - 1].provision_id
        line.within_id = other if index % 5 == 0 and other != line.provision_id else None
    VersionLine.objects.bulk_update(lines, ["is_confirmed", "within"])
    CostEstimate.objects.bulk_create(
        CostEstimate(
            bill=bill,
            title=f"Estimate {n}",
            url=f"https://www.cbo.gov/e/{n}",
            version=versions[n % len(versions)] if n % 2 else None,
        )
        for n in range(40)
    )

    assert queries(big.slug) == on_demo


# The page ----------------------------------------------------------------------------------


def test_the_page_shows_every_line_and_the_flag(client, viewer, demo) -> None:
    page = _page(client, viewer, demo)

    for provision in Provision.objects.filter(negotiation=demo, kind="funding"):
        assert f'data-line="{provision.slug}"' in page
    assert "Check the toplines" in page
    assert "<svg" in page and "Amounts by category across versions" in page
    # The chart names every version in words, not only by pattern.
    for version in PackageVersion.objects.filter(negotiation=demo).exclude(slug="hr2"):
        assert re.search(rf"{version.get_stage_display()}: \$", page)


def test_the_page_needs_a_login(client, demo) -> None:
    response = client.get("/funding/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_page_refuses_other_methods(client, viewer, demo) -> None:
    client.force_login(viewer)
    assert client.post("/funding/").status_code == 405


def test_an_unknown_negotiation_is_a_404(client, viewer, demo) -> None:
    client.force_login(viewer)
    assert client.get("/funding/", {"negotiation": "no-such-thing"}).status_code == 404


# Empty columns collapsed on request --------------------------------------------------------


def test_a_version_with_no_figure_is_named_and_its_column_hidden_on_request(
    client, viewer, demo
) -> None:
    shown = _page(client, viewer, demo)
    assert _columns(shown)[0] == "House text"  # H.R. 2 has no funding line at all
    assert re.search(r"No figure in any line:\s+<strong>House text</strong>", shown)
    assert f'<a href="?negotiation={demo.slug}&amp;empty=hide">Hide its column</a>' in shown

    response = client.get("/funding/", {"negotiation": demo.slug, "empty": "hide"})

    hidden = response.content.decode()
    assert _columns(hidden) == ["Request", "Senate text", "Senate-passed", "Enacted"]
    assert re.search(
        r"Not shown, with no figure in any line:\s+<strong>House text</strong>", hidden
    )
    assert f'<a href="?negotiation={demo.slug}">Show every version</a>' in hidden
    # Every figure and total of the versions shown is the same as with every column.
    for line in ("ukraine", "subtotal-ukraine", "total", "stated", "gap"):
        assert _by_stage(hidden, line) == {
            stage: cell for stage, cell in _by_stage(shown, line).items() if stage != "House text"
        }, line
    assert "House text" not in re.search(r"<figure.*</figure>", hidden, re.S).group(0)


def test_the_csv_follows_the_pages_choice(client, viewer, demo) -> None:
    client.force_login(viewer)
    hidden = client.get("/funding/", {"negotiation": demo.slug, "empty": "hide"}).content.decode()
    link = re.search(r'<a href="(/funding/comparison\.csv[^"]*)" download>', hidden).group(1)
    assert link == f"/funding/comparison.csv?negotiation={demo.slug}&amp;empty=hide"

    every = client.get("/funding/comparison.csv", {"negotiation": demo.slug})
    fewer = client.get("/funding/comparison.csv", {"negotiation": demo.slug, "empty": "hide"})

    header = next(csv.reader(io.StringIO(every.content.decode("utf-8-sig"))))
    fewer_header = next(csv.reader(io.StringIO(fewer.content.decode("utf-8-sig"))))
    assert "H.R. 2, Secure the Border Act of 2023 (House-passed)" in header
    # The version's four columns (amount, unconfirmed, confirmed only, change) are gone.
    assert fewer_header == [name for name in header if "House" not in name]
    assert len(fewer_header) == len(header) - 4
    assert f"funding-{demo.slug}-with-figures.csv" in fewer["Content-Disposition"]


def test_a_column_whose_figures_are_unconfirmed_is_not_empty() -> None:
    negotiation = make_negotiation()
    counted = make_version(negotiation, slug="counted", dated=date(2024, 1, 1))
    unknown = make_version(negotiation, slug="unknown", dated=date(2024, 2, 1))
    nothing = make_version(negotiation, slug="nothing", dated=date(2024, 3, 1))
    line = make_provision(negotiation)
    VersionLine.objects.create(provision=line, version=counted, amount=5 * BILLION)
    # A line that is in the version, its amount not yet known: the column says so.
    VersionLine.objects.create(provision=line, version=unknown, amount=None, is_confirmed=False)

    comparison = funding_comparison(negotiation, hide_empty=True)

    assert comparison.versions == [counted, unknown]
    assert comparison.empty_versions == [nothing]


def test_nothing_to_hide_offers_no_toggle(client, viewer) -> None:
    negotiation = make_negotiation()
    version = make_version(negotiation)
    VersionLine.objects.create(provision=make_provision(negotiation), version=version, amount=1)
    page = _page(client, viewer, negotiation)
    assert "empty=hide" not in page and "No figure in any line" not in page


# Drawn once per change -----------------------------------------------------------------------


def _untokened(page: str) -> str:
    """The page without its CSRF token, masked afresh for every response."""
    return re.sub(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"', r"\1", page)


def _csv(client, **query) -> str:
    response = client.get("/funding/comparison.csv", query)
    assert response.status_code == 200
    return response.content.decode("utf-8-sig")


def test_a_second_view_is_the_table_drawn_afresh(client, viewer, demo, monkeypatch) -> None:
    built = []
    monkeypatch.setattr(
        funding_views,
        "funding_comparison",
        lambda *args, **kw: built.append(args) or funding_comparison(*args, **kw),
    )
    first, second = _page(client, viewer, demo), _page(client, viewer, demo)
    first_csv, second_csv = _csv(client), _csv(client)
    assert len(built) == 2  # one table for the page, one for the file
    caches[FRAGMENTS].clear()
    assert _untokened(first) == _untokened(second) == _untokened(_page(client, viewer, demo))
    assert first_csv == second_csv == _csv(client)


def test_an_amount_set_by_an_editor_shows_on_the_next_view(client, viewer, editor, demo) -> None:
    ukraine = Provision.objects.get(negotiation=demo, slug="ukraine")
    enacted = PackageVersion.objects.get(negotiation=demo, stage="enacted")
    _page(client, viewer, demo), _csv(client)

    ukraine.set_amount(enacted, 70 * BILLION, by=editor)  # as the amounts form saves it

    assert _figure(_by_stage(_page(client, viewer, demo), "ukraine")["Enacted"]) == 70 * BILLION
    assert ",70000000000," in _csv(client)


def test_each_query_gets_its_own_table(client, viewer, demo) -> None:
    """A kept table with the empty columns hidden is never served for the whole one, nor one
    negotiation's for another's."""
    other = make_negotiation(name="Another package")
    line = make_provision(other, title="Another line")
    VersionLine.objects.create(provision=line, version=make_version(other), amount=BILLION)
    client.force_login(viewer)
    for _ in range(2):
        every = client.get("/funding/", {"negotiation": demo.slug}).content.decode()
        hidden = client.get("/funding/", {"negotiation": demo.slug, "empty": "hide"})
        theirs = client.get("/funding/", {"negotiation": other.slug}).content.decode()
        assert "House text" in _columns(every)
        assert "House text" not in _columns(hidden.content.decode())
        assert "Another line" in theirs and "Another line" not in every
        assert (
            "-with-figures.csv"
            in client.get("/funding/comparison.csv", {"negotiation": demo.slug, "empty": "hide"})[
                "Content-Disposition"
            ]
        )
        assert (
            "-with-figures"
            not in client.get("/funding/comparison.csv", {"negotiation": demo.slug})[
                "Content-Disposition"
            ]
        )


def test_titles_and_notes_are_escaped_in_the_table(client, viewer) -> None:
    negotiation = make_negotiation()
    version = make_version(negotiation, name='Deal "A" & <b>B</b>')
    line = make_provision(negotiation, title="<script>alert('x')</script> & more")
    VersionLine.objects.create(
        provision=line, version=version, amount=None, is_confirmed=False, note='"quoted" <i>'
    )
    page = _page(client, viewer, negotiation)
    row = _row(page, line.slug)
    assert (
        "<script>" not in page
        and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in row
    )
    assert 'title="&quot;quoted&quot; &lt;i&gt;"' in row

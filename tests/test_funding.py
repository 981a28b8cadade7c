"""The funding comparison: lines across versions, subtotals that add up, topline flags."""

import re
from datetime import date

import pytest
from django.db.models import Sum

from tests.factories import make_negotiation, make_provision, make_version
from tracker.funding import funding_comparison
from tracker.models import PackageVersion, Provision, VersionLine

pytestmark = pytest.mark.django_db

BILLION = 1_000_000_000


def test_category_subtotals_add_up_to_each_demo_versions_total(demo) -> None:
    comparison = funding_comparison(demo)

    for index, version in enumerate(comparison.versions):
        subtotals = [block.subtotals[index] for block in comparison.blocks]
        expected = sum(amount for amount in subtotals if amount is not None)
        # Independently of the table: top-level, non-memo dollar lines straight from the database.
        in_database = VersionLine.objects.filter(
            version=version,
            provision__kind="funding",
            provision__unit="usd",
            provision__is_memo=False,
            provision__parent__isnull=True,
        ).aggregate(total=Sum("amount"))["total"]
        assert comparison.totals[index] == (expected if in_database is not None else None)
        assert comparison.totals[index] == in_database


def test_the_demo_totals_are_the_public_records_sums_and_the_gaps_are_flagged(demo) -> None:
    comparison = funding_comparison(demo)
    totals = dict(zip([v.slug for v in comparison.versions], comparison.totals, strict=True))
    gaps = dict(zip([v.slug for v in comparison.versions], comparison.mismatches, strict=True))

    # Ukraine 60.84 + Israel security 17 + humanitarian 9.15 + Indo-Pacific 8.12 (the $26.38B
    # Israel bill total is a memo line; Taiwan replenishment is part of Indo-Pacific).
    assert totals["enacted"] == 95_110_000_000
    assert gaps["enacted"] == 95_340_000_000 - 95_110_000_000
    assert totals["hr2"] is None and gaps["hr2"] is None
    assert comparison.has_mismatch


def test_memo_lines_staff_counts_and_covered_sub_lines_are_shown_but_not_summed(demo) -> None:
    comparison = funding_comparison(demo)
    rows = {row.provision.slug: row for block in comparison.blocks for row in block.rows}
    enacted = [v.slug for v in comparison.versions].index("enacted")
    request = [v.slug for v in comparison.versions].index("request")

    assert rows["israel-bill-total"].cells[enacted].amount == 26_380_000_000
    assert not rows["israel-bill-total"].cells[enacted].is_summed
    assert "memo" in rows["israel-bill-total"].why_not_summed
    assert not rows["staff-cbp-total"].cells[request].is_summed
    assert rows["taiwan-replenishment"].depth == 1
    assert not rows["taiwan-replenishment"].cells[enacted].is_summed
    assert "part of" in rows["taiwan-replenishment"].why_not_summed


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

    assert comparison.totals == [5 * BILLION, 3 * BILLION]
    assert comparison.mismatches == [None, None]
    rows = comparison.blocks[0].rows
    assert [row.provision for row in rows] == [parent, child]
    assert rows[1].cells[1].change == 1 * BILLION
    assert rows[1].cells[1].change_since == early


def test_it_reads_three_queries_whatever_the_size(django_assert_num_queries) -> None:
    negotiation = make_negotiation()
    versions = [make_version(negotiation, dated=date(2024, 1, n)) for n in range(1, 4)]
    for n in range(20):
        provision = make_provision(negotiation, slug=f"line-{n}")
        for version in versions:
            VersionLine.objects.create(provision=provision, version=version, amount=n)

    with django_assert_num_queries(3):
        comparison = funding_comparison(negotiation)
    assert comparison.totals == [sum(range(20))] * 3


def test_the_page_shows_every_line_and_the_flag(client, viewer, demo) -> None:
    client.force_login(viewer)

    response = client.get("/funding/", {"negotiation": demo.slug})

    assert response.status_code == 200
    page = response.content.decode()
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

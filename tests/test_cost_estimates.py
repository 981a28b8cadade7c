"""CBO cost estimates: read off a Congress.gov bill item's `cboCostEstimates`, stored per bill,
shown on the bill page and beside the version they score on the funding comparison, and told in
digests when new."""

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import make_negotiation, make_version
from tracker import digests
from tracker.feeds import congress
from tracker.feeds.ingest import ingest_bill
from tracker.funding import funding_comparison
from tracker.models import Activity, Bill, CostEstimate, PackageVersion

PAYLOAD = Path(__file__).resolve().parent / "fixtures/feeds/cases/congress-bill-cbo-estimates.json"


def _item() -> dict:
    return json.loads(PAYLOAD.read_text(encoding="utf-8"))


def test_it_reads_each_estimate_of_a_congress_gov_bill_item() -> None:
    record = congress.parse_bill(_item())

    first, second = record.cost_estimates
    assert first == congress.CostEstimateRecord(
        title="H.R. 815, test estimate of the Senate-passed text (written for the tests)",
        description="As passed by the Senate on February 13, 2024",
        published_at=datetime(2024, 2, 20, 17, tzinfo=UTC),
        url="https://www.cbo.gov/publication/00001",
    )
    # A date-only pubDate reads too; entries without a title or a web link are left out.
    assert second.published_at == datetime(2024, 3, 1, tzinfo=UTC)


def test_a_bill_without_estimates_has_none_and_a_malformed_list_is_an_error() -> None:
    item = _item()
    del item["bill"]["cboCostEstimates"]
    assert congress.parse_bill(item).cost_estimates == ()

    item["bill"]["cboCostEstimates"] = {"title": "not a list"}
    with pytest.raises(congress.CongressFeedError, match="cboCostEstimates is not a list"):
        congress.parse_bill(item)


@pytest.mark.django_db
def test_estimates_are_stored_per_bill_and_tied_to_the_version_they_score(demo) -> None:
    bill = Bill.objects.by_key("118-hr-815")
    bill.records_synced_at = timezone.now()  # refreshed before: what is new now is news
    bill.save(update_fields=["records_synced_at"])

    ingest_bill(congress.parse_bill(_item()), None)

    scored, unmatched = CostEstimate.objects.filter(bill=bill).order_by("published_at")
    assert scored.version == PackageVersion.objects.get(negotiation=demo, slug="senate_passed")
    assert unmatched.version is None
    news = Activity.objects.filter(bill=bill, summary__contains="new CBO cost estimate")
    assert news.count() == 2
    assert news.get(source_url=scored.url).detail == "As passed by the Senate on February 13, 2024"

    # The same item again changes nothing and tells nothing.
    assert ingest_bill(congress.parse_bill(_item()), None).outcome == "unchanged"
    assert news.count() == 2


@pytest.mark.django_db
def test_a_bills_first_refresh_stores_its_estimates_quietly(demo) -> None:
    ingest_bill(congress.parse_bill(_item()), None)

    assert CostEstimate.objects.filter(bill__number=815).count() == 2
    assert not Activity.objects.filter(summary__contains="CBO cost estimate").exists()


@pytest.mark.django_db
def test_a_new_estimate_is_in_the_digest_of_whoever_watches_the_negotiation(groups, demo) -> None:
    from tests.test_digests import subscriber

    user = subscriber()
    digests.set_watch(user, demo, watching=True)
    Bill.objects.filter(number=815).update(records_synced_at=timezone.now())

    ingest_bill(congress.parse_bill(_item()), None)

    digest = digests.build_digest(
        user, since=datetime(2020, 1, 1, tzinfo=UTC), until=datetime(2100, 1, 1, tzinfo=UTC)
    )
    summaries = [e.summary for g in digest.groups for s in g.sections for e in s.entries]
    assert (
        "H.R. 815: new CBO cost estimate — H.R. 815, test estimate of the Senate-passed text "
        "(written for the tests)"
    ) in summaries


@pytest.mark.django_db
def test_the_bill_page_lists_its_estimates_with_what_each_scores(client, viewer, demo) -> None:
    ingest_bill(congress.parse_bill(_item()), None)
    client.force_login(viewer)

    bill = Bill.objects.by_key("118-hr-815")
    page = client.get(f"/bills/{bill.pk}/").content.decode()

    section = re.search(r'<section aria-labelledby="cbo-heading".*?</section>', page, re.S).group(0)
    assert 'href="https://www.cbo.gov/publication/00001"' in section
    assert "published Feb 20, 2024 · As passed by the Senate on February 13, 2024" in section
    assert "(Senate-passed aid-only H.R. 815)" in section


@pytest.mark.django_db
def test_the_funding_comparison_shows_an_estimate_beside_the_version_it_scores(
    client, viewer, demo
) -> None:
    ingest_bill(congress.parse_bill(_item()), None)
    CostEstimate.objects.filter(url__endswith="00002").delete()
    client.force_login(viewer)

    page = client.get("/funding/").content.decode()

    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    columns = re.findall(r'<th scope="col" class="num">(.*?)</th>', head, re.S)
    by_stage = {re.sub(r"<.*", "", column, flags=re.S).strip(): column for column in columns}
    assert "CBO estimate, Feb 20, 2024" in by_stage["Senate-passed"]
    # The same bill carries the deal and the law: the estimate is not shown beside them.
    assert "00001" not in by_stage["Senate text"] and "00001" not in by_stage["Enacted"]


@pytest.mark.django_db
def test_the_demo_has_the_cbo_report_the_record_cites_beside_hr_2(client, viewer, demo) -> None:
    client.force_login(viewer)

    page = client.get("/funding/").content.decode()

    estimate = CostEstimate.objects.get(bill__number=2)
    assert estimate.url.startswith("https://legistorm.com/reports/view/cbo/20911/")
    assert (estimate.published_at, estimate.version) == (None, None)
    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    assert re.search(
        r'House text.*?<a class="cbo" href="https://legistorm\.com[^"]+"[^>]*>CBO estimate</a>'
        r' <span class="muted small">\(text scored not stated\)</span>',
        head,
        re.S,
    )


@pytest.mark.django_db
def test_the_estimates_cost_the_comparison_one_query_however_many(
    django_assert_num_queries,
) -> None:
    negotiation = make_negotiation()
    bill = Bill.objects.create(congress=118, bill_type="hr", number=1, negotiation=negotiation)
    versions = [make_version(negotiation, dated=date(2024, 1, n), bill=bill) for n in range(1, 4)]
    for n in range(30):
        CostEstimate.objects.create(
            bill=bill,
            title=f"Estimate {n}",
            url=f"https://www.cbo.gov/x/{n}",
            version=versions[n % 3],
        )

    with django_assert_num_queries(4):
        comparison = funding_comparison(negotiation)
    assert [len(comparison.estimates[v.pk]) for v in versions] == [10, 10, 10]

"""Staff open any bill or roll call and see what Congress published, and every status a feed
brought in says from where and as of when."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_negotiation, make_provision, make_stakeholder, make_version
from tracker.models import (
    Activity,
    ActivityKind,
    Amendment,
    Bill,
    BillAction,
    BillSummary,
    BillTextVersion,
    BillTitle,
    Cosponsor,
    Negotiation,
    VersionLine,
    Vote,
    VoteCast,
    normalise_cast,
)
from tracker.models.whip import VoteTarget

pytestmark = pytest.mark.django_db

EASTERN = ZoneInfo("America/New_York")
SENATE_ROLL_154 = (
    "https://www.senate.gov/legislative/LIS/roll_call_votes/vote1182/vote_118_2_00154.xml"
)


@pytest.fixture
def negotiation(settings) -> Negotiation:
    negotiation = make_negotiation(slug="supplemental-2024", name="The supplemental")
    settings.CURRENT_NEGOTIATION = negotiation.slug
    return negotiation


@pytest.fixture
def bill(negotiation: Negotiation) -> Bill:
    return Bill.objects.create(
        negotiation=negotiation,
        congress=118,
        bill_type="hr",
        number=815,
        title="National Security Act, 2024",
        introduced_on=date(2023, 2, 6),
        latest_action_on=date(2024, 4, 24),
        latest_action_text="Became Public Law No: 118-50.",
        public_law="118-50",
    )


def _senate_vote(bill: Bill, **fields) -> Vote:
    defaults = {
        "chamber": "senate",
        "congress": 118,
        "session": 2,
        "roll_number": 154,
        "voted_on": date(2024, 4, 23),
        "voted_at": datetime(2024, 4, 23, 20, 58, tzinfo=EASTERN),
        "question": "On the Motion (Motion to Concur in the House Amendment to the Senate "
        "Amendment to H.R. 815)",
        "result": "Motion Agreed to",
        "majority_requirement": "1/2",
        "yeas": 3,
        "nays": 2,
        "not_voting": 1,
        "bill": bill,
        "source_url": "https://dailypress.senate.gov/?p=122228",
    }
    return Vote.objects.create(**defaults | fields)


def _cast(vote: Vote, name: str, published_as: str, party: str = "D", state: str = "CT"):
    member = make_stakeholder(name=name, party=party, state=state)
    return VoteCast.objects.create(
        vote=vote,
        member=member,
        published_as=published_as,
        cast=normalise_cast(published_as),
        party=party,
        state=state,
    )


@pytest.fixture
def roll_call(bill: Bill) -> Vote:
    """Senate roll call 154, cut down to six senators: 3-2 with one not voting."""
    vote = _senate_vote(bill)
    _cast(vote, "Christopher Murphy", "Yea")
    _cast(vote, "Chuck Schumer", "Yea", state="NY")
    _cast(vote, "Mitch McConnell", "Yea", party="R", state="KY")
    _cast(vote, "Rand Paul", "Nay", party="R", state="KY")
    _cast(vote, "Mike Lee", "Nay", party="R", state="UT")
    _cast(vote, "Tina Smith", "Not Voting", state="MN")
    return vote


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# Access ----------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client: Client, roll_call: Vote) -> None:
    for url in [
        reverse("tracker-vote-list"),
        reverse("tracker-vote-detail", args=[roll_call.pk]),
        reverse("tracker-bill-list"),
        reverse("tracker-bill-detail", args=[roll_call.bill_id]),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_a_missing_vote_or_bill_is_not_found(client: Client, viewer, negotiation) -> None:
    client.force_login(viewer)
    assert client.get(reverse("tracker-vote-detail", args=[9999])).status_code == 404
    assert client.get(reverse("tracker-bill-detail", args=[9999])).status_code == 404


def test_the_pages_only_read(client: Client, editor, roll_call: Vote) -> None:
    client.force_login(editor)
    assert client.post(reverse("tracker-vote-detail", args=[roll_call.pk])).status_code == 405
    assert client.post(reverse("tracker-bill-list")).status_code == 405


def test_the_navigation_leads_to_bills_and_votes(client: Client, viewer, negotiation) -> None:
    client.force_login(viewer)
    page = _page(client, reverse("tracker-vote-list"))
    assert f'href="{reverse("tracker-bill-list")}">Bills</a>' in page
    # The page you are on is marked as the current one in the menu.
    assert f'href="{reverse("tracker-vote-list")}" aria-current="page">Votes</a>' in page


# Votes -----------------------------------------------------------------------------------------


def test_a_viewer_finds_the_roll_call_in_the_votes_list(
    client: Client, viewer, roll_call: Vote
) -> None:
    client.force_login(viewer)
    page = _page(client, reverse("tracker-vote-list"))
    assert reverse("tracker-vote-detail", args=[roll_call.pk]) in page
    assert "Motion Agreed to" in page
    assert "3-2, 1 not voting" in page
    assert "From the public record, entered by hand" in page


def test_a_viewer_sees_the_casts_grouped_with_counts_that_match_the_tally(
    client: Client, viewer, roll_call: Vote
) -> None:
    client.force_login(viewer)
    response = client.get(reverse("tracker-vote-detail", args=[roll_call.pk]))
    page = response.content.decode()

    counts = dict(re.findall(r'<li><a href="#cast-\w+">([\w ]+)</a> <strong>(\d+)</strong>', page))
    counts = {label: int(count) for label, count in counts.items()}
    assert counts == {"Yes": 3, "No": 2, "Not voting": 1}
    assert (counts["Yes"], counts["No"]) == (roll_call.yeas, roll_call.nays)
    assert "does not add up" not in page
    # The Senate's own words head each group; no row repeats them.
    assert "printed as “Yea”" in page and "printed as “Nay”" in page
    assert 'class="published">“Yea”' not in page
    rand_paul = roll_call.casts.get(member__name="Rand Paul").member
    assert f'<a href="{rand_paul.get_absolute_url()}">Rand Paul</a>' in page
    assert "(R-KY)" in page
    assert "Motion Agreed to" in page and "3-2, 1 not voting" in page
    assert "roll call 154" in page
    assert reverse("tracker-bill-detail", args=[roll_call.bill_id]) in page
    assert f"{reverse('tracker-timeline')}?vote={roll_call.pk}" in page


def test_the_page_warns_when_the_casts_do_not_add_up_to_the_tally(
    client: Client, viewer, roll_call: Vote
) -> None:
    Vote.objects.filter(pk=roll_call.pk).update(yeas=4)
    client.force_login(viewer)
    page = _page(client, reverse("tracker-vote-detail", args=[roll_call.pk]))
    assert "does not add up to the published tally" in page


def test_a_house_vote_shows_each_cast_as_the_clerk_printed_it(
    client: Client, viewer, bill: Bill
) -> None:
    vote = _senate_vote(
        bill,
        chamber="house",
        session=2,
        roll_number=151,
        question="On Passage",
        result="Passed",
        yeas=2,
        nays=1,
        present=1,
        not_voting=0,
        source_url="https://clerk.house.gov/evs/2024/roll151.xml",
    )
    _cast(vote, "Hakeem Jeffries", "Aye", state="NY")
    _cast(vote, "Mike Johnson", "Aye", party="R", state="LA")
    _cast(vote, "Thomas Massie", "No", party="R", state="KY")
    _cast(vote, "Rashida Tlaib", "Present, Giving Live Pair", state="MI")
    client.force_login(viewer)
    page = _page(client, reverse("tracker-vote-detail", args=[vote.pk]))
    assert "printed as “Aye”" in page
    assert "“Present, Giving Live Pair”" in page
    assert "printed as “No”" not in page  # the group's own name needs no gloss


def test_a_synced_vote_says_it_came_from_senate_gov_and_when(
    client: Client, viewer, roll_call: Vote
) -> None:
    Vote.objects.filter(pk=roll_call.pk).update(
        source_url=SENATE_ROLL_154,
        last_synced_at=datetime(2024, 4, 24, 14, 5, tzinfo=EASTERN),
        source_modified_at=datetime(2024, 4, 24, 9, 30, tzinfo=EASTERN),
    )
    client.force_login(viewer)
    for url in [
        reverse("tracker-vote-detail", args=[roll_call.pk]),
        reverse("tracker-vote-list"),
    ]:
        page = _page(client, url)
        assert f'From <a href="{SENATE_ROLL_154}" rel="noopener noreferrer">senate.gov</a>' in page
        assert (
            'checked <time datetime="2024-04-24T14:05:00-04:00">Apr 24, 2024 14:05</time>' in page
        )
        assert 'record modified <time datetime="2024-04-24T09:30:00-04:00">' in page
        assert "entered by hand" not in page


def test_a_hand_entered_vote_says_so_and_links_its_source(
    client: Client, viewer, roll_call: Vote
) -> None:
    client.force_login(viewer)
    page = _page(client, reverse("tracker-vote-detail", args=[roll_call.pk]))
    assert "From the public record, entered by hand" in page
    assert '<a href="https://dailypress.senate.gov/?p=122228"' in page
    assert "checked" not in page


def test_a_vote_without_a_confirmed_roll_number_says_so(client: Client, viewer, bill) -> None:
    vote = _senate_vote(bill, roll_number=None, is_confirmed=False)
    client.force_login(viewer)
    page = _page(client, reverse("tracker-vote-detail", args=[vote.pk]))
    assert "roll number unconfirmed" in page
    assert "No member-by-member record for this vote" in page


def test_a_tie_broken_by_the_vice_president_is_shown(client: Client, viewer, bill) -> None:
    vote = _senate_vote(
        bill, yeas=50, nays=50, tie_breaker_by="Vice President", tie_breaker_vote="Yea"
    )
    client.force_login(viewer)
    page = _page(client, reverse("tracker-vote-detail", args=[vote.pk]))
    assert "Tie broken by Vice President" in page


def test_the_vote_page_links_to_the_whip_count_checked_against_it(
    client: Client, viewer, roll_call: Vote
) -> None:
    target = VoteTarget.objects.create(
        negotiation=roll_call.bill.negotiation, motion="Concur in the House amendment"
    )
    VoteTarget.objects.filter(pk=target.pk).update(vote=roll_call)
    client.force_login(viewer)
    page = _page(client, reverse("tracker-vote-detail", args=[roll_call.pk]))
    assert reverse("tracker-whip-results", args=[target.pk]) in page


def test_the_chamber_filter_shows_one_chambers_votes(client: Client, viewer, bill: Bill) -> None:
    _senate_vote(bill, question="A Senate cloture vote")
    _senate_vote(bill, chamber="house", roll_number=151, question="A House passage vote")
    client.force_login(viewer)

    senate = _page(client, reverse("tracker-vote-list") + "?chamber=senate")
    assert "A Senate cloture vote" in senate and "A House passage vote" not in senate

    response = client.get(
        reverse("tracker-vote-list") + "?chamber=house", headers={"HX-Request": "true"}
    )
    fragment = response.content.decode()
    assert "<html" not in fragment and 'id="vote-results"' in fragment
    assert "A House passage vote" in fragment and "A Senate cloture vote" not in fragment


def test_the_votes_list_pages_by_25_and_leaves_out_other_negotiations(
    client: Client, viewer, bill: Bill
) -> None:
    for roll in range(1, 28):
        _senate_vote(bill, roll_number=roll, question=f"Vote number {roll}")
    elsewhere = Bill.objects.create(
        negotiation=make_negotiation(), congress=118, bill_type="s", number=1
    )
    _senate_vote(elsewhere, roll_number=900, question="Another negotiation's vote")
    client.force_login(viewer)

    first = _page(client, reverse("tracker-vote-list"))
    assert "27 votes" in first and "Page 1 of 2" in first
    assert "Vote number 27" in first and "Vote number 2<" not in first
    assert "Another negotiation's vote" not in first
    second = _page(client, reverse("tracker-vote-list") + "?page=2")
    assert "Vote number 2<" in second and "Vote number 1<" in second


def test_a_bill_page_shows_its_latest_votes_and_leads_to_all_of_them(
    client: Client, viewer, bill: Bill
) -> None:
    for roll in range(1, 26):
        _senate_vote(bill, roll_number=roll, question=f"Vote number {roll}")
    other = Bill.objects.create(negotiation=bill.negotiation, congress=118, bill_type="s", number=2)
    _senate_vote(other, roll_number=900, question="A vote on another bill")
    client.force_login(viewer)

    page = _page(client, reverse("tracker-bill-detail", args=[bill.pk]))
    assert "Vote number 25" in page and "Vote number 6<" in page and "Vote number 5<" not in page
    all_votes = f"{reverse('tracker-vote-list')}?bill={bill.pk}"
    assert f'href="{all_votes}"' in page and "All 25 votes on H.R. 815" in page

    listed = _page(client, all_votes)
    assert "25 votes" in listed and "Roll calls on" in listed
    assert "A vote on another bill" not in listed
    second = _page(client, all_votes + "&page=2")
    assert "Vote number 1<" in second


# Bills -----------------------------------------------------------------------------------------


@pytest.fixture
def published_bill(bill: Bill) -> Bill:
    """H.R. 815 with a little of everything Congress.gov publishes about it."""
    make_version(bill.negotiation, name="Enacted law", stage="enacted", bill=bill)
    for acted_on, text in [
        (date(2024, 2, 13), "Passed Senate with an amendment by Yea-Nay Vote. 70 - 29."),
        (date(2024, 4, 24), "Became Public Law No: 118-50."),
    ]:
        BillAction.objects.create(
            bill=bill,
            acted_on=acted_on,
            text=text,
            fingerprint=BillAction.fingerprint_for(
                acted_on=acted_on,
                acted_at_time=None,
                source_system_code=None,
                action_code="",
                text=text,
            ),
        )
    Amendment.objects.create(
        bill=bill,
        congress=118,
        amendment_type="samdt",
        number=1388,
        purpose="In the nature of a substitute.",
        latest_action_on=date(2024, 2, 13),
        latest_action_text="Amendment SA 1388 agreed to in Senate by Unanimous Consent.",
    )
    murphy = make_stakeholder(name="Christopher Murphy", party="D", state="CT")
    Cosponsor.objects.create(
        bill=bill,
        bioguide_id="M001169",
        member=murphy,
        full_name="Sen. Murphy, Christopher [D-CT]",
        party="D",
        state="CT",
        sponsored_on=date(2023, 2, 6),
        is_original=True,
    )
    Cosponsor.objects.create(
        bill=bill,
        bioguide_id="X000001",
        full_name="Rep. Example, Withdrawn [R-TX]",
        party="R",
        state="TX",
        sponsored_on=date(2023, 3, 1),
        withdrawn_on=date(2023, 5, 2),
    )
    BillSummary.objects.create(
        bill=bill,
        version_code="49",
        acted_on=date(2024, 4, 24),
        action_desc="Public Law",
        text='<p>Text</p><p>Tom &amp; Jerry &lt;script&gt;alert("x")&lt;/script&gt;</p>'
        '<script>alert("y")</script>',
    )
    BillSummary.objects.create(
        bill=bill,
        version_code="00",
        acted_on=date(2023, 2, 6),
        action_desc="Introduced in House",
        text="<p>This bill was a shell.</p>",
    )
    BillTextVersion.objects.create(
        bill=bill,
        version_type="Enrolled Bill",
        dated=datetime(2024, 4, 24, tzinfo=EASTERN),
        formats=[
            ["PDF", "https://www.congress.gov/118/bills/hr815/BILLS-118hr815enr.pdf"],
            ["Formatted Text", "https://www.congress.gov/118/bills/hr815/BILLS-118hr815enr.htm"],
        ],
    )
    BillTitle.objects.create(
        bill=bill, title_type="Short Title(s) as Enacted", title="21st Century Peace Act"
    )
    return bill


def test_a_viewer_finds_the_bill_in_the_bills_list(client: Client, viewer, bill: Bill) -> None:
    client.force_login(viewer)
    page = _page(client, reverse("tracker-bill-list"))
    assert reverse("tracker-bill-detail", args=[bill.pk]) in page
    assert "H.R. 815" in page and "Became Public Law No: 118-50." in page
    assert "Pub. L. 118-50" in page
    assert "From the public record, entered by hand" in page


def test_the_bill_page_shows_what_congress_gov_published(
    client: Client, viewer, published_bill: Bill
) -> None:
    client.force_login(viewer)
    page = _page(client, reverse("tracker-bill-detail", args=[published_bill.pk]))

    assert "National Security Act, 2024" in page and "Public Law 118-50" in page
    assert published_bill.congress_gov_url in page
    assert "Enacted law" in page  # the package version that uses the bill
    # Actions, newest first.
    assert page.index("Became Public Law No: 118-50.") < page.index("Passed Senate with")
    assert "S.Amdt. 1388" in page and "In the nature of a substitute." in page
    assert "https://www.congress.gov/amendment/118th-congress/senate-amendment/1388" in page
    # Cosponsors: both listed, the member linked, the withdrawn one marked with the date.
    murphy = published_bill.cosponsors.get(bioguide_id="M001169").member
    assert f'<a href="{murphy.get_absolute_url()}">Sen. Murphy, Christopher [D-CT]</a>' in page
    assert "Rep. Example, Withdrawn [R-TX]" in page
    assert "withdrawn May 2, 2023" in page
    # Counted as Congress.gov counts them: current cosponsors only.
    assert '<span class="item-count">1</span></h2>' in page
    assert "1 current; 1 withdrew and is still listed" in page
    # Text versions link to each format; the titles and older summaries fold away.
    assert 'href="https://www.congress.gov/118/bills/hr815/BILLS-118hr815enr.pdf"' in page
    assert "Formatted Text</a>" in page
    assert "21st Century Peace Act" in page
    assert "<summary>Introduced in House" in page and "This bill was a shell." in page
    assert f"{reverse('tracker-timeline')}?bill={published_bill.pk}" in page


def test_a_summary_is_shown_as_text_and_nothing_in_it_runs(
    client: Client, viewer, published_bill: Bill
) -> None:
    client.force_login(viewer)
    page = _page(client, reverse("tracker-bill-detail", args=[published_bill.pk]))
    assert '<div class="summary-text">Text\nTom &amp; Jerry' in page
    assert "<p>Text</p>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_a_synced_bill_says_it_came_from_congress_gov_and_when(
    client: Client, viewer, bill: Bill
) -> None:
    Bill.objects.filter(pk=bill.pk).update(
        last_synced_at=datetime(2024, 11, 28, 14, 5, tzinfo=EASTERN),
        source_updated_at=datetime(2024, 11, 27, 4, 12, tzinfo=EASTERN),
    )
    client.force_login(viewer)
    for url in [reverse("tracker-bill-detail", args=[bill.pk]), reverse("tracker-bill-list")]:
        page = _page(client, url)
        source = f'<a href="{bill.congress_gov_url}" rel="noopener noreferrer">congress.gov</a>'
        assert f"From {source}" in page
        assert 'checked <time datetime="2024-11-28T14:05:00-05:00">Nov 28, 2024 14:05' in page
        assert "updated on Congress.gov <time" in page
        assert "entered by hand" not in page


# Links from the rest of the app ----------------------------------------------------------------


def test_the_dashboard_links_each_recent_vote_with_its_source(
    client: Client, viewer, roll_call: Vote
) -> None:
    client.force_login(viewer)
    page = _page(client, reverse("tracker-home"))
    assert reverse("tracker-vote-detail", args=[roll_call.pk]) in page
    assert "From the public record, entered by hand" in page


def test_a_provision_links_the_votes_and_actions_on_its_bills_with_their_sources(
    client: Client, viewer, published_bill: Bill, roll_call: Vote
) -> None:
    Bill.objects.filter(pk=published_bill.pk).update(
        last_synced_at=datetime(2024, 11, 28, 14, 5, tzinfo=EASTERN)
    )
    provision = make_provision(published_bill.negotiation, title="Ukraine aid")
    VersionLine.objects.create(
        provision=provision, version=published_bill.versions.get(), amount=60_000_000_000
    )
    client.force_login(viewer)
    page = _page(client, provision.get_absolute_url())
    assert reverse("tracker-vote-detail", args=[roll_call.pk]) in page
    assert reverse("tracker-bill-detail", args=[published_bill.pk]) in page
    assert "From the public record, entered by hand" in page  # the hand-entered roll call
    assert 'H.R. 815: <span class="provenance">From <a' in page  # the synced bill's actions


def test_a_timeline_entry_leads_to_its_vote(client: Client, viewer, roll_call: Vote) -> None:
    Activity.objects.create(
        negotiation=roll_call.bill.negotiation,
        kind=ActivityKind.VOTE,
        source="senate.gov",
        summary="Senate roll call 154: Motion Agreed to (79-18)",
        vote=roll_call,
        bill=roll_call.bill,
    )
    client.force_login(viewer)
    page = _page(client, reverse("tracker-timeline"))
    assert f'<a href="{reverse("tracker-vote-detail", args=[roll_call.pk])}">vote page</a>' in page


def test_a_digest_links_a_vote_to_its_page(roll_call: Vote) -> None:
    from tracker.digests import _item_path

    assert _item_path("vote", roll_call) == reverse("tracker-vote-detail", args=[roll_call.pk])
    assert _item_path("bill", roll_call.bill) == reverse(
        "tracker-bill-detail", args=[roll_call.bill_id]
    )

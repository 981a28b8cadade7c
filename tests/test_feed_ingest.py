"""Ingest: natural keys, idempotence, amended votes updated in place, bad rolls kept out."""

import dataclasses
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracker.demo.replay import RECORDED_FEEDS
from tracker.feeds import congress, house, senate
from tracker.feeds.ingest import (
    BillIndex,
    IngestError,
    MemberIndex,
    VoteIndex,
    ingest_bill,
    ingest_legislator,
    ingest_roll_call,
    merge_bill_details,
)
from tracker.feeds.legislators import Legislator
from tracker.models import Activity, Bill, BillAction, Stakeholder, Vote, VoteCast

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"
VOTE_48 = RECORDED_FEEDS / "senate/roll_call_votes/vote1182/vote_118_2_00048.xml"
HOUSE_151 = FIXTURES / "cases/house-roll-2024-151-small.xml"

pytestmark = pytest.mark.django_db


def senate_48() -> senate.RollCall:
    return senate.parse_vote(VOTE_48.read_bytes())


def ingest(roll: senate.RollCall) -> str:
    return ingest_roll_call(roll, members=MemberIndex(roll.chamber), bills=BillIndex()).outcome


def test_it_updates_the_demo_vote_in_place_and_writes_nothing_for_the_same_record(demo) -> None:
    votes, casts, activities = (
        Vote.objects.count(),
        VoteCast.objects.count(),
        Activity.objects.count(),
    )
    assert ingest(senate_48()) == "unchanged"
    assert ingest(senate_48()) == "unchanged"
    assert (Vote.objects.count(), VoteCast.objects.count(), Activity.objects.count()) == (
        votes,
        casts,
        activities,
    )
    assert Vote.objects.get(
        chamber="senate", congress=118, session=2, roll_number=48
    ).last_synced_at


def test_an_amended_vote_updates_in_place_and_says_so(demo) -> None:
    roll = senate_48()
    first = roll.casts[0]
    flipped = "Nay" if first.published_as == "Yea" else "Yea"
    yeas, nays = (
        (roll.yeas - 1, roll.nays + 1) if flipped == "Nay" else (roll.yeas + 1, roll.nays - 1)
    )
    amended = dataclasses.replace(
        roll,
        yeas=yeas,
        nays=nays,
        casts=(dataclasses.replace(first, published_as=flipped), *roll.casts[1:]),
    )
    assert ingest(amended) == "updated"
    vote = Vote.objects.get(chamber="senate", congress=118, session=2, roll_number=48)
    assert (vote.yeas, vote.nays) == (yeas, nays)
    member = Stakeholder.objects.get(lis_id=first.member_id)
    assert VoteCast.objects.get(vote=vote, member=member).published_as == flipped
    news = Activity.objects.filter(vote=vote, source="senate.gov").get()
    assert "amended by senate.gov" in news.summary and "1 member vote changed" in news.summary
    assert news.bill.key == "118-hr-815" and news.negotiation_id == demo.pk
    assert ingest(amended) == "unchanged"
    assert Activity.objects.filter(vote=vote, source="senate.gov").count() == 1


def test_a_new_vote_creates_its_casts_and_unknown_members_from_the_payload(db) -> None:
    roll = house.parse_roll(HOUSE_151.read_bytes())
    members = MemberIndex("house")
    outcome = ingest_roll_call(roll, members=members, bills=BillIndex())
    assert outcome.outcome == "created"
    assert len(outcome.new_members) == 5
    vote = Vote.objects.get(chamber="house", congress=118, session=2, roll_number=151)
    assert vote.casts.count() == 5
    assert sorted(vote.casts.values_list("cast", flat=True)) == [
        "absent",
        "no",
        "present",
        "yes",
        "yes",
    ]
    bean = Stakeholder.objects.get(bioguide_id="T000002")
    assert (bean.name, bean.kind, bean.party, bean.state) == ("Bean", "representative", "R", "FL")
    assert Activity.objects.filter(vote=vote, kind="vote").count() == 1
    # The same payload again: nothing new, no Activity.
    assert ingest_roll_call(roll, members=members, bills=BillIndex()).outcome == "unchanged"
    assert Activity.objects.filter(vote=vote).count() == 1


def test_a_changed_result_is_news(db) -> None:
    roll = house.parse_roll(HOUSE_151.read_bytes())
    ingest(roll)
    ingest(dataclasses.replace(roll, result="Failed"))
    vote = Vote.objects.get(chamber="house", roll_number=151)
    assert vote.result == "Failed"
    assert Activity.objects.filter(vote=vote, summary__contains="result Passed → Failed").exists()


def test_a_roll_whose_counts_disagree_with_its_members_changes_nothing(demo) -> None:
    roll = senate_48()
    before = list(VoteCast.objects.filter(vote__roll_number=48).values_list("pk", "published_as"))
    with pytest.raises(IngestError, match="senate-118-2-48: yeas: 71 published, 70 listed"):
        ingest(dataclasses.replace(roll, yeas=71))
    with pytest.raises(IngestError, match="unknown vote values: 'Maybe'"):
        casts = (dataclasses.replace(roll.casts[0], published_as="Maybe"), *roll.casts[1:])
        ingest(dataclasses.replace(roll, casts=casts))
    with pytest.raises(IngestError, match="members listed twice"):
        ingest(dataclasses.replace(roll, casts=(*roll.casts, roll.casts[0])))
    after = list(VoteCast.objects.filter(vote__roll_number=48).values_list("pk", "published_as"))
    assert before == after


def test_it_keeps_published_values_and_normalises_them(db) -> None:
    roll = house.parse_roll(HOUSE_151.read_bytes())
    casts = (
        dataclasses.replace(roll.casts[3], published_as="Present, Giving Live Pair"),
        *[c for i, c in enumerate(roll.casts) if i != 3],
    )
    ingest(dataclasses.replace(roll, casts=casts))
    cast = VoteCast.objects.get(member__bioguide_id="T000004")
    assert (cast.published_as, cast.cast) == ("Present, Giving Live Pair", "present")


def test_queries_per_vote_do_not_grow_with_its_casts(db) -> None:
    small = house.parse_roll(HOUSE_151.read_bytes())
    many = tuple(
        dataclasses.replace(small.casts[0], member_id=f"X{n:06d}", published_as="Yea")
        for n in range(60)
    )
    big = dataclasses.replace(
        small, roll_number=152, yeas=60, nays=0, present=0, not_voting=0, casts=many
    )
    small_members, big_members = MemberIndex("house"), MemberIndex("house")
    small_members.ensure(small.casts)
    big_members.ensure(big.casts)  # member creation is counted apart from the vote
    with CaptureQueriesContext(connection) as small_queries:
        ingest_roll_call(small, members=small_members, bills=BillIndex())
    with CaptureQueriesContext(connection) as big_queries:
        ingest_roll_call(big, members=big_members, bills=BillIndex())
    assert len(big_queries) == len(small_queries)


def test_a_run_rereading_its_session_writes_nothing_and_reads_only_the_casts(db) -> None:
    roll = house.parse_roll(HOUSE_151.read_bytes())
    ingest(roll)
    activities = Activity.objects.count()
    # As a sync run: the session's votes are read once, then each unchanged vote costs one query.
    members, bills, votes = MemberIndex("house"), BillIndex(), VoteIndex()
    assert ingest_roll_call(roll, members=members, bills=bills, votes=votes).outcome == "unchanged"
    with CaptureQueriesContext(connection) as queries:
        outcome = ingest_roll_call(roll, members=members, bills=bills, votes=votes)
    assert outcome.outcome == "unchanged"
    assert [query["sql"].split()[0] for query in queries] == ["SELECT"]
    assert Activity.objects.count() == activities


def test_a_run_sees_its_own_writes_when_a_vote_comes_twice(db) -> None:
    roll = house.parse_roll(HOUSE_151.read_bytes())
    members, bills, votes = MemberIndex("house"), BillIndex(), VoteIndex()
    assert ingest_roll_call(roll, members=members, bills=bills, votes=votes).outcome == "created"
    assert ingest_roll_call(roll, members=members, bills=bills, votes=votes).outcome == "unchanged"
    failed = dataclasses.replace(roll, result="Failed")
    assert ingest_roll_call(failed, members=members, bills=bills, votes=votes).outcome == "updated"
    assert ingest_roll_call(failed, members=members, bills=bills, votes=votes).outcome == (
        "unchanged"
    )
    vote = Vote.objects.get(chamber="house", roll_number=151)
    assert (vote.result, vote.casts.count(), Activity.objects.filter(vote=vote).count()) == (
        "Failed",
        5,
        2,
    )


def test_a_vote_stored_behind_the_runs_back_is_compared_not_duplicated(db) -> None:
    roll = house.parse_roll(HOUSE_151.read_bytes())
    votes = VoteIndex()
    votes.get(roll)  # the run read its session before another process stored this vote
    ingest(roll)
    outcome = ingest_roll_call(roll, members=MemberIndex("house"), bills=BillIndex(), votes=votes)
    assert outcome.outcome == "unchanged"
    assert Vote.objects.filter(chamber="house", roll_number=151).count() == 1
    assert VoteCast.objects.count() == 5
    assert Activity.objects.filter(kind="vote").count() == 1


def test_a_bill_is_keyed_by_number_and_its_actions_merge_without_duplicates(demo) -> None:
    import json

    item = json.loads((RECORDED_FEEDS / "congress/bill/118/hr/815.json").read_text())
    record = dataclasses.replace(congress.parse_bill(item), title="A new official title")
    pages = ["actions.json", "actions.offset-10.json"]
    actions = tuple(
        congress.parse_action(action)
        for page in pages
        for action in json.loads((RECORDED_FEEDS / "congress/bill/118/hr/815" / page).read_text())[
            "actions"
        ]
    )
    bills = Bill.objects.count()
    outcome = ingest_bill(record, congress.ActionList(actions, 15))
    assert outcome.outcome == "updated"
    assert Bill.objects.count() == bills
    bill = Bill.objects.by_key("118-hr-815")
    assert bill.title == "A new official title"
    assert bill.actions.count() == 15
    assert (
        Activity.objects.filter(bill=bill, kind="bill_action", source="congress.gov").count() == 15
    )
    assert ingest_bill(record, congress.ActionList(actions, 15)).outcome == "unchanged"
    assert Activity.objects.filter(bill=bill, kind="bill_action").count() == 15
    # A short list (a page went missing) never removes actions.
    ingest_bill(record, congress.ActionList(actions[:1], 4))
    assert BillAction.objects.filter(bill=bill).count() == 15


def _cosponsor(bioguide_id: str, name: str, **changes) -> congress.CosponsorRecord:
    record = congress.CosponsorRecord(
        bioguide_id=bioguide_id,
        full_name=name,
        party="D",
        state="WA",
        district=None,
        sponsored_on=date(2024, 2, 1),
        is_original=True,
        withdrawn_on=None,
    )
    return dataclasses.replace(record, **changes)


def _details(**parts) -> congress.BillDetails:
    empty = {"amendments": (), "cosponsors": (), "titles": (), "summaries": (), "texts": ()}
    return congress.BillDetails(**{**empty, **parts})


def test_bill_details_merge_once_and_tell_the_timeline_only_what_is_new(demo) -> None:
    bill = Bill.objects.by_key("118-hr-815")
    murray = Stakeholder.objects.get(lis_id="S229")
    amendment = congress.AmendmentRecord(
        congress=118,
        amendment_type="samdt",
        number=1388,
        purpose="In the nature of a substitute.",
        description="",
        latest_action_on=date(2024, 2, 7),
        latest_action_text="Cloture on amendment SA 1388 not invoked in Senate.",
        updated_at=None,
    )
    summary = congress.SummaryRecord(
        "00", date(2023, 2, 2), "Introduced in House", None, "<p>x</p>"
    )
    text = congress.TextVersionRecord(
        "Enrolled Bill", None, (("PDF", "https://example.org/b.pdf"),)
    )
    details = _details(
        amendments=(amendment,),
        cosponsors=(_cosponsor(murray.bioguide_id, "Sen. Murray, Patty [D-WA]"),),
        titles=(congress.TitleRecord("Official title", "Official Title as Introduced"),),
        summaries=(summary,),
        texts=(text,),
    )
    before = Activity.objects.count()
    assert merge_bill_details(bill, details) == 5
    news = list(
        Activity.objects.filter(bill=bill, kind="bill_record").values_list("summary", flat=True)
    )
    assert len(news) == 4  # titles are bookkeeping, not news
    assert "H.R. 815: S.Amdt. 1388 — In the nature of a substitute." in news
    assert bill.cosponsors.get().member == murray
    assert bill.texts.get().formats == [["PDF", "https://example.org/b.pdf"]]

    # The same lists again: nothing written.
    assert merge_bill_details(bill, details) == 0
    assert Activity.objects.count() == before + 4

    # The amendment moves on (stored; its vote and the bill's actions tell that story) and a
    # cosponsor withdraws (news).
    passed = dataclasses.replace(
        amendment, latest_action_on=date(2024, 2, 12), latest_action_text="Agreed to 66-33."
    )
    withdrawn = _cosponsor(
        murray.bioguide_id, "Sen. Murray, Patty [D-WA]", withdrawn_on=date(2024, 3, 1)
    )
    assert merge_bill_details(bill, _details(amendments=(passed,), cosponsors=(withdrawn,))) == 2
    assert bill.amendments.get().latest_action_text == "Agreed to 66-33."
    latest = Activity.objects.filter(bill=bill, kind="bill_record").latest("id")
    assert latest.summary == "H.R. 815: Sen. Murray, Patty [D-WA] withdrew as a cosponsor"
    assert Activity.objects.count() == before + 5
    # Lists that arrive empty (a glitch upstream) never wipe what is stored.
    assert bill.summaries.count() == 1 and bill.texts.count() == 1


def test_a_list_shorter_than_its_published_count_adds_but_never_removes(demo) -> None:
    bill = Bill.objects.by_key("118-hr-815")
    both = tuple(_cosponsor(f"X{n:06d}", f"Rep. Member {n}") for n in range(2))
    merge_bill_details(bill, _details(cosponsors=both))
    one_page_missing = _details(cosponsors=both[:1], complete=frozenset({"amendments"}))
    merge_bill_details(bill, one_page_missing)
    assert bill.cosponsors.count() == 2
    # The whole list again, now without the second member: a real removal.
    merge_bill_details(bill, _details(cosponsors=both[:1]))
    assert list(bill.cosponsors.values_list("full_name", flat=True)) == ["Rep. Member 0"]


def test_an_unchanged_list_is_compared_in_the_same_queries_however_long(demo) -> None:
    bill = Bill.objects.by_key("118-hr-815")

    def queries_for_unchanged(size: int) -> int:
        cosponsors = tuple(_cosponsor(f"Y{size}{n:05d}", f"Rep. Member {n}") for n in range(size))
        merge_bill_details(bill, _details(cosponsors=cosponsors))
        with CaptureQueriesContext(connection) as queries:
            assert merge_bill_details(bill, _details(cosponsors=cosponsors)) == 0
        return len(queries)

    assert queries_for_unchanged(3) == queries_for_unchanged(30)


def test_many_new_cosponsors_at_once_are_one_timeline_entry(demo) -> None:
    bill = Bill.objects.by_key("118-hr-815")
    cosponsors = tuple(_cosponsor(f"X{n:06d}", f"Rep. Member {n}") for n in range(12))
    merge_bill_details(bill, _details(cosponsors=cosponsors))
    [entry] = Activity.objects.filter(bill=bill, kind="bill_record")
    assert entry.summary.startswith("H.R. 815: 12 cosponsors — Rep. Member 0 cosponsored")
    assert entry.detail.count("\n") == 11
    assert bill.cosponsors.count() == 12


def test_it_updates_members_by_bioguide_id(demo) -> None:
    baldwin = Stakeholder.objects.get(lis_id="S354")
    person = Legislator(
        bioguide_id=baldwin.bioguide_id,
        lis_id="S354",
        name="Tammy Baldwin",
        kind="senator",
        party="I",
        state="WI",
        district=None,
    )
    assert ingest_legislator(person).outcome == "updated"
    baldwin.refresh_from_db()
    assert baldwin.party == "I" and baldwin.name == "Tammy Baldwin"
    assert ingest_legislator(person).outcome == "unchanged"

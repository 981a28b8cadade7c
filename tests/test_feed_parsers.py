"""The feed adapters read every published format we rely on, and refuse what is not one."""

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tracker.demo.replay import RECORDED_FEEDS
from tracker.feeds import congress, house, legislators, senate
from tracker.feeds.roll_calls import BillRef
from tracker.feeds.safexml import FeedFormatError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "feeds"
REPLAY = RECORDED_FEEDS
CASES = FIXTURES / "cases"
SHARED = ROOT.parent / "shared" / "feed-samples"
EASTERN = ZoneInfo("America/New_York")

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/feed-samples is absent")


def shared(pattern: str) -> list[Path]:
    return sorted(SHARED.glob(pattern)) if SHARED.is_dir() else []


# Senate -----------------------------------------------------------------------------------------


def test_it_reads_a_senate_vote_with_every_senator() -> None:
    path = REPLAY / "senate/roll_call_votes/vote1182/vote_118_2_00048.xml"
    roll = senate.parse_vote(path.read_bytes(), expected_key="senate-118-2-48")
    assert roll.key == "senate-118-2-48"
    assert roll.voted_at == datetime(2024, 2, 13, 5, 14, tzinfo=EASTERN)
    assert roll.modified_at == datetime(2024, 2, 13, 6, 55, tzinfo=EASTERN)
    assert (roll.yeas, roll.nays, roll.present, roll.not_voting) == (70, 29, 0, 1)
    assert roll.bill == BillRef(118, "hr", 815)
    assert len(roll.casts) == 100
    assert roll.inconsistencies() == []
    assert roll.source_url.startswith("https://www.senate.gov/legislative/LIS/roll_call_votes/")


def test_it_reads_the_vote_menu_and_checks_its_session() -> None:
    body = (REPLAY / "senate/roll_call_lists/vote_menu_118_2.xml").read_bytes()
    assert senate.parse_menu(body, congress=118, session=2).vote_numbers == (
        39,
        40,
        41,
        46,
        48,
        154,
    )
    with pytest.raises(FeedFormatError, match="the file is for 118-2"):
        senate.parse_menu(body, congress=118, session=1)


def test_it_refuses_a_vote_file_that_is_another_vote() -> None:
    path = REPLAY / "senate/roll_call_votes/vote1182/vote_118_2_00048.xml"
    with pytest.raises(FeedFormatError, match="the file is vote senate-118-2-48"):
        senate.parse_vote(path.read_bytes(), expected_key="senate-118-2-47")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("billion-laughs.xml", "refused hostile XML"),
        ("xxe.xml", "refused hostile XML"),
        ("vote-not-available.html", "an HTML page where XML was expected"),
        ("truncated.xml", "malformed XML"),
    ],
)
def test_it_refuses_bad_vote_files(name: str, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message):
        senate.parse_vote((CASES / name).read_bytes())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # A parameter entity pointing outside: refused before anything could be fetched.
        (
            b'<!DOCTYPE roll_call_vote [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x">'
            b"%remote;]><roll_call_vote/>",
            "refused hostile XML",
        ),
        # An entity the document never declares (its DTD is never read): not expanded.
        (
            b'<!DOCTYPE roll_call_vote SYSTEM "http://127.0.0.1:9/vote.dtd">'
            b"<roll_call_vote><congress>&secret;</congress></roll_call_vote>",
            "malformed XML",
        ),
        (b"", "malformed XML"),
    ],
)
def test_it_refuses_entities_however_they_arrive(body: bytes, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message):
        senate.parse_vote(body)


@needs_shared
@pytest.mark.parametrize("path", shared("senate-lis/vote_*.xml"), ids=lambda p: p.name)
def test_it_reads_every_shared_senate_vote(path: Path) -> None:
    roll = senate.parse_vote(path.read_bytes())
    assert roll.chamber == "senate"
    assert roll.casts and all(cast.member_id.startswith("S") for cast in roll.casts)
    assert all(cast.first_name == cast.first_name.strip() for cast in roll.casts)
    # The samples are trimmed to five members, so the totals cannot match: we notice.
    assert any("published" in problem for problem in roll.inconsistencies())


@needs_shared
def test_it_records_the_vice_presidents_tie_break_on_the_vote() -> None:
    path = SHARED / "senate-lis/vote_117_1_00054.tie-breaker.trimmed.xml"
    roll = senate.parse_vote(path.read_bytes())
    assert (roll.yeas, roll.nays, roll.present, roll.not_voting) == (50, 50, 0, 0)
    assert roll.tie_breaker_by == "Vice President of the United States"
    assert roll.tie_breaker_vote == "Yea"
    assert "Vice" not in {cast.last_name for cast in roll.casts}


@needs_shared
@pytest.mark.parametrize("path", shared("senate-lis/derived_*.data.json"), ids=lambda p: p.name)
def test_every_shared_senate_vote_value_normalises(path: Path) -> None:
    """The derived files carry each vote's options; every one must map to yes/no/present/absent."""
    from tracker.models.votes import normalise_cast

    options = json.loads(path.read_text())["votes"]
    assert {normalise_cast(option) for option in options} <= {"yes", "no", "present", "absent"}


# House ------------------------------------------------------------------------------------------


def test_it_reads_a_house_roll_with_bioguide_ids() -> None:
    roll = house.parse_roll((CASES / "house-roll-2024-151-small.xml").read_bytes())
    assert roll.key == "house-118-2-151"
    assert roll.voted_at == datetime(2024, 4, 20, 12, 55, tzinfo=EASTERN)
    assert roll.bill == BillRef(118, "hr", 8035)
    assert roll.majority_requirement == "1/2"
    assert [cast.member_id for cast in roll.casts][:2] == ["T000001", "T000002"]
    assert roll.casts[0].display_name == "Álvarez"
    assert roll.casts[1].last_name == "Bean"
    assert roll.inconsistencies() == []
    assert roll.source_url == "https://clerk.house.gov/evs/2024/roll151.xml"


def test_it_reads_a_speaker_election_by_candidate() -> None:
    roll = house.parse_roll((CASES / "house-roll-2023-15-speaker.xml").read_bytes())
    assert roll.candidate_totals == (("McCarthy", 2), ("Jeffries", 1), ("Present", 1))
    assert roll.yeas is None
    assert roll.inconsistencies() == []


@needs_shared
def test_it_reads_the_shared_house_roll_without_fetching_its_dtd() -> None:
    roll = house.parse_roll((SHARED / "house-clerk/roll028-2024.trimmed.xml").read_bytes())
    assert roll.key == "house-118-2-28"
    assert roll.voted_on == date(2024, 1, 31)
    assert roll.bill == BillRef(118, "hr", 6679)
    assert {cast.display_name for cast in roll.casts} >= {"Barragán", "Bean (FL)"}


@needs_shared
@pytest.mark.parametrize("path", shared("house-clerk/derived_*.data.json"), ids=lambda p: p.name)
def test_every_shared_house_vote_value_is_known_or_a_candidate(path: Path) -> None:
    from tracker.models.votes import normalise_cast

    payload = json.loads(path.read_text())
    options = {normalise_cast(option) for option in payload["votes"]}
    if payload["question"].startswith("Election of the Speaker"):
        assert "other" in options  # candidate names are kept as published
    else:
        assert options <= {"yes", "no", "present", "absent"}


# Congress.gov -----------------------------------------------------------------------------------


def test_it_reads_our_bill_and_its_paged_actions() -> None:
    bill = congress.parse_bill(json.loads((REPLAY / "congress/bill/118/hr/815.json").read_text()))
    assert bill.ref == BillRef(118, "hr", 815)
    assert bill.public_law == "118-50"
    assert bill.updated_at is not None and bill.updated_at.tzinfo is not None
    page = json.loads((REPLAY / "congress/bill/118/hr/815/actions.json").read_text())
    passed = next(item for item in page["actions"] if item["text"].startswith("Passed Senate"))
    action = congress.parse_action(passed)
    assert action.source_system_code == 0
    assert action.recorded_votes[0].roll_number == 48


@needs_shared
def test_it_reads_every_shared_congress_sample() -> None:
    folder = SHARED / "congress-gov-api"
    bill = congress.parse_bill(json.loads((folder / "loc-sample_bill_117_hr_21.json").read_text()))
    assert (bill.congress, bill.bill_type, bill.number) == (117, "hr", 21)
    actions = json.loads((folder / "loc-sample_bill_117_hr_21_actions.json").read_text())
    parsed = [congress.parse_action(item) for item in actions["actions"]]
    assert len(parsed) == actions["pagination"]["count"]
    assert any(action.acted_at_time for action in parsed)
    assert {action.source_system_code for action in parsed} >= {0, 2, 9}
    cosponsors = json.loads((folder / "loc-sample_bill_117_hr_21_cosponsors.json").read_text())
    assert all(congress.parse_cosponsor(c).bioguide_id for c in cosponsors["cosponsors"])
    summaries = json.loads((folder / "loc-sample_bill_117_hr_21_summaries.json").read_text())
    assert all(congress.parse_summary(s).version_code for s in summaries["summaries"])
    texts = json.loads((folder / "loc-sample_bill_117_hr_21_text.json").read_text())
    assert all(congress.parse_text_version(t).urls for t in texts["textVersions"])
    listing = json.loads((folder / "loc-sample_bill_117_hr.json").read_text())
    assert listing["bills"] and listing["pagination"]["next"]


# Members ----------------------------------------------------------------------------------------


def test_a_text_version_keeps_only_web_links() -> None:
    version = congress.parse_text_version(
        {
            "type": "Enrolled Bill",
            "date": "2024-04-24T04:00:00Z",
            "formats": [
                {"type": "PDF", "url": "https://www.congress.gov/118/bills/hr815/BILLS.pdf"},
                {"type": "Formatted Text", "url": "javascript:alert(1)"},
                {"type": "Formatted XML", "url": "data:text/html,<b>x</b>"},
            ],
        }
    )
    assert version.urls == (("PDF", "https://www.congress.gov/118/bills/hr815/BILLS.pdf"),)


def test_it_reads_the_legislators_json() -> None:
    people = legislators.parse((REPLAY / "legislators/legislators-current.json").read_bytes())
    assert len(people) == 100
    assert all(person.kind == "senator" and person.lis_id for person in people)


@needs_shared
def test_it_reads_the_shared_legislators_yaml() -> None:
    body = (
        SHARED / "congress-legislators/legislators-current.2024-06-28.senators.yaml"
    ).read_bytes()
    people = {person.lis_id: person for person in legislators.parse(body)}
    assert len(people) == 100
    assert people["S307"].bioguide_id == "B000944"  # Sherrod Brown
    assert people["S307"].party == "D"


def test_it_refuses_a_file_that_is_not_a_list_of_people() -> None:
    with pytest.raises(legislators.LegislatorsFormatError):
        legislators.parse(b'{"error": "nope"}')

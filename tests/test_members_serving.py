"""Members stay true to who is serving: a member known only from a roll call is not in office,
members who left stop counting after they left, and a whip board counts those serving on its
day."""

from datetime import date

import pytest

from tests.factories import make_stakeholder, make_vote_target
from tracker.feeds.ingest import MemberIndex, ingest_legislator, record_departures
from tracker.feeds.legislators import Legislator, _serving_since
from tracker.feeds.roll_calls import MemberCast
from tracker.models import Stakeholder
from tracker.whip import build_board

pytestmark = pytest.mark.django_db


def _legislator(bioguide_id: str, kind: str = "senator", **fields) -> Legislator:
    defaults = {
        "lis_id": "",
        "name": f"Member {bioguide_id}",
        "party": "D",
        "state": "VT",
        "district": None,
    }
    return Legislator(bioguide_id=bioguide_id, kind=kind, **defaults | fields)


def test_back_to_back_terms_make_one_stretch_of_service() -> None:
    terms = [
        {"type": "rep", "start": "2007-01-04", "end": "2013-01-03"},
        {"type": "sen", "start": "2013-01-03", "end": "2019-01-03"},
        {"type": "sen", "start": "2019-01-03", "end": "2025-01-03"},
    ]
    assert _serving_since(terms) == date(2013, 1, 3)
    broken = [
        {"type": "sen", "start": "2001-01-03", "end": "2007-01-03"},
        {"type": "sen", "start": "2013-01-03", "end": "2019-01-03"},
    ]
    assert _serving_since(broken) == date(2013, 1, 3)


def test_a_member_known_only_from_a_roll_call_is_not_in_office(demo) -> None:
    index = MemberIndex("senate")
    cast = MemberCast(
        member_id="S999",
        published_as="Yea",
        party="R",
        state="XX",
        first_name="Former",
        last_name="Senator",
        display_name="Senator (R-XX)",
    )

    index.ensure((cast,))

    newcomer = Stakeholder.objects.get(lis_id="S999")
    assert newcomer.in_office is False
    assert (
        not Stakeholder.objects.senators()
        .serving_on(date(2024, 2, 7))
        .filter(pk=newcomer.pk)
        .exists()
    )


def test_a_board_counts_the_senators_serving_on_its_day(demo) -> None:
    target = make_vote_target(demo, expected_on=date(2024, 2, 7))
    # Nine senators of 2021 who have since left, known only from a roll call of theirs.
    for n in range(9):
        make_stakeholder(slug=f"former-{n}", lis_id=f"S9{n:02d}", in_office=False)

    board = build_board(target, day=date(2024, 2, 7))

    assert len(board.calls) == 100


def test_members_no_longer_listed_have_left_and_stop_counting_after(demo) -> None:
    senators = list(Stakeholder.objects.senators().exclude(bioguide_id=""))
    leaving, staying = senators[0], senators[1:]
    listed = [_legislator(s.bioguide_id, lis_id=s.lis_id) for s in staying]

    left = record_departures(listed, on=date(2024, 8, 20))

    assert left == 1
    leaving.refresh_from_db()
    assert (leaving.in_office, leaving.serving_until) == (False, date(2024, 8, 20))
    senate = Stakeholder.objects.senators()
    assert senate.serving_on(date(2024, 2, 7)).filter(pk=leaving.pk).exists()
    assert not senate.serving_on(date(2024, 9, 1)).filter(pk=leaving.pk).exists()


def test_a_list_of_senators_only_says_nothing_about_the_house(demo) -> None:
    representatives = Stakeholder.objects.filter(kind="representative", in_office=True)
    before = representatives.count()
    senators = Stakeholder.objects.senators().exclude(bioguide_id="")

    record_departures([_legislator(s.bioguide_id) for s in senators], on=date(2024, 8, 20))

    assert Stakeholder.objects.filter(kind="representative", in_office=True).count() == before


def test_the_legislators_feed_puts_a_member_back_in_office(demo) -> None:
    member = make_stakeholder(
        bioguide_id="Z000001", in_office=False, serving_until=date(2021, 1, 3)
    )
    ingest_legislator(_legislator("Z000001", serving_since=date(2023, 1, 3)))

    member.refresh_from_db()
    assert member.in_office and member.serving_until is None
    assert member.serving_since == date(2023, 1, 3)

"""What each roll call needs to pass, read off its question when the chamber prints none: when a
roll call is ingested, and in the demo."""

import dataclasses
from pathlib import Path

import pytest

from tracker.demo.replay import RECORDED_FEEDS
from tracker.feeds import house, senate
from tracker.feeds.ingest import BillIndex, MemberIndex, ingest_roll_call
from tracker.models import Vote

VOTE_48 = RECORDED_FEEDS / "senate/roll_call_votes/vote1182/vote_118_2_00048.xml"
HOUSE_151 = Path(__file__).resolve().parent / "fixtures/feeds/cases/house-roll-2024-151-small.xml"


@pytest.mark.parametrize(
    ("chamber", "question", "needed"),
    [
        ("senate", "Motion to Invoke Cloture: Motion to Proceed to H.R. 815", "3/5"),
        (
            "senate",
            "Upon Reconsideration, Motion to Invoke Cloture on the Motion to Proceed",
            "3/5",
        ),
        (
            "senate",
            "Motion to waive Budget Act points of order against Murray substitute amendment",
            "3/5",
        ),
        ("senate", "On the Motion (Motion to Waive All Applicable Budgetary Discipline)", "3/5"),
        ("senate", "On Overriding the Veto (H.J.Res. 98)", "2/3"),
        (
            "house",
            "On Passage, Objections of the President to the Contrary Notwithstanding",
            "2/3",
        ),
        ("senate", "On the Resolution of Ratification Treaty Doc. 117-3", "2/3"),
        ("house", "On Agreeing to the Resolution: Providing for the expulsion of a Member", "2/3"),
        ("senate", "Guilty or Not Guilty H.Res. 24", "2/3"),
        (
            "senate",
            "Cloture on the motion to proceed to amend the Standing Rules of the Senate",
            "2/3",
        ),
        ("house", "Motion to suspend the rules and pass (standalone ~$17.6B Israel aid)", "2/3"),
        ("house", "Impeaching DHS Secretary Alejandro Mayorkas", "1/2"),
        ("senate", "On Passage of the Bill H.R. 815", "1/2"),
        ("senate", "On the Motion to Reconsider H.R. 815", "1/2"),
        ("house", "Election of the Speaker", "1/2"),
    ],
)
def test_the_threshold_follows_the_question(chamber: str, question: str, needed: str) -> None:
    from tracker.models import required_majority

    assert required_majority(chamber, question) == needed


def test_what_the_chamber_published_stands() -> None:
    from tracker.models import required_majority

    assert required_majority("senate", "On the Cloture Motion", published="3/5") == "3/5"
    assert required_majority("senate", "On a question of its own", published="2/3") == "2/3"


@pytest.mark.django_db
def test_a_senate_roll_call_without_a_published_threshold_gets_it_from_its_question() -> None:
    roll = dataclasses.replace(
        senate.parse_vote(VOTE_48.read_bytes()),
        question="Motion to Waive All Applicable Budgetary Discipline Re: Murray Amdt. No. 1388",
        majority_requirement="",
    )

    ingest_roll_call(roll, members=MemberIndex("senate"), bills=BillIndex())

    assert Vote.objects.get(roll_number=48).majority_requirement == "3/5"


@pytest.mark.django_db
def test_a_house_suspension_without_a_published_threshold_needs_two_thirds() -> None:
    roll = dataclasses.replace(
        house.parse_roll(HOUSE_151.read_bytes()),
        question="On Motion to Suspend the Rules and Pass, as Amended",
        majority_requirement="",
    )

    ingest_roll_call(roll, members=MemberIndex("house"), bills=BillIndex())

    assert Vote.objects.get(roll_number=151).majority_requirement == "2/3"


@pytest.mark.django_db
def test_the_demos_votes_carry_the_threshold_their_question_needs(client, viewer, demo) -> None:
    waiver = Vote.objects.get(voted_on="2024-02-12", question__startswith="Motion to waive")
    epilogue = Vote.objects.get(voted_on="2024-05-23")
    client.force_login(viewer)

    assert (waiver.majority_requirement, epilogue.majority_requirement) == ("3/5", "3/5")
    assert "(3/5 required)" in client.get(f"/votes/{waiver.pk}/").content.decode()
    from tracker.models import required_majority

    for vote in Vote.objects.all():
        assert vote.majority_requirement == required_majority(vote.chamber, vote.question), vote

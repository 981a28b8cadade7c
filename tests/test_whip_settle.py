"""Roll calls settle whip counts: the one roll call that matches a target (chamber, day, bill,
kind of question) is linked as it arrives, predicted vs actual follows at once, and where the
match is ambiguous an Editor links it by hand."""

from datetime import date

import pytest
from django.test import Client

from tests.factories import make_negotiation, make_user, make_vote, make_vote_target
from tracker import roles
from tracker.models import Activity, ActivityKind, Bill, Vote, VoteTarget
from tracker.whip import matching_votes, motion_kind, settle_targets_for

pytestmark = pytest.mark.django_db


def test_the_kind_of_question_is_read_from_motions_and_roll_calls() -> None:
    assert motion_kind("Cloture on the motion to proceed to H.R. 815") == "cloture_proceed"
    assert motion_kind("On the Cloture Motion Motion to Invoke Cloture: Motion to Proceed to "
                       "H.R. 815") == "cloture_proceed"  # fmt: skip
    assert motion_kind("Motion to concur in the House amendment to the Senate amendment") == (
        "concur"
    )
    assert motion_kind("Cloture on the motion to concur in the House amendment") == (
        "cloture_concur"
    )
    assert motion_kind("On Passage of the Bill H.R. 815") == "passage"
    assert motion_kind("On the Motion to Reconsider H.R. 815") == "reconsider"


def test_each_demo_target_matches_exactly_its_own_roll_call_among_the_seven(
    demo, demo_targets
) -> None:
    cloture, concur = demo_targets
    expected = {cloture.pk: cloture.vote, concur.pk: concur.vote}
    VoteTarget.objects.update(vote=None)
    senate_rolls = Vote.objects.filter(chamber="senate", roll_number__isnull=False)
    assert senate_rolls.count() == 7

    for target in VoteTarget.objects.filter(negotiation=demo):
        assert matching_votes(target) == [expected[target.pk]], target.motion


def _target_and_bill():
    negotiation = make_negotiation()
    bill = Bill.objects.create(negotiation=negotiation, congress=118, bill_type="hr", number=815)
    target = make_vote_target(
        negotiation, motion="Cloture on the motion to proceed", expected_on=date(2024, 2, 7)
    )
    return target, bill


def test_a_roll_call_that_matches_links_the_target_and_says_how_the_count_fared() -> None:
    target, bill = _target_and_bill()
    vote = make_vote(
        bill=bill,
        voted_on=date(2024, 2, 7),
        question="On the Cloture Motion",
        title="Motion to Invoke Cloture: Motion to Proceed to H.R. 815",
        result="Cloture Motion Rejected",
        yeas=49,
        nays=50,
        source_url="https://www.senate.gov/legislative/LIS/roll_call_votes/vote1182/x.xml",
    )

    settle_targets_for(vote)

    target.refresh_from_db()
    assert target.vote == vote
    result = Activity.objects.get(kind=ActivityKind.WHIP_RESULT)
    assert result.vote == vote and result.negotiation == target.negotiation
    assert result.source == "senate.gov" and result.actor is None
    assert "failed 49-50, 60 needed" in result.summary
    assert "called 0 of 0 (0 right)" in result.summary  # no member on the board


def test_another_kind_of_question_or_day_does_not_settle_it() -> None:
    target, bill = _target_and_bill()
    make_vote(bill=bill, voted_on=date(2024, 2, 7), question="On the Motion to Reconsider")
    make_vote(bill=bill, voted_on=date(2024, 2, 8), question="On the Cloture Motion",
              title="Motion to Proceed")  # fmt: skip
    for vote in Vote.objects.all():
        settle_targets_for(vote)

    target.refresh_from_db()
    assert target.vote is None


def test_two_matching_roll_calls_are_left_for_an_editor(groups) -> None:
    target, bill = _target_and_bill()
    first, second = (
        make_vote(
            bill=bill,
            voted_on=date(2024, 2, 7),
            question="On the Cloture Motion",
            title="Motion to Invoke Cloture: Motion to Proceed",
        )  # fmt: skip
        for _ in range(2)
    )
    settle_targets_for(second)
    target.refresh_from_db()
    assert target.vote is None

    client = Client()
    client.force_login(make_user("eddie", role=roles.EDITOR))
    page = client.get(f"/whip/{target.pk}/roll-call/")
    assert page.status_code == 200
    assert f'value="{first.pk}"' in page.content.decode()

    response = client.post(f"/whip/{target.pk}/roll-call/", {"vote": first.pk})

    assert response.status_code == 302 and response.url == f"/whip/{target.pk}/results/"
    target.refresh_from_db()
    assert target.vote == first
    result = Activity.objects.get(kind=ActivityKind.WHIP_RESULT)
    assert result.actor.username == "eddie"


def test_a_viewer_cannot_link_a_roll_call(groups, viewer) -> None:
    target, bill = _target_and_bill()
    vote = make_vote(bill=bill, voted_on=date(2024, 2, 7))
    client = Client()
    client.force_login(viewer)

    assert client.post(f"/whip/{target.pk}/roll-call/", {"vote": vote.pk}).status_code == 403
    target.refresh_from_db()
    assert target.vote is None


def test_a_past_target_opens_as_of_its_vote_day_and_states_its_coverage(
    client, viewer, demo_targets
) -> None:
    cloture, _ = demo_targets
    client.force_login(viewer)

    board = client.get(f"/whip/{cloture.pk}/").content.decode()
    results = client.get(f"/whip/{cloture.pk}/results/").content.decode()

    assert "as of Feb 7, 2024" in board
    assert "of 100 called;" in results and "right" in results

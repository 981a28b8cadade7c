"""The whip count's arithmetic and reasoning: thresholds, how a member's stance is derived, the
board as of a day, and the projection checked against the roll call."""

from datetime import date

import pytest

from tests.factories import (
    link_to_target,
    make_stakeholder,
    make_user,
    make_vote_target,
)
from tracker import roles
from tracker.demo import load_demo
from tracker.models import Demand, Position, Vote, VoteCast
from tracker.models.whip import (
    LinkMeaning,
    StanceOverride,
    ThresholdRule,
    Vacancy,
    VoteTarget,
)
from tracker.whip import (
    build_board,
    predicted_vs_actual,
    target_threshold,
    threshold_for,
    vote_carried,
)

SENATE = 100
HOUSE = 435


# Thresholds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vacancies", "needed"), [(0, 60), (1, 60), (2, 59), (3, 59), (5, 57), (10, 54)]
)
def test_cloture_needs_three_fifths_of_senators_sworn(vacancies: int, needed: int) -> None:
    threshold = threshold_for(ThresholdRule.THREE_FIFTHS_SWORN, seats=SENATE, vacancies=vacancies)
    assert threshold.needed == needed
    assert threshold.sworn == SENATE - vacancies


def test_absences_do_not_lower_the_cloture_bar() -> None:
    threshold = threshold_for(ThresholdRule.THREE_FIFTHS_SWORN, seats=SENATE, voting=80)
    assert threshold.needed == 60


@pytest.mark.parametrize(
    ("voting", "vice_president_supports", "needed"),
    [(100, None, 51), (100, False, 51), (100, True, 50), (99, True, 50), (98, True, 49)],
)
def test_simple_majority_counts_the_vice_presidents_tie_break(
    voting: int, vice_president_supports: bool | None, needed: int
) -> None:
    threshold = threshold_for(
        ThresholdRule.MAJORITY_VOTING,
        seats=SENATE,
        voting=voting,
        vice_president_supports=vice_president_supports,
    )
    assert threshold.needed == needed


def test_the_vice_president_breaks_no_tie_in_the_house() -> None:
    threshold = threshold_for(
        ThresholdRule.MAJORITY_VOTING, seats=HOUSE, voting=430, vice_president_supports=True
    )
    assert threshold.needed == 216


@pytest.mark.parametrize(("voting", "needed"), [(100, 67), (99, 66), (98, 66), (97, 65), (3, 2)])
def test_two_thirds_of_those_present_and_voting(voting: int, needed: int) -> None:
    assert threshold_for(ThresholdRule.TWO_THIRDS_VOTING, seats=SENATE, voting=voting).needed == (
        needed
    )


@pytest.mark.parametrize(("vacancies", "needed"), [(0, 218), (1, 218), (2, 217), (4, 216)])
def test_house_majority_follows_vacancies(vacancies: int, needed: int) -> None:
    threshold = threshold_for(ThresholdRule.HOUSE_MAJORITY, seats=HOUSE, vacancies=vacancies)
    assert threshold.needed == needed


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="vacancies"):
        threshold_for(ThresholdRule.THREE_FIFTHS_SWORN, seats=SENATE, vacancies=100)
    with pytest.raises(ValueError, match="cannot vote"):
        threshold_for(ThresholdRule.MAJORITY_VOTING, seats=SENATE, vacancies=2, voting=99)
    with pytest.raises(ValueError, match="Unknown"):
        threshold_for("acclamation", seats=SENATE)


@pytest.mark.parametrize(
    ("rule", "yeas", "nays", "tie_breaker", "carried"),
    [
        (ThresholdRule.THREE_FIFTHS_SWORN, 59, 30, "", False),
        (ThresholdRule.THREE_FIFTHS_SWORN, 60, 40, "", True),
        (ThresholdRule.THREE_FIFTHS_SWORN, 49, 50, "", False),
        (ThresholdRule.MAJORITY_VOTING, 50, 50, "Yea", True),
        (ThresholdRule.MAJORITY_VOTING, 50, 50, "Nay", False),
        (ThresholdRule.MAJORITY_VOTING, 50, 50, "", False),
        (ThresholdRule.MAJORITY_VOTING, 51, 49, "", True),
        (ThresholdRule.TWO_THIRDS_VOTING, 66, 33, "", True),
        (ThresholdRule.TWO_THIRDS_VOTING, 65, 34, "", False),
    ],
)
def test_it_decides_a_recorded_senate_vote_by_the_rule(
    rule: str, yeas: int, nays: int, tie_breaker: str, carried: bool
) -> None:
    assert (
        vote_carried(
            rule, seats=SENATE, vacancies=0, yeas=yeas, nays=nays, tie_breaker_vote=tie_breaker
        )
        is carried
    )


@pytest.mark.django_db
def test_vacancies_are_data_and_the_threshold_follows_them() -> None:
    target = make_vote_target()
    Vacancy.objects.create(chamber="senate", state="CA", vacated_on=date(2023, 9, 29))
    Vacancy.objects.create(
        chamber="senate", state="OH", vacated_on=date(2023, 1, 1), filled_on=date(2023, 6, 1)
    )
    Vacancy.objects.create(chamber="house", state="NY", district=3, vacated_on=date(2023, 12, 1))
    Vacancy.objects.create(chamber="senate", state="NJ", vacated_on=date(2023, 10, 1))

    assert target_threshold(target, date(2023, 9, 1)).needed == 60
    assert target_threshold(target, date(2023, 10, 15)).vacancies == 2
    assert target_threshold(target, date(2023, 10, 15)).needed == 59


# Stance derivation ------------------------------------------------------------------------------


def _call(board, member):
    return next(call for call in board.calls if call.member == member)


@pytest.mark.django_db
def test_the_latest_position_on_any_linked_item_counts() -> None:
    target = make_vote_target()
    deal, authority = link_to_target(target), link_to_target(target)
    senator = make_stakeholder()
    senator.record_position(stance="firm_oppose", as_of=date(2024, 1, 10), provision=deal.provision)
    senator.record_position(
        stance="lean_support", as_of=date(2024, 2, 1), provision=authority.provision
    )

    call = _call(build_board(target, day=date(2024, 2, 5)), senator)

    assert call.group == "lean_yes"
    assert call.link == authority


@pytest.mark.django_db
def test_same_day_conflicts_count_the_stance_least_favourable_to_yes() -> None:
    target = make_vote_target()
    deal, authority = link_to_target(target), link_to_target(target)
    senator = make_stakeholder()
    senator.record_position(stance="firm_support", as_of=date(2024, 2, 1), provision=deal.provision)
    senator.record_position(
        stance="lean_oppose", as_of=date(2024, 2, 1), provision=authority.provision
    )

    assert _call(build_board(target, day=date(2024, 2, 5)), senator).group == "lean_no"


@pytest.mark.django_db
def test_support_for_an_item_that_means_no_counts_as_no() -> None:
    target = make_vote_target()
    demand = Demand.objects.create(
        negotiation=target.negotiation, slug="hr2", title="H.R. 2 or nothing", asks="H.R. 2"
    )
    link_to_target(target, demand=demand, support_means=LinkMeaning.SUPPORT_MEANS_NO)
    senator = make_stakeholder()
    senator.record_position(stance="firm_support", as_of=date(2024, 2, 1), demand=demand)

    assert _call(build_board(target, day=date(2024, 2, 5)), senator).group == "firm_no"


@pytest.mark.django_db
def test_an_override_replaces_the_derived_stance_until_cleared(groups: dict) -> None:
    staffer = make_user("whip", role=roles.EDITOR)
    target = make_vote_target()
    deal = link_to_target(target)
    senator = make_stakeholder()
    senator.record_position(stance="firm_oppose", as_of=date(2024, 1, 10), provision=deal.provision)
    StanceOverride.objects.create(
        target=target,
        member=senator,
        stance="lean_support",
        note="Told our chief of staff he will vote to proceed.",
        set_on=date(2024, 2, 1),
        set_by=staffer,
    )

    before = _call(build_board(target, day=date(2024, 1, 31)), senator)
    after = _call(build_board(target, day=date(2024, 2, 2)), senator)
    assert (before.group, before.is_overridden) == ("firm_no", False)
    assert (after.group, after.derived_group, after.is_overridden) == ("lean_yes", "firm_no", True)
    assert after.recorded_by == "override by whip"

    StanceOverride.objects.create(
        target=target, member=senator, stance="", note="He walked it back.", set_on=date(2024, 2, 3)
    )
    assert _call(build_board(target, day=date(2024, 2, 4)), senator).group == "firm_no"


@pytest.mark.django_db
def test_members_without_positions_are_unknown_and_old_positions_are_stale() -> None:
    target = make_vote_target(stale_after_days=14)
    deal = link_to_target(target)
    quiet, talked_long_ago = make_stakeholder(), make_stakeholder()
    talked_long_ago.record_position(
        stance="undecided", as_of=date(2024, 1, 1), provision=deal.provision
    )

    board = build_board(target, day=date(2024, 1, 20))

    assert _call(board, quiet).group == "unknown"
    assert _call(board, talked_long_ago).is_stale
    assert not _call(build_board(target, day=date(2024, 1, 10)), talked_long_ago).is_stale


# The board as of a day --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_board_as_of_a_day_before_and_after_a_position_change() -> None:
    target = make_vote_target()
    deal = link_to_target(target)
    senators = [make_stakeholder(party="R", state="OK") for _ in range(3)]
    for senator in senators:
        senator.record_position(
            stance="lean_oppose", as_of=date(2024, 1, 15), provision=deal.provision
        )
    senators[0].record_position(
        stance="firm_support", as_of=date(2024, 2, 1), provision=deal.provision
    )

    before = build_board(target, day=date(2024, 1, 31))
    after = build_board(target, day=date(2024, 2, 1))

    assert (before.yes, before.no) == (0, 3)
    assert (after.yes, after.no) == (1, 2)
    assert before.still_needed == 60
    assert after.still_needed == 59
    assert [(point.day, point.yes, point.no) for point in after.history] == [
        (date(2024, 1, 15), 0, 3),
        (date(2024, 2, 1), 1, 2),
    ]


@pytest.mark.django_db
def test_filters_narrow_the_lists_but_not_the_count() -> None:
    target = make_vote_target()
    deal = link_to_target(target)
    oklahoman = make_stakeholder(party="R", state="OK")
    connecticut = make_stakeholder(party="D", state="CT")
    for senator in (oklahoman, connecticut):
        senator.record_position(
            stance="lean_support", as_of=date(2024, 2, 1), provision=deal.provision
        )

    board = build_board(target, day=date(2024, 2, 2), party="R")

    assert [call.member for call in board.shown] == [oklahoman]
    assert [call.member for call in board.persuadable] == [oklahoman]
    assert board.yes == 2


@pytest.mark.django_db
def test_the_board_reads_a_fixed_number_of_queries(django_assert_max_num_queries) -> None:
    target = make_vote_target()
    deal = link_to_target(target)
    for n in range(30):
        senator = make_stakeholder()
        for day in (1, 2, 3):
            Position.objects.create(
                stakeholder=senator, provision=deal.provision, stance="undecided",
                as_of=date(2024, 1, day + n % 5),
            )  # fmt: skip

    with django_assert_max_num_queries(6):
        board = build_board(target, day=date(2024, 2, 1))
        assert board.counts["undecided"] == 30


# Predicted vs actual ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_checks_the_projection_against_yea_nay_present_and_not_voting() -> None:
    target = make_vote_target()
    deal = link_to_target(target)
    names = ["Hit", "Miss", "Surprise", "Present", "Absent", "Uncalled"]
    people = {
        name: make_stakeholder(name=name, party="R" if name != "Hit" else "D") for name in names
    }
    stances = {
        "Hit": "firm_support",
        "Miss": "lean_support",
        "Surprise": "firm_oppose",
        "Present": "lean_oppose",
        "Absent": "firm_support",
        "Uncalled": "undecided",
    }
    for name, stance in stances.items():
        people[name].record_position(
            stance=stance, as_of=date(2024, 2, 1), provision=deal.provision
        )
    vote = Vote.objects.create(
        chamber="senate", congress=118, session=2, roll_number=39, voted_on=date(2024, 2, 7),
        question="On cloture", result="Rejected", yeas=2, nays=2, present=1, not_voting=1,
    )  # fmt: skip
    published = {
        "Hit": "Yea", "Miss": "Nay", "Surprise": "Yea",
        "Present": "Present", "Absent": "Not Voting", "Uncalled": "Nay",
    }  # fmt: skip
    for name, as_printed in published.items():
        from tracker.models import normalise_cast

        VoteCast.objects.create(
            vote=vote, member=people[name], published_as=as_printed,
            cast=normalise_cast(as_printed), party=people[name].party,
        )  # fmt: skip
    # A position read off the vote itself must not feed its own projection.
    Position.objects.create(
        stakeholder=people["Uncalled"], provision=deal.provision, stance="firm_oppose",
        as_of=date(2024, 2, 7), derived_from_vote=vote,
    )  # fmt: skip
    target.vote = vote
    target.save()

    scorecard = predicted_vs_actual(target)

    outcomes = {
        key: [c.call.member.name for c in calls] for key, _, _, calls in scorecard.by_outcome
    }
    assert outcomes == {
        "hit": ["Hit"],
        "miss": ["Miss"],
        "surprise": ["Surprise"],
        "uncalled": ["Uncalled"],
        "no_vote": ["Absent", "Present"],
    }
    assert scorecard.projected_on == date(2024, 2, 6)
    assert (scorecard.overall.hits, scorecard.overall.called) == (1, 3)
    assert {(a.label, a.hits, a.called) for a in scorecard.by_party} == {("D", 1, 1), ("R", 0, 2)}
    assert [(a.label, a.called) for a in scorecard.by_recorder] == [("public record (loaded)", 3)]
    assert scorecard.carried is False


@pytest.mark.django_db
def test_the_demo_cloture_vote_is_projected_from_the_day_before(demo, demo_targets) -> None:
    cloture, concur = demo_targets
    load_demo()  # loading again changes nothing
    assert list(VoteTarget.objects.filter(negotiation=demo).order_by("expected_on")) == [
        cloture,
        concur,
    ]

    scorecard = predicted_vs_actual(cloture)

    assert scorecard.projected_on == date(2024, 2, 6)
    assert (scorecard.vote.yeas, scorecard.vote.nays) == (49, 50)
    assert scorecard.carried is False
    assert not scorecard.predicted_carried
    # Before the vote the public record gives a stance for only a handful of senators; none of
    # the positions read off roll call 39 itself is used.
    assert scorecard.board.counts["unknown"] > 85
    assert all(
        call.position.derived_from_vote_id != cloture.vote_id
        for call in scorecard.board.calls
        if call.position
    )
    hits = {c.call.member.name for c in scorecard.checked if c.outcome == "hit"}
    assert {"James Lankford", "Christopher Murphy", "John Cornyn"} <= hits


@pytest.mark.django_db
def test_the_demo_april_vote_is_predicted_by_the_february_roll_calls(demo, demo_targets) -> None:
    _, concur = demo_targets

    scorecard = predicted_vs_actual(concur)

    assert scorecard.carried is True
    assert scorecard.predicted_carried is True
    assert scorecard.overall.called > 90
    assert scorecard.overall.percent >= 80

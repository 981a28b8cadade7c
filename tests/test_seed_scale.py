"""`seed_scale` builds a large synthetic negotiation beside the real one, and rebuilds it."""

import pytest
from django.db.models import Count, Q

from tests.bench.scale import SCALE_CONGRESS, SCALE_SLUG, ScaleSize, seed_scale
from tracker.models import Activity, Negotiation, Position, Stakeholder, Vote, VoteCast

pytestmark = pytest.mark.django_db

SMALL = ScaleSize(
    senators=10,
    representatives=25,
    others=5,
    provisions=12,
    demands=3,
    positions=200,
    votes=8,
    activities=300,
)


def test_it_builds_the_requested_size() -> None:
    negotiation = seed_scale(SMALL)

    assert Stakeholder.objects.filter(slug__startswith="scale-").count() == 40
    assert negotiation.provisions.count() == 12
    assert negotiation.demands.count() == 3
    assert Position.objects.filter(stakeholder__slug__startswith="scale-").count() == 200
    assert Activity.objects.filter(negotiation=negotiation).count() == 300
    votes = Vote.objects.filter(congress=SCALE_CONGRESS)
    assert votes.count() == 8
    # 4 Senate votes with every senator, 4 House votes with every representative.
    assert VoteCast.objects.filter(vote__congress=SCALE_CONGRESS).count() == 4 * 10 + 4 * 25


def test_every_vote_tally_matches_its_casts() -> None:
    seed_scale(SMALL)
    votes = Vote.objects.filter(congress=SCALE_CONGRESS).annotate(
        yes=Count("casts", filter=Q(casts__cast="yes")),
        no=Count("casts", filter=Q(casts__cast="no")),
        absent=Count("casts", filter=Q(casts__cast="absent")),
    )
    for vote in votes:
        assert (vote.yeas, vote.nays, vote.not_voting) == (vote.yes, vote.no, vote.absent)


def test_running_it_again_replaces_the_scale_data_and_leaves_the_real_record(demo) -> None:
    real_senators = Stakeholder.objects.senators().count()
    seed_scale(SMALL)
    seed_scale(SMALL)

    assert Negotiation.objects.filter(slug=SCALE_SLUG).count() == 1
    assert Stakeholder.objects.filter(slug__startswith="scale-").count() == 40
    assert (
        Stakeholder.objects.senators().exclude(slug__startswith="scale-").count() == real_senators
    )
    assert Negotiation.objects.filter(pk=demo.pk).exists()


def test_the_script_prints_each_step_what_it_built_and_how_long_it_took(capsys) -> None:
    from tests.bench.seed_scale import build

    size = ScaleSize(
        senators=4,
        representatives=6,
        others=2,
        provisions=5,
        demands=2,
        positions=30,
        votes=4,
        activities=50,
    )
    output = build(size) + capsys.readouterr().out
    assert "seed_scale: 30 positions" in output
    assert "12 stakeholders, 5 provisions, 2 demands, 30 positions" in output
    assert "seed_scale took" in output


def test_times_multiplies_what_grows_with_a_negotiation_and_keeps_the_people() -> None:
    tripled = SMALL.times(3)

    assert (tripled.positions, tripled.activities, tripled.votes) == (600, 900, 24)
    assert (tripled.provisions, tripled.demands) == (36, 9)
    assert (tripled.senators, tripled.representatives, tripled.others) == (10, 25, 5)

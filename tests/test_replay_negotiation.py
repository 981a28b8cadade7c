"""Staff watch the feeds move the demo: rewound to Feb 1, 2024 and replayed day by day, the
recorded feeds take H.R. 815 through the Senate and into law, move the provisions the record
settles, and settle both whip counts with predicted vs actual."""

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from tracker.models import Activity, ActivityKind, Bill, Provision, VoteTarget

pytestmark = pytest.mark.django_db


def _replay(day: str = "2024-02-01") -> str:
    out = StringIO()
    call_command("replay_negotiation", "--from", day, stdout=out)
    return out.getvalue()


def test_rewinding_to_february_and_replaying_moves_the_negotiation_to_its_end(demo) -> None:
    enacted_before = set(
        Provision.objects.filter(negotiation=demo, status="enacted").values_list("pk", flat=True)
    )

    output = _replay()

    assert "Rewound" in output and "provisions back to In text" in output
    assert re.search(r"Feb 7, 2024: \d+ bill actions, 1 whip results", output)
    assert "Apr 24, 2024" in output and "status moves" in output
    hr_815 = Bill.objects.by_key("118-hr-815")
    assert (hr_815.stage, hr_815.stage_on) == ("became_law", date(2024, 4, 24))
    standings = dict(demo.versions.values_list("slug", "standing"))
    assert standings["senate_deal"] == "failed"
    assert standings["senate_passed"] == "passed_senate"
    assert standings["enacted"] == "became_law"
    # What the record settles is back where it ended, moved by the feed with its source.
    enacted_after = set(
        Provision.objects.filter(negotiation=demo, status="enacted").values_list("pk", flat=True)
    )
    assert enacted_after == enacted_before
    moves = Activity.objects.filter(
        kind=ActivityKind.STATUS_CHANGE, actor__isnull=True, source="congress.gov"
    )
    assert moves.filter(to_value="enacted").count() == len(enacted_before)
    assert all(move.source_url == hr_815.actions_url for move in moves)
    # Both whip counts are settled by their roll calls, with how the count fared.
    assert not VoteTarget.objects.filter(negotiation=demo, vote__isnull=True).exists()
    results = Activity.objects.filter(kind=ActivityKind.WHIP_RESULT).order_by("occurred_at")
    assert [result.vote.roll_number for result in results] == [39, 154]
    assert "failed 49-50, 60 needed" in results[0].summary


def test_replaying_again_ends_in_the_same_place(demo) -> None:
    _replay()
    first = {
        "statuses": dict(Provision.objects.values_list("slug", "status")),
        "moves": Activity.objects.filter(kind=ActivityKind.STATUS_CHANGE).count(),
        "results": Activity.objects.filter(kind=ActivityKind.WHIP_RESULT).count(),
    }

    _replay()

    assert dict(Provision.objects.values_list("slug", "status")) == first["statuses"]
    assert Activity.objects.filter(kind=ActivityKind.STATUS_CHANGE).count() == first["moves"]
    assert Activity.objects.filter(kind=ActivityKind.WHIP_RESULT).count() == first["results"]


def test_the_house_roll_call_of_april_20_arrives_with_every_member(demo) -> None:
    _replay()

    vote = demo.bills.get(number=8035).votes.get(chamber="house")
    assert (vote.roll_number, vote.yeas, vote.nays) == (151, 311, 112)
    assert vote.casts.count() == 431


def test_a_bad_day_is_refused_clearly(demo) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="must be a date"):
        _replay("February")

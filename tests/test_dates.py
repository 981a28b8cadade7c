"""Dates carry their year wherever it is not this year's: the whip board's chart of the count
over time and a bill's next Senate step (the demo's are all 2023-24)."""

from datetime import date

import pytest
import time_machine

from tests.test_bill_progress import Action
from tracker.bill_progress import floor_track
from tracker.charts import count_over_time

# Days bunched before a vote, as on the demo's cloture board.
POINTS = [
    (date(2023, 12, 1), 10, 10),
    (date(2024, 2, 5), 40, 40),
    (date(2024, 2, 6), 45, 45),
    (date(2024, 2, 7), 50, 48),
]


@time_machine.travel("2026-11-29 12:00 -0500", tick=False)
def test_the_whip_chart_says_the_year_of_days_in_another_year() -> None:
    """Reproduced before the fix: the ticks read "Dec 1" and "Feb 7", in 2026."""
    chart = count_over_time(POINTS, needed=60, seats=100)

    labels = [label for _, label in chart.ticks]
    assert labels[0] == "Dec 1, 2023" and labels[-1] == "Feb 7, 2024"
    assert "Dec 1, 2023: 10 yes, 10 no" in chart.description
    assert "Feb 7, 2024: 50 yes, 48 no" in chart.description


@time_machine.travel("2024-03-01 12:00 -0500", tick=False)
def test_the_whip_chart_leaves_out_this_years_year() -> None:
    chart = count_over_time(POINTS, needed=60, seats=100)
    assert [label for _, label in chart.ticks][-1] == "Feb 7"
    assert "Dec 1, 2023" in chart.description  # last year's, still


def test_the_whip_charts_ticks_never_overlap() -> None:
    """Reproduced before the fix: the middle tick was the middle point's day, Feb 5, drawn
    12 px from Feb 7."""
    chart = count_over_time(POINTS, needed=60, seats=100)
    xs = [x for x, _ in chart.ticks]
    assert all(later - earlier >= 80 for earlier, later in zip(xs, xs[1:], strict=False))


@pytest.mark.parametrize("today", ["2026-11-29", "2024-02-05"])
def test_a_bills_next_step_names_the_year(today: str) -> None:
    made = Action(date(2024, 2, 5), "Motion to proceed to consideration of measure made in Senate.")
    filed = Action(
        date(2024, 2, 5),
        "Cloture motion on the motion to proceed to the measure presented in Senate.",
        position=2,
    )
    with time_machine.travel(f"{today} 12:00 -0500", tick=False):
        track = floor_track([made, filed])
    assert "earliest Feb 7, 2024," in track.next_step

"""A bill's stage and its Senate floor procedure, read off Congress.gov's actions; the demo's
H.R. 815 (Feb 7-13, 2024: nine roll calls) must read as the record has it."""

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.bill_progress import (
    POST_CLOTURE_HOURS,
    bill_stage,
    floor_track,
    is_failed_vote,
    stage_of,
)
from tracker.demo.replay import RECORDED_FEEDS
from tracker.feeds import congress

EASTERN = ZoneInfo("America/New_York")


@dataclass
class Action:
    acted_on: date
    text: str
    action_type: str = "Floor"
    action_code: str = ""
    acted_at_time: time | None = None
    position: int = 0


def hr_815() -> list[Action]:
    """The demo's recorded H.R. 815 actions, placed as the ingest places them."""
    folder = RECORDED_FEEDS / "congress/bill/118/hr/815"
    pages = ("actions.json", "actions.offset-10.json")
    items = [item for page in pages for item in json.loads((folder / page).read_text())["actions"]]
    parsed = [congress.parse_action(item) for item in items]
    return [
        Action(a.acted_on, a.text, a.action_type, a.action_code, a.acted_at_time, len(parsed) - i)
        for i, a in enumerate(parsed)
    ]


def test_each_kind_of_action_marks_its_stage() -> None:
    day = date(2024, 1, 1)
    assert stage_of(Action(day, "Introduced in House", "IntroReferral", "Intro-H")) == "introduced"
    assert stage_of(Action(day, "Referred to the House Committee on Rules.", "IntroReferral")) == (
        "in_committee"
    )
    house = "Passed/agreed to in House: On passage Passed by recorded vote: 311 - 112."
    assert stage_of(Action(day, house, "Floor", "8000")) == "passed_house"
    assert stage_of(Action(day, "Passed Senate with an amendment by Voice Vote.")) == (
        "passed_senate"
    )
    differences = "Resolving differences -- House actions: House agreed to the Senate amendment "
    assert stage_of(Action(day, differences + "with an amendment.", "ResolvingDifferences")) == (
        "resolving_differences"
    )
    assert stage_of(Action(day, differences + "without objection.", "ResolvingDifferences")) == (
        "passed_both"
    )
    assert stage_of(Action(day, "Presented to President.", "Floor", "28000")) == "presented"
    assert stage_of(Action(day, "Became Public Law No: 118-50.", "BecameLaw")) == "became_law"
    assert stage_of(Action(day, "Vetoed by President.", "Veto", "31000")) == "vetoed"
    assert stage_of(Action(day, "Motion to proceed to consideration of measure made.")) == ""


def test_a_bill_never_moves_back_a_stage() -> None:
    actions = [
        Action(date(2024, 1, 2), "Passed Senate without amendment by Voice Vote."),
        Action(date(2024, 1, 5), "Referred to the House Committee on Appropriations.", "Committee"),
    ]
    stage = bill_stage(actions)
    assert stage.stage == "passed_senate" and stage.action.acted_on == date(2024, 1, 2)


def test_hr_815_became_public_law_118_50_on_april_24_2024() -> None:
    stage = bill_stage(hr_815())
    assert stage.stage == "became_law" and stage.public_law == "118-50"
    assert stage.label == "became Public Law 118-50"
    assert stage.action.acted_on == date(2024, 4, 24)


def test_the_senate_floor_track_of_hr_815_reads_as_the_record() -> None:
    track = floor_track(hr_815())
    february = [step for step in track.steps if date(2024, 2, 7) <= step.day <= date(2024, 2, 13)]

    assert [(step.day.day, step.label, step.tally, step.roll_number) for step in february] == [
        (7, "Cloture on the motion to proceed not invoked", "49–50", 39),
        (7, "Motion to reconsider agreed to", "58–41", 40),
        (8, "Cloture on the motion to proceed invoked", "67–32", 41),
        (9, "Motion to proceed agreed to", "64–19", None),
        (11, "Cloture on S.Amdt. 1388 invoked", "67–27", None),
        (12, "Budget Act waived", "66–33", None),
        (12, "S.Amdt. 1388 agreed to", "66–33", 46),
        (12, "Cloture on the bill invoked", "66–33", None),
        (13, "Passed the Senate", "70–29", 48),
    ]
    assert track.steps[0].day == date(2023, 12, 6) and track.steps[0].result == "failed"
    april = [step.label for step in track.steps if step.day.month == 4]
    assert april == [
        "House: House agreed to the Senate amendment with an amendment made of the text of "
        "H.R. 8034, H.R. 8035, H.R. 8036 and H.R. 8038",
        "Cloture on the motion to concur invoked",
        "Senate agreed to the House amendment",
    ]


def test_a_cloture_motion_ripens_on_the_second_day_after_filing() -> None:
    filed = Action(date(2024, 2, 5), "Cloture motion on the motion to proceed to the measure "
                   "presented in Senate.")  # fmt: skip
    made = Action(date(2024, 2, 5), "Motion to proceed to consideration of measure made in Senate.")

    filed.position = 2
    track = floor_track([made, filed])

    assert track.steps[-1].kind == "cloture_filed"
    assert track.steps[-1].ripens_on == date(2024, 2, 7)
    assert "earliest Feb 7" in track.next_step and "Rule XXII" in track.next_step


def test_a_voted_cloture_motion_has_no_ripening_and_starts_the_post_cloture_clock() -> None:
    filed = Action(date(2024, 2, 10), "Cloture motion on the measure presented in Senate.")
    invoked = Action(
        date(2024, 2, 12),
        "Cloture on the measure invoked in Senate by Yea-Nay Vote. 66 - 33. "
        "Record Vote Number: 47.",
    )
    invoked.position = 2
    voted_at = datetime(2024, 2, 12, 18, 0, tzinfo=EASTERN)

    track = floor_track([filed, invoked], vote_times={(2024, 47): (7, voted_at)})

    assert track.steps[0].ripens_on is None
    assert track.steps[1].vote_id == 7
    assert track.steps[1].post_cloture_ends == voted_at + timedelta(hours=POST_CLOTURE_HOURS)
    assert track.next_step.startswith("Passage vote, within 30 hours")


def test_only_a_failed_vote_on_the_bill_itself_counts_as_failing_it() -> None:
    day = date(2024, 2, 7)
    failed = "Cloture on the motion to proceed to the measure not invoked in Senate by Yea-Nay "
    assert is_failed_vote(Action(day, failed + "Vote. 49 - 50."))
    reconsider = (
        "Motion to reconsider the vote by which cloture on the motion to proceed to the measure "
        "was not invoked (Record Vote No. 39) agreed to in Senate by Yea-Nay Vote. 58 - 41."
    )
    assert not is_failed_vote(Action(day, reconsider))
    on_amendment = "Cloture on amendment SA 1388 not invoked in Senate by Yea-Nay Vote. 50 - 49."
    assert not is_failed_vote(Action(day, on_amendment))
    assert is_failed_vote(Action(day, "Failed of passage in Senate by Yea-Nay Vote. 43 - 50."))

"""What a bill's actions say: the stage it has reached, and its Senate floor procedure.

Read from Congress.gov's actions: their `type` (IntroReferral, Committee, Floor,
ResolvingDifferences, President, BecameLaw, Veto), the Library of Congress `actionCode` where
present (8000 passed the House, 17000 passed the Senate, 28000 presented, 36000 became law,
31000 vetoed) and, for Senate floor actions, which carry no code, their text ("Cloture on the
motion to proceed to the measure not invoked in Senate by Yea-Nay Vote. 49 - 50. Record Vote
Number: 39."). Plain functions over plain values: no queries here.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol


class ActionLike(Protocol):
    acted_on: date
    acted_at_time: time | None
    text: str
    action_type: str
    action_code: str
    # Its place in Congress.gov's list, oldest first (orders the day's untimed actions).
    position: int


# Stages in the order a bill reaches them; a later action never moves a bill back.
STAGES = [
    ("introduced", "introduced"),
    ("in_committee", "in committee"),
    ("passed_house", "passed the House"),
    ("passed_senate", "passed the Senate"),
    ("resolving_differences", "resolving differences"),
    ("passed_both", "passed both chambers"),
    ("presented", "presented to the President"),
    ("became_law", "became law"),
    ("vetoed", "vetoed"),
]
STAGE_LABELS = dict(STAGES)
_RANK = {
    "introduced": 1,
    "in_committee": 2,
    "passed_house": 3,
    "passed_senate": 3,
    "resolving_differences": 4,
    "passed_both": 5,
    "presented": 6,
    "became_law": 7,
    "vetoed": 7,
}

_PUBLIC_LAW = re.compile(r"Became Public Law No:\s*(\d+-\d+)", re.IGNORECASE)
_TALLY = re.compile(r"(\d+)\s*-\s*(\d+)")
_ROLL = re.compile(r"Record Vote (?:Number|No)\.?:?\s*(\d+)", re.IGNORECASE)
_AMENDMENT = re.compile(r"\bS\.?\s?Amdt\.?\s?(\d+)|\bSA\s(\d+)", re.IGNORECASE)
_FINAL_AGREEMENT = re.compile(
    r"(Senate agreed to the House amendment|House agreed to the Senate amendment|"
    r"agreed to the conference report)(?!.*with an amendment)",
    re.IGNORECASE,
)


def stage_of(action: ActionLike) -> str:
    """The stage this one action marks, or "" if it marks none."""
    text, kind, code = action.text, action.action_type, action.action_code
    lowered = text.lower()
    if kind == "BecameLaw" or code == "36000" or _PUBLIC_LAW.search(text):
        return "became_law"
    if kind == "Veto" or code == "31000" or lowered.startswith("vetoed by president"):
        return "vetoed"
    if code == "28000" or lowered.startswith("presented to president"):
        return "presented"
    if lowered.startswith("signed by president"):
        return "presented"
    if kind == "ResolvingDifferences":
        return "passed_both" if _FINAL_AGREEMENT.search(text) else "resolving_differences"
    if code == "17000" or lowered.startswith(("passed senate", "passed/agreed to in senate")):
        return "passed_senate"
    if code == "8000" or lowered.startswith(("passed/agreed to in house", "passed house")):
        return "passed_house"
    if kind == "Committee" or lowered.startswith("referred to"):
        return "in_committee"
    if kind == "IntroReferral" and lowered.startswith("introduced in"):
        return "introduced"
    return ""


@dataclass(frozen=True)
class Stage:
    stage: str
    action: ActionLike | None
    public_law: str = ""

    @property
    def label(self) -> str:
        if self.stage == "became_law" and self.public_law:
            return f"became Public Law {self.public_law}"
        return STAGE_LABELS.get(self.stage, "no action yet")


def bill_stage(actions: list[ActionLike]) -> Stage:
    """The furthest stage the actions reach, with the (first) action that reached it."""
    reached: Stage = Stage("", None)
    for action in in_order(actions):
        stage = stage_of(action)
        if stage and _RANK[stage] > _RANK.get(reached.stage, 0):
            law = _PUBLIC_LAW.search(action.text)
            reached = Stage(stage, action, law.group(1) if law else "")
        elif stage and stage != reached.stage and _RANK[stage] == _RANK[reached.stage]:
            # The second chamber passing at the same rank: the latest chamber is the news.
            reached = Stage(stage, action)
    return reached


def in_order(actions: list[ActionLike]) -> list[ActionLike]:
    """Oldest first: by day, time where there is one, then place in Congress.gov's list."""
    return sorted(actions, key=lambda a: (a.acted_on, a.acted_at_time or time.min, a.position))


def is_failed_vote(action: ActionLike) -> bool:
    """Whether the action is a vote that failed on the bill itself: cloture not invoked on it or
    on proceeding to it, or failed of passage (an event on the way, not a stage)."""
    match = _CLOTURE_VOTE.search(action.text)
    if match and match.group("failed") and not _amendment_about(match.group("object")):
        return True
    lowered = action.text.lower()
    return action.action_code in ("9000", "18000") or lowered.startswith("failed of passage")


# The Senate floor -------------------------------------------------------------------------------

# What a cloture motion, a motion or a vote is about, as Senate actions word it.
_OBJECT = (
    r"(?P<object>the motion to proceed to the measure|the measure|the bill|"
    r"(?:the )?amendment SA \d+|the motion to concur in the House amendment[^.]*?|"
    r"the motion to concur[^.]*?)"
)
_CLOTURE_FILED = re.compile(rf"Cloture motion on {_OBJECT} (?:presented|filed)", re.I)
_CLOTURE_VOTE = re.compile(rf"Cloture on {_OBJECT} (?P<failed>not )?invoked", re.I)
_MTP_MADE = re.compile(r"Motion to proceed to (?:consideration of )?(?:the )?measure made", re.I)
_MTP_AGREED = re.compile(
    r"Motion to proceed to (?:consideration of )?(?:the )?measure agreed", re.I
)
_RECONSIDER = re.compile(r"Motion to reconsider", re.I)
_WAIVE = re.compile(r"Motion to waive .*?(?P<failed>not )?agreed to", re.I)
_TABLE = re.compile(r"Motion to table .*?(?P<failed>not )?agreed to", re.I)
_AMENDMENT_PROPOSED = re.compile(r"proposed by Senator", re.I)
_AMENDMENT_AGREED = re.compile(r"(?:S\.?\s?Amdt\.?\s?\d+|SA \d+).*?agreed to in Senate", re.I)
_CONCUR = re.compile(r"Senate agreed to the House amendment", re.I)

# Rule XXII: a cloture motion is voted on one hour after the Senate convenes on the second day
# of session after it is filed; invoked, it allows up to 30 more hours of consideration.
RIPENS_AFTER_DAYS = 2
POST_CLOTURE_HOURS = 30


@dataclass
class FloorStep:
    """One step of the Senate floor procedure on a bill."""

    day: date
    kind: str
    label: str
    text: str
    result: str = ""  # "agreed", "failed" or "" (a step with no vote)
    yeas: int | None = None
    nays: int | None = None
    roll_number: int | None = None
    about: str = ""
    # Computed for a cloture motion not yet voted on: the earliest calendar day it can ripen.
    ripens_on: date | None = None
    # Computed for cloture invoked: when the 30 hours of post-cloture time run out at the latest.
    post_cloture_ends: datetime | None = None
    vote_id: int | None = None

    @property
    def tally(self) -> str:
        return f"{self.yeas}–{self.nays}" if self.yeas is not None else ""


@dataclass
class FloorTrack:
    steps: list[FloorStep] = field(default_factory=list)
    next_step: str = ""


def floor_track(
    actions: list[ActionLike],
    *,
    vote_times: dict[tuple[int, int], tuple[int, datetime | None]] | None = None,
) -> FloorTrack:
    """The Senate floor procedure on a bill, step by step, from its Senate actions.

    `vote_times` maps (year, Senate roll number) to (the Vote's id, its time), for links and
    the post-cloture clock; roll numbers start again each session, which follows the year.
    Cloture motions not yet voted on get their earliest ripening day.
    """
    vote_times = vote_times or {}
    steps: list[FloorStep] = []
    seen: set[tuple[date, str, str]] = set()
    for action in in_order(actions):
        step = _floor_step(action)
        if step is None:
            continue
        # The same event may arrive from two source systems; keep one.
        key = (step.day, step.kind, step.about + step.result + step.tally)
        if key in seen:
            continue
        seen.add(key)
        if (step.day.year, step.roll_number) in vote_times:
            step.vote_id, voted_at = vote_times[(step.day.year, step.roll_number)]
            if step.kind == "cloture_vote" and step.result == "agreed" and voted_at:
                step.post_cloture_ends = voted_at + timedelta(hours=POST_CLOTURE_HOURS)
        steps.append(step)
    for index, step in enumerate(steps):
        if step.kind == "cloture_filed":
            voted = any(
                later.kind == "cloture_vote" and later.about == step.about
                for later in steps[index + 1 :]
            )
            if not voted:
                step.ripens_on = step.day + timedelta(days=RIPENS_AFTER_DAYS)
    return FloorTrack(steps, _next_step(steps))


def _floor_step(action: ActionLike) -> FloorStep | None:
    text = action.text
    day = action.acted_on
    tally = _TALLY.search(text.split("Vote.", 1)[1]) if "Vote." in text else None
    # The vote's own number comes last ("to reconsider ... (Record Vote No. 39) agreed to ...
    # Record Vote Number: 40").
    rolls = _ROLL.findall(text)
    common = {
        "day": day,
        "text": text,
        "yeas": int(tally.group(1)) if tally else None,
        "nays": int(tally.group(2)) if tally else None,
        "roll_number": int(rolls[-1]) if rolls else None,
    }
    if match := _CLOTURE_FILED.search(text):
        about = _about(match.group("object"))
        return FloorStep(
            kind="cloture_filed", label=f"Cloture filed on {about}", about=about, **common
        )
    if match := _CLOTURE_VOTE.search(text):
        about = _about(match.group("object"))
        failed = bool(match.group("failed"))
        verb = "not invoked" if failed else "invoked"
        return FloorStep(
            kind="cloture_vote",
            label=f"Cloture on {about} {verb}",
            about=about,
            result="failed" if failed else "agreed",
            **common,
        )
    if _RECONSIDER.search(text):
        agreed = "agreed to" in text.lower()
        return FloorStep(
            kind="reconsider",
            label="Motion to reconsider " + ("agreed to" if agreed else "entered"),
            result="agreed" if agreed else "",
            **common,
        )
    if _MTP_MADE.search(text):
        return FloorStep(kind="mtp_made", label="Motion to proceed made", **common)
    if _MTP_AGREED.search(text):
        return FloorStep(
            kind="mtp_agreed", label="Motion to proceed agreed to", result="agreed", **common
        )
    if match := _WAIVE.search(text):
        failed = bool(match.group("failed"))
        label = "Budget Act waived" if "budget" in text.lower() else "Motion to waive"
        return FloorStep(
            kind="waiver",
            label=label if not failed else "Motion to waive not agreed to",
            about=_amendment_about(text),
            result="failed" if failed else "agreed",
            **common,
        )
    if match := _TABLE.search(text):
        failed = bool(match.group("failed"))
        return FloorStep(
            kind="tabled",
            label="Motion to table " + ("not agreed to" if failed else "agreed to"),
            about=_amendment_about(text),
            result="failed" if failed else "agreed",
            **common,
        )
    if _AMENDMENT_PROPOSED.search(text):
        about = _amendment_about(text)
        return FloorStep(kind="amendment_offered", label=f"{about} offered", about=about, **common)
    if _AMENDMENT_AGREED.search(text) and "Senate" in text:
        about = _amendment_about(text)
        return FloorStep(
            kind="amendment_agreed", label=f"{about} agreed to", about=about, result="agreed",
            **common,
        )  # fmt: skip
    stage = stage_of(action)
    if stage == "passed_senate":
        return FloorStep(kind="passed", label="Passed the Senate", result="agreed", **common)
    if _CONCUR.search(text):
        return FloorStep(
            kind="concurred",
            label="Senate agreed to the House amendment",
            result="agreed",
            **common,
        )
    if stage == "passed_house" or "House actions:" in text:
        # The House's turn, as far as the Senate's track needs it.
        label = text.split("House actions:", 1)[-1].strip().rstrip(".")
        return FloorStep(kind="house", label=f"House: {label}", **common)
    return None


def _about(phrase: str) -> str:
    phrase = phrase.strip()
    lowered = phrase.lower()
    if lowered.startswith("the motion to proceed"):
        return "the motion to proceed"
    if lowered in {"the measure", "the bill"}:
        return "the bill"
    if lowered.startswith("the motion to concur"):
        return "the motion to concur"
    return _amendment_about(phrase) or phrase


def _amendment_about(text: str) -> str:
    match = _AMENDMENT.search(text)
    if match is None:
        return ""
    return f"S.Amdt. {match.group(1) or match.group(2)}"


def _day(value: date | datetime) -> str:
    """A day with its year: a negotiation runs across years, and the step is read later."""
    return f"{value:%b} {value.day}, {value.year}"


def _next_step(steps: list[FloorStep]) -> str:
    """What the Senate does next on this bill, as the last steps leave it."""
    if not steps:
        return ""
    last = steps[-1]
    pending = [step for step in steps if step.ripens_on is not None]
    if pending:
        step = pending[-1]
        return (
            f"Cloture vote on {step.about}: earliest {_day(step.ripens_on)}, "
            "one hour after the Senate convenes on the second day of session after filing "
            "(Rule XXII)"
        )
    if last.kind == "cloture_vote" and last.result == "agreed":
        ends = (
            f", by {_day(last.post_cloture_ends)} at the latest" if last.post_cloture_ends else ""
        )
        follows = {
            "the motion to proceed": "Vote on the motion to proceed",
            "the bill": "Passage vote",
            "the motion to concur": "Vote on the motion to concur",
        }.get(last.about, f"Vote on {last.about}")
        return f"{follows}, within 30 hours of post-cloture time{ends}"
    if last.kind == "cloture_vote" and last.result == "failed":
        return "A motion to reconsider or a new cloture motion"
    if last.kind in ("mtp_agreed", "amendment_agreed", "waiver"):
        return "Amendments and a cloture motion on the bill"
    if last.kind == "passed":
        return "House action on the Senate-passed bill"
    if last.kind == "house":
        return "The Senate's vote on what the House sent back"
    return ""

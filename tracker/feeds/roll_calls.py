"""What the vote adapters (Senate LIS and House Clerk) return: roll calls, their casts and the bills
they are on, as plain records: no ORM, no HTTP."""

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from tracker.models.votes import normalise_cast

# Bill types as congress.gov spells them in URLs; the chambers print them with dots and spaces.
_BILL_TYPES = {"hr", "s", "hjres", "sjres", "hconres", "sconres", "hres", "sres"}
_BILL_NAME = re.compile(r"^\s*([A-Za-z][A-Za-z. ]*?)\s*(\d+)\s*$")


@lru_cache(maxsize=1024)
def normalised_cast(published: str) -> str:
    """normalise_cast, remembered: a roll prints a handful of distinct values for 435 members."""
    return normalise_cast(published)


@dataclass(frozen=True)
class BillRef:
    congress: int
    bill_type: str
    number: int

    @property
    def key(self) -> str:
        return f"{self.congress}-{self.bill_type}-{self.number}"


def bill_ref_from_name(congress: int, name: str) -> BillRef | None:
    """ "H.R. 815", "H R 815", "S.Con.Res. 5" -> BillRef; nominations, treaties, motions -> None."""
    match = _BILL_NAME.match(name or "")
    if not match:
        return None
    bill_type = re.sub(r"[^a-z]", "", match.group(1).lower())
    if bill_type not in _BILL_TYPES:
        return None
    return BillRef(congress, bill_type, int(match.group(2)))


@dataclass(frozen=True)
class MemberCast:
    """One member's vote as printed. `member_id` is the LIS id (Senate) or bioguide id (House)."""

    member_id: str
    display_name: str
    first_name: str
    last_name: str
    party: str
    state: str
    published_as: str


@dataclass(frozen=True)
class RollCall:
    """A roll-call vote with every member's cast, as one chamber published it."""

    chamber: str  # "senate" or "house", as Vote.chamber
    congress: int
    session: int
    roll_number: int
    voted_on: date
    voted_at: datetime | None
    question: str
    title: str
    result: str
    majority_requirement: str
    yeas: int | None
    nays: int | None
    present: int | None
    not_voting: int | None
    bill: BillRef | None
    amendment: str
    tie_breaker_by: str
    tie_breaker_vote: str
    modified_at: datetime | None
    source_url: str
    casts: tuple[MemberCast, ...]
    # Speaker elections publish a total per candidate instead of yeas and nays.
    candidate_totals: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.chamber}-{self.congress}-{self.session}-{self.roll_number}"

    def inconsistencies(self) -> list[str]:
        """Why the member list cannot be trusted against the published totals, if it cannot."""
        problems = []
        seen = Counter(cast.member_id for cast in self.casts)
        duplicates = sorted(member for member, times in seen.items() if times > 1)
        if duplicates:
            problems.append(f"members listed twice: {', '.join(duplicates)}")
        if self.candidate_totals:
            counted = Counter(" ".join(cast.published_as.split()) for cast in self.casts)
            for candidate, total in self.candidate_totals:
                if counted.get(candidate, 0) != total:
                    problems.append(
                        f"{candidate}: {total} published, {counted.get(candidate, 0)} listed"
                    )
            return problems
        printed = Counter(cast.published_as for cast in self.casts)
        counted: Counter[str] = Counter()
        for published, times in printed.items():
            counted[normalised_cast(published)] += times
        unknown = sorted(
            published for published in printed if normalised_cast(published) == "other"
        )
        if unknown:
            problems.append(f"unknown vote values: {', '.join(repr(v) for v in unknown)}")
        for label, published, choice in (
            ("yeas", self.yeas, "yes"),
            ("nays", self.nays, "no"),
            ("present", self.present, "present"),
            ("not voting", self.not_voting, "absent"),
        ):
            if published is not None and published != counted.get(choice, 0):
                problems.append(f"{label}: {published} published, {counted.get(choice, 0)} listed")
        return problems

"""House roll-call votes from the Clerk's EVS XML (member ids are bioguide ids).

Reference: https://clerk.house.gov/Votes (files at {HOUSE_VOTES_BASE_URL}/{year}/roll{NNN}.xml).
Yea-and-nay votes print Yea/Nay, recorded votes Aye/No, Speaker elections candidates' names;
the time is Eastern and sometimes missing; a roll that does not exist comes back as an error
page, not a 404.
"""

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings

from tracker.feeds import client
from tracker.feeds.roll_calls import MemberCast, RollCall, bill_ref_from_name
from tracker.feeds.safexml import FeedFormatError, count, parse_xml, text

EASTERN = ZoneInfo("America/New_York")
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)?$")
_STATE_SUFFIX = re.compile(r"\s*\([A-Z]{2}\)$")


class RollNotFound(client.FeedError):
    """The Clerk has no such roll (yet): the end of the year's numbering."""


PUBLIC_BASE_URL = "https://clerk.house.gov/evs"


def roll_url(year: int, number: int) -> str:
    return f"{settings.HOUSE_VOTES_BASE_URL.rstrip('/')}/{year}/roll{number:03d}.xml"


def fetch_roll(
    year: int, number: int, *, etag: str = "", last_modified: str = ""
) -> client.FeedResponse:
    """The raw roll file (parse with parse_roll); RollNotFound past the last published roll."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url = roll_url(year, number)
    try:
        response = client.get(url, headers=headers, allow_statuses=frozenset({304}))
    except client.FeedHTTPError as error:
        if error.status == 404:
            raise RollNotFound(f"House roll {year}-{number}: not published") from None
        raise
    # The Clerk answers a missing roll with an error page, not a 404.
    head = response.body[:4096]
    if response.status == 200 and b"rollcall-vote" not in head and b"error" in head.lower():
        raise RollNotFound(f"House roll {year}-{number}: the Clerk served an error page")
    return response


def parse_roll(body: bytes, *, source_url: str = "", expected_key: str = "") -> RollCall:
    """One rollNNN.xml as a RollCall; FeedFormatError when it is not one."""
    what = f"House roll {expected_key or source_url}"
    root = parse_xml(body, root="rollcall-vote", what=what)
    meta = root.find("vote-metadata")
    if meta is None:
        raise FeedFormatError(f"{what}: no vote-metadata")
    try:
        congress = int(text(meta, "congress"))
        session = _ordinal(text(meta, "session"))
        number = int(text(meta, "rollcall-num"))
        voted_on = datetime.strptime(text(meta, "action-date"), "%d-%b-%Y").date()
        action_time = meta.find("action-time")
        time_etz = (action_time.get("time-etz") or "") if action_time is not None else ""
        voted_at = (
            datetime.combine(voted_on, time.fromisoformat(time_etz), tzinfo=EASTERN)
            if time_etz
            else None
        )
        totals = meta.find("vote-totals/totals-by-vote")
        yeas, nays = count(totals, "yea-total"), count(totals, "nay-total")
        present, not_voting = count(totals, "present-total"), count(totals, "not-voting-total")
        candidates = tuple(
            (text(row, "candidate"), int(text(row, "candidate-total") or 0))
            for row in meta.iterfind("vote-totals/totals-by-candidate")
        )
    except (ValueError, AttributeError) as error:
        raise FeedFormatError(f"{what}: {error}") from None
    key = f"house-{congress}-{session}-{number}"
    if expected_key and key != expected_key:
        raise FeedFormatError(f"{what}: the file is roll {key}")
    casts = []
    # The hot loop of a House year (about 300,000 casts): attributes are read once, and the
    # state-suffix regex runs only on names that end in ")".
    for recorded in root.iterfind("vote-data/recorded-vote"):
        legislator = recorded.find("legislator")
        if legislator is None:
            raise FeedFormatError(f"{what}: a recorded vote without a legislator")
        attributes = legislator.attrib
        bioguide = (attributes.get("name-id") or "").strip()
        if not bioguide or set(bioguide) == {"0"}:
            raise FeedFormatError(f"{what}: a legislator without a bioguide id")
        display = " ".join((legislator.text or "").split())
        casts.append(
            MemberCast(
                bioguide,
                display,
                "",
                # "Bean (FL)" is the Clerk's disambiguation, not part of the name.
                _STATE_SUFFIX.sub("", display) if display.endswith(")") else display,
                attributes.get("party") or "",
                attributes.get("state") or "",
                text(recorded, "vote"),
            )
        )
    amendment = text(meta, "amendment-num")
    return RollCall(
        chamber="house",
        congress=congress,
        session=session,
        roll_number=number,
        voted_on=voted_on,
        voted_at=voted_at,
        question=text(meta, "vote-question"),
        title=text(meta, "vote-desc"),
        result=text(meta, "vote-result"),
        majority_requirement=_requirement(text(meta, "vote-type")),
        yeas=yeas,
        nays=nays,
        present=present,
        not_voting=not_voting,
        bill=bill_ref_from_name(congress, text(meta, "legis-num")),
        amendment=f"H.Amdt. {amendment}" if amendment else "",
        tie_breaker_by="",
        tie_breaker_vote="",
        modified_at=None,
        # The record keeps its public address, whichever server it was fetched from.
        source_url=f"{PUBLIC_BASE_URL}/{voted_on.year}/roll{number:03d}.xml",
        casts=tuple(casts),
        candidate_totals=candidates,
    )


def _ordinal(value: str) -> int:
    match = _ORDINAL.match(value.strip())
    if not match:
        raise ValueError(f"unreadable session {value!r}")
    return int(match.group(1))


def _requirement(vote_type: str) -> str:
    for fraction in ("2/3", "3/5"):
        if vote_type.startswith(fraction):
            return fraction
    return "1/2" if vote_type in {"YEA-AND-NAY", "RECORDED VOTE"} else ""

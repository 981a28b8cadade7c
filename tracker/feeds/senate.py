"""Senate roll-call votes from the Secretary of the Senate's LIS XML.

Reference: https://www.senate.gov/legislative/votes_new.htm (files under
{SENATE_VOTES_BASE_URL}/roll_call_lists/ and /roll_call_votes/). Dates are US Eastern local
time; `modify_date` moves when the Senate corrects a record (sometimes months later); the Vice
President's tie-break is in `tie_breaker`, never a member; casts are kept as printed ("Yea",
"Not Voting", "Present, Giving Live Pair", "Guilty") and normalised apart.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from tracker.feeds import client
from tracker.feeds.roll_calls import MemberCast, RollCall, bill_ref_from_name
from tracker.feeds.safexml import FeedFormatError, count, parse_xml, text

EASTERN = ZoneInfo("America/New_York")


class SenateBlocked(client.FeedUnavailable):
    """senate.gov refused the request (403), as it does to scripted clients at times."""


@dataclass(frozen=True)
class VoteMenu:
    congress: int
    session: int
    vote_numbers: tuple[int, ...]


# Stored on each vote as its public address, whichever server it was fetched from.
PUBLIC_BASE_URL = "https://www.senate.gov/legislative/LIS"


def public_vote_url(congress: int, session: int, number: int) -> str:
    return (
        f"{PUBLIC_BASE_URL}/roll_call_votes/vote{congress}{session}/"
        f"vote_{congress}_{session}_{number:05d}.xml"
    )


def menu_url(congress: int, session: int) -> str:
    base = settings.SENATE_VOTES_BASE_URL.rstrip("/")
    return f"{base}/roll_call_lists/vote_menu_{congress}_{session}.xml"


def vote_url(congress: int, session: int, number: int) -> str:
    base = settings.SENATE_VOTES_BASE_URL.rstrip("/")
    return (
        f"{base}/roll_call_votes/vote{congress}{session}/vote_{congress}_{session}_{number:05d}.xml"
    )


def fetch_menu(congress: int, session: int) -> VoteMenu:
    """The session's vote numbers, from vote_menu_{congress}_{session}.xml."""
    return parse_menu(_get(menu_url(congress, session)).body, congress=congress, session=session)


def fetch_vote(
    congress: int, session: int, number: int, *, etag: str = "", last_modified: str = ""
) -> client.FeedResponse:
    """The raw vote file; 304 when `etag`/`last_modified` still match (parse with parse_vote)."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return _get(vote_url(congress, session, number), headers=headers)


def _get(url: str, headers: dict[str, str] | None = None) -> client.FeedResponse:
    try:
        return client.get(url, headers=headers, allow_statuses=frozenset({304}))
    except client.FeedHTTPError as error:
        if error.status == 403:
            raise SenateBlocked(f"{error} (senate.gov blocks scripted clients at times)") from None
        raise


def parse_menu(body: bytes, *, congress: int, session: int) -> VoteMenu:
    """Vote numbers only; the menu may serve another session, so its session is checked."""
    root = parse_xml(body, root="vote_summary", what=f"Senate vote menu {congress}-{session}")
    published = (text(root, "congress"), text(root, "session"))
    if published != (str(congress), str(session)):
        raise FeedFormatError(
            f"Senate vote menu {congress}-{session}: the file is for {published[0]}-{published[1]}"
        )
    numbers = set()
    for vote in root.iterfind("votes/vote"):
        number = text(vote, "vote_number")
        if not number.isdigit():
            raise FeedFormatError(f"Senate vote menu {congress}-{session}: bad number {number!r}")
        numbers.add(int(number))
    return VoteMenu(congress, session, tuple(sorted(numbers)))


def parse_vote(body: bytes, *, source_url: str = "", expected_key: str = "") -> RollCall:
    # `source_url` names the file in errors; the record keeps its public senate.gov address.
    """One vote_{congress}_{session}_{number}.xml as a RollCall; FeedFormatError when it is not."""
    what = f"Senate vote {expected_key or source_url}"
    root = parse_xml(body, root="roll_call_vote", what=what)
    try:
        congress = int(text(root, "congress"))
        session = int(text(root, "session"))
        number = int(text(root, "vote_number"))
        voted_at = _senate_datetime(text(root, "vote_date"))
        if voted_at is None:
            raise ValueError("no vote_date")
        modified = text(root, "modify_date")
        counts = root.find("count")
        yeas = count(counts, "yeas")
        nays = count(counts, "nays")
        present = count(counts, "present")
        absent = count(counts, "absent")
    except ValueError as error:
        raise FeedFormatError(f"{what}: {error}") from None
    key = f"senate-{congress}-{session}-{number}"
    if expected_key and key != expected_key:
        raise FeedFormatError(f"{what}: the file is vote {key}")
    document = root.find("document")
    amendment = root.find("amendment")
    bill = bill_ref_from_name(congress, text(document, "document_name")) or bill_ref_from_name(
        congress, text(amendment, "amendment_to_document_number")
    )
    casts = tuple(
        MemberCast(
            member_id=text(member, "lis_member_id"),
            display_name=text(member, "member_full"),
            first_name=text(member, "first_name"),
            last_name=text(member, "last_name"),
            party=text(member, "party"),
            state=text(member, "state"),
            published_as=text(member, "vote_cast"),
        )
        for member in root.iterfind("members/member")
    )
    if any(not cast.member_id or not cast.published_as for cast in casts):
        raise FeedFormatError(f"{what}: a member without an LIS id or a vote")
    return RollCall(
        chamber="senate",
        congress=congress,
        session=session,
        roll_number=number,
        voted_on=voted_at.date(),
        voted_at=voted_at,
        question=text(root, "vote_question_text") or text(root, "question"),
        title=text(root, "vote_title"),
        result=text(root, "vote_result") or text(root, "vote_result_text"),
        majority_requirement=text(root, "majority_requirement"),
        yeas=yeas,
        nays=nays,
        present=present,
        not_voting=absent,
        bill=bill,
        amendment=text(amendment, "amendment_number"),
        tie_breaker_by=text(root, "tie_breaker/by_whom"),
        tie_breaker_vote=text(root, "tie_breaker/tie_breaker_vote"),
        modified_at=_senate_datetime(modified) if modified else None,
        source_url=public_vote_url(congress, session, number),
        casts=casts,
    )


def _senate_datetime(value: str) -> datetime | None:
    """ "February 5, 2021,  05:23 AM" (Eastern); old files may carry the date alone."""
    value = " ".join(value.split())
    if not value:
        return None
    for pattern in ("%B %d, %Y, %I:%M %p", "%B %d, %Y"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=EASTERN)
        except ValueError:
            continue
    raise ValueError(f"unreadable date {value!r}")

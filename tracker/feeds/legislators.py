"""Members of Congress from unitedstates/congress-legislators (legislators-current, JSON or YAML).

Reference: https://github.com/unitedstates/congress-legislators#legislators-currentyamljson
A list of people: `id` (bioguide, and lis for senators), `name`, `terms` (type sen/rep, state,
party, district for representatives). The key is the bioguide id; senators' LIS ids link their
roll-call votes. Party can change within a term, so the party on a vote is the vote's own.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta

import yaml
from django.conf import settings

from tracker.feeds import client

_PARTIES = {"Democrat": "D", "Democratic": "D", "Republican": "R", "Independent": "I"}


class LegislatorsFormatError(client.FeedError):
    """The file is not a list of legislators."""


@dataclass(frozen=True)
class Legislator:
    bioguide_id: str
    lis_id: str
    name: str
    kind: str  # "senator" or "representative", as StakeholderKind
    party: str
    state: str
    district: int | None
    # When the current stretch of service in this chamber began (back-to-back terms join up).
    serving_since: date | None = None


def fetch_current() -> list[Legislator]:
    """The current members, from LEGISLATORS_URL."""
    return parse(client.get(settings.LEGISLATORS_URL).body)


def parse(body: bytes) -> list[Legislator]:
    """Both published formats: JSON first (fast), then YAML (safe loader only)."""
    try:
        people = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        try:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            people = yaml.load(body, Loader=loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as error:
            raise LegislatorsFormatError(f"legislators: neither JSON nor YAML ({error})") from None
    if not isinstance(people, list):
        raise LegislatorsFormatError("legislators: expected a list of people")
    legislators = []
    for index, person in enumerate(people):
        try:
            legislators.append(_legislator(person))
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise LegislatorsFormatError(f"legislators[{index}]: {error!r}") from None
    return legislators


# Terms this close together are one stretch of service (a new term starts on Jan 3, the old one
# ended on Jan 3 or the day before; an appointee's term joins the one they then won).
_CONTIGUOUS = timedelta(days=31)


def _serving_since(terms: list[dict]) -> date | None:
    """The start of the unbroken run of terms in the current term's chamber."""
    chamber = terms[-1].get("type")
    since = None
    for term in reversed(terms):
        start, end = _day(term.get("start")), _day(term.get("end"))
        if term.get("type") != chamber or start is None:
            break
        if since is not None and (end is None or end < since - _CONTIGUOUS):
            break
        since = start
    return since


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _legislator(person: dict) -> Legislator:
    ids, name, term = person["id"], person["name"], person["terms"][-1]
    party = term.get("party") or ""
    district = term.get("district")
    full_name = name.get("official_full") or " ".join(
        part for part in (name.get("first"), name.get("middle"), name.get("last")) if part
    )
    return Legislator(
        bioguide_id=str(ids["bioguide"]),
        lis_id=str(ids.get("lis") or ""),
        name=str(full_name),
        kind="senator" if term["type"] == "sen" else "representative",
        party=_PARTIES.get(party, party[:20]),
        state=str(term["state"]),
        district=int(district) if district is not None else None,
        serving_since=_serving_since(person["terms"]),
    )

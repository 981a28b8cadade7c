"""Members of Congress from unitedstates/congress-legislators (legislators-current, JSON or YAML).

Reference: https://github.com/unitedstates/congress-legislators#legislators-currentyamljson
A list of people: `id` (bioguide, and lis for senators), `name`, `terms` (type sen/rep, state,
party, district for representatives). The key is the bioguide id; senators' LIS ids link their
roll-call votes. Party can change within a term, so the party on a vote is the vote's own.
"""

import json
from dataclasses import dataclass

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
    )

"""Type-ahead for long choice lists: the options of a form's select that match what was typed,
for the combobox in static/tracker/combobox.js. Without JavaScript the select is shown as it is.

Each kind offers exactly what its form's select offers (the same rows, the same labels), so a
choice picked from the list is one the form accepts. Every word typed must appear in the
option's text, in any order; options whose text starts with what was typed come first, then the
select's own order. At most LIMIT options come back, with the count of all that match.
"""

import re
from dataclasses import dataclass

from django.db.models import Case, Q, QuerySet, Value, When

from tracker.models import Demand, Negotiation, Provision, Stakeholder
from tracker.models.digests import time_zone_choices
from tracker.models.whip import VoteTarget

LIMIT = 20
# Longer text than a title or name could be is cut here, and so are more words than a
# person types: each word is one more condition in the query.
MAX_QUERY = 100
MAX_WORDS = 6
SHORT_WORD = 2

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str
    # One short line under the label, to tell apart options with similar names.
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Found:
    choices: list[Choice]
    total: int


def words(query: str) -> list[str]:
    return _WORD.findall(query[:MAX_QUERY].lower())[:MAX_WORDS]


def _matching(
    queryset: QuerySet, typed: list[str], *, contains: list[str], exact: tuple[str, ...] = ()
) -> QuerySet:
    """Rows where every word appears in one of the `contains` fields or is one `exact` field.
    A word of one or two letters ("R", "AK", "US") must start a word there: as a mere
    substring it would match nearly everything."""
    for word in typed:
        anywhere = Q()
        for field in contains:
            if len(word) > SHORT_WORD:
                anywhere |= Q(**{f"{field}__icontains": word})
            else:
                anywhere |= Q(**{f"{field}__istartswith": word})
                anywhere |= Q(**{f"{field}__icontains": f" {word}"})
        for field in exact:
            anywhere |= Q(**{f"{field}__iexact": word})
        queryset = queryset.filter(anywhere)
    return queryset


def _starting_first(queryset: QuerySet, field: str, query: str, *order: str) -> QuerySet:
    """Rows whose `field` starts with the query first, then in the given order."""
    start = query[:MAX_QUERY].strip()
    if not start:
        return queryset.order_by(*order)
    starts = Case(When(**{f"{field}__istartswith": start}, then=Value(0)), default=Value(1))
    return queryset.order_by(starts, *order)


def stakeholders(query: str) -> Found:
    """The demand form's "Demanded by": every stakeholder, by name or role, and "R" or "AK"
    for a party's or a state's."""
    found = _matching(
        Stakeholder.objects.all(), words(query), contains=["name", "role"], exact=("party", "state")
    )
    rows = _starting_first(found, "name", query, "name", "pk").only(
        "pk", "name", "party", "state", "role"
    )
    return Found([Choice(str(s.pk), str(s), s.role) for s in rows[:LIMIT]], found.count())


def provisions(query: str, *, negotiation: Negotiation) -> Found:
    """The demand form's provisions: the negotiation's, by title."""
    found = _matching(
        Provision.objects.filter(negotiation=negotiation), words(query), contains=["title"]
    )
    rows = _starting_first(found, "title", query, "title", "pk").only("pk", "title", "category")
    return Found(
        [Choice(str(p.pk), p.title, p.get_category_display()) for p in rows[:LIMIT]],
        found.count(),
    )


def position_targets(query: str, *, negotiation: Negotiation, target: VoteTarget | None) -> Found:
    """The position form's "On": the negotiation's provisions and demands, or only those a whip
    count is about. Titles starting with the query first; otherwise provisions, then demands,
    as the select lists them."""
    typed = words(query)
    provision_rows = Provision.objects.filter(negotiation=negotiation)
    demand_rows = Demand.objects.filter(negotiation=negotiation)
    if target is not None:
        provision_rows = provision_rows.filter(vote_target_links__target=target)
        demand_rows = demand_rows.filter(vote_target_links__target=target)
    provision_rows = _matching(provision_rows, typed, contains=["title"])
    demand_rows = _matching(demand_rows, typed, contains=["title"])
    found = [
        (p.title, Choice(f"provision:{p.pk}", p.title, f"Provision · {p.get_kind_display()}"))
        for p in _starting_first(provision_rows, "title", query, "kind", "title", "pk").only(
            "pk", "title", "kind"
        )[:LIMIT]
    ] + [
        (d.title, Choice(f"demand:{d.pk}", d.title, "Demand"))
        for d in _starting_first(demand_rows, "title", query, "title", "pk").only("pk", "title")[
            :LIMIT
        ]
    ]
    return Found(_first(found, query)[:LIMIT], provision_rows.count() + demand_rows.count())


def _first(found: list[tuple[str, Choice]], query: str) -> list[Choice]:
    """Options whose text starts with what was typed first, keeping the given order otherwise
    (a stable sort)."""
    start = query[:MAX_QUERY].strip().lower()
    return [
        choice for text, choice in sorted(found, key=lambda p: not p[0].lower().startswith(start))
    ]


def time_zones(query: str) -> Found:
    """The digest preferences' time zone: every IANA name, "new york" finding America/New_York."""
    typed = words(query)
    found = []
    for value, label in time_zone_choices():
        text = label.lower().replace("/", " ")
        if all(word in text for word in typed):
            city = label.rsplit("/", 1)[-1]
            found.append((city, Choice(value, label)))
    return Found(_first(found, query)[:LIMIT], len(found))

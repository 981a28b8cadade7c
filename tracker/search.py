"""One search over the negotiation: provisions, demands, stakeholders, bills, votes and notes at
once, grouped by kind and ranked by relevance.

On PostgreSQL each kind is matched by full-text search (English stemming, every word may match,
more matching words rank higher, the last word matches as a prefix so results come while
typing) and by trigram similarity on names and titles (typos, partial names); both are served
by the indexes of migration 0012. Bills are also found by number however it is written
("H.R. 815", "hr815", "8035"). SQLite, which the demo runs on, has neither, so there every word
is matched as a substring and ranked by how many words match and where: the same interface and
the same groups, a simpler ranking.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Greatest
from django.urls import reverse

from tracker.models import (
    Activity,
    ActivityKind,
    Bill,
    BillType,
    Demand,
    Negotiation,
    Provision,
    Stakeholder,
    Vote,
)

# The searched text of each kind, exactly as migration 0012 indexes it: PostgreSQL uses an
# expression index only for the same expression.
PROVISION_DOCUMENT = SearchVector("title", "description", "notes", config="english")
DEMAND_DOCUMENT = SearchVector("title", "asks", "in_exchange_for", config="english")
STAKEHOLDER_DOCUMENT = SearchVector("name", "role", config="english")
BILL_DOCUMENT = SearchVector("title", config="english")
VOTE_DOCUMENT = SearchVector("question", "title", config="english")
NOTE_DOCUMENT = SearchVector("detail", config="english")

PER_KIND = 8
MAX_QUERY = 200
# Trigram word similarity a name or title needs to count as a match (PostgreSQL's default for
# the %> operator is 0.6, too strict for a name typed with one letter wrong).
TRIGRAM_THRESHOLD = 0.4

_WORD = re.compile(r"\w+", re.UNICODE)
# "H.R. 815", "hr815", "S 4361", "H.J.Res. 1", "8035": a bill's type (optional) and number.
_BILL_NUMBER = re.compile(
    r"^\s*(?P<type>h\.?\s*j\.?\s*res|s\.?\s*j\.?\s*res|h\.?\s*con\.?\s*res|s\.?\s*con\.?\s*res|"
    r"h\.?\s*res|s\.?\s*res|h\.?\s*r|s)?\.?\s*(?P<number>\d{1,5})\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: what it is, where it leads, one line of context, and how well it matched."""

    title: str
    url: str
    context: str = ""
    rank: float = 0.0


@dataclass
class Group:
    kind: str
    label: str
    hits: list[Hit] = field(default_factory=list)


@dataclass
class Results:
    query: str
    groups: list[Group] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(group.hits) for group in self.groups)

    @property
    def shown(self) -> list[Group]:
        """The groups with at least one hit, the best-matching group first."""
        found = [group for group in self.groups if group.hits]
        return sorted(found, key=lambda group: -group.hits[0].rank)


def words_of(query: str) -> list[str]:
    """The words searched for: a bill number stands for itself ("H.R. 8035" is "8035", so the
    "r" does not find every middle initial R.), and single letters are left out."""
    number = bill_number(query)
    if number is not None:
        return [str(number[1])]
    return [word for word in _WORD.findall(query.lower()) if len(word) > 1][:12]


def bill_number(query: str) -> tuple[str, int] | None:
    """(bill type or "", number) when the query is a bill number, else None."""
    match = _BILL_NUMBER.match(query)
    if match is None:
        return None
    kind = re.sub(r"[^a-z]", "", (match["type"] or "").lower())
    return kind if kind in BillType.values else "", int(match["number"])


def search(query: str, negotiation: Negotiation, *, per_kind: int = PER_KIND) -> Results:
    """Everything in `negotiation` (and every stakeholder) that matches `query`, by kind."""
    query = " ".join(query.split())[:MAX_QUERY]
    results = Results(query)
    words = words_of(query)
    if not words:
        return results
    number = bill_number(query)
    if connection.vendor != "postgresql":
        return _search(results, _SimpleMatch(words), negotiation, number, per_kind)
    # The similarity threshold is set for this transaction only, so it holds for the queries
    # below even through a PgBouncer in transaction mode.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(TRIGRAM_THRESHOLD)],
        )
        engine = _PostgresMatch(query, words, trigram=number is None)
        return _search(results, engine, negotiation, number, per_kind)


def _search(
    results: Results,
    engine: "_Match",
    negotiation: Negotiation,
    number: tuple[str, int] | None,
    per_kind: int,
) -> Results:

    provisions = engine.rank(
        Provision.objects.filter(negotiation=negotiation), PROVISION_DOCUMENT, "title"
    )
    results.groups.append(
        Group(
            "provision",
            "Provisions",
            [
                Hit(p.title, p.get_absolute_url(), p.get_status_display(), p.search_rank)
                for p in provisions[:per_kind]
            ],
        )
    )
    demands = engine.rank(
        Demand.objects.filter(negotiation=negotiation).select_related("demanded_by"),
        DEMAND_DOCUMENT,
        "title",
    )
    results.groups.append(
        Group(
            "demand",
            "Demands",
            [
                Hit(
                    d.title,
                    d.get_absolute_url(),
                    f"{d.demanded_by.name if d.demanded_by else 'unattributed'}, "
                    f"{d.get_status_display().lower()}",
                    d.search_rank,
                )
                for d in demands[:per_kind]
            ],
        )
    )
    stakeholders = engine.rank(Stakeholder.objects.all(), STAKEHOLDER_DOCUMENT, "name")
    results.groups.append(
        Group(
            "stakeholder",
            "Stakeholders",
            [
                Hit(str(s), s.get_absolute_url(), s.role or s.get_kind_display(), s.search_rank)
                for s in stakeholders[:per_kind]
            ],
        )
    )
    results.groups.append(Group("bill", "Bills", _bills(engine, negotiation, number, per_kind)))
    results.groups.append(Group("vote", "Votes", _votes(engine, negotiation, number, per_kind)))
    notes = engine.rank(
        # Notes on stakeholders belong to no negotiation: they are everyone's.
        Activity.objects.filter(
            Q(negotiation=negotiation) | Q(negotiation__isnull=True), kind=ActivityKind.NOTE
        ).select_related("provision", "demand", "stakeholder"),
        NOTE_DOCUMENT,
        None,
    )
    results.groups.append(Group("note", "Notes", [_note_hit(note) for note in notes[:per_kind]]))
    return results


def _bills(engine: "_Match", negotiation: Negotiation, number: tuple | None, limit: int) -> list:
    bills = Bill.objects.filter(Q(negotiation=negotiation) | Q(negotiation__isnull=True))
    hits: list[Hit] = []
    if number is not None:
        kind, n = number
        exact = bills.filter(number=n, **({"bill_type": kind} if kind else {}))
        hits = [
            Hit(
                f"{b.label}: {b.title}"[:200],
                reverse("tracker-bill-detail", args=[b.pk]),
                b.stage_label,
                100.0,
            )
            for b in exact[:limit]
        ]
    seen = {hit.url for hit in hits}
    for bill in engine.rank(bills, BILL_DOCUMENT, "title")[:limit]:
        url = reverse("tracker-bill-detail", args=[bill.pk])
        if url not in seen:
            hits.append(
                Hit(f"{bill.label}: {bill.title}"[:200], url, bill.stage_label, bill.search_rank)
            )
    return hits[:limit]


def _votes(engine: "_Match", negotiation: Negotiation, number: tuple | None, limit: int) -> list:
    votes = Vote.objects.filter(bill__negotiation=negotiation).select_related("bill")
    found = list(engine.rank(votes, VOTE_DOCUMENT, None)[:limit])
    if number is not None:
        kind, n = number
        on_bill = votes.filter(bill__number=n, **({"bill__bill_type": kind} if kind else {}))
        known = {vote.pk for vote in found}
        found += [vote for vote in on_bill.order_by("-voted_on")[:limit] if vote.pk not in known]
    hits = []
    for vote in found[:limit]:
        roll = f"roll {vote.roll_number}" if vote.roll_number else "roll number unconfirmed"
        when = f"{vote.voted_on:%b} {vote.voted_on.day}, {vote.voted_on.year}"
        hits.append(
            Hit(
                vote.question[:200],
                reverse("tracker-vote-detail", args=[vote.pk]),
                f"{vote.get_chamber_display()} {roll}, {when}: {vote.result}",
                getattr(vote, "search_rank", 50.0),
            )
        )
    return hits


def _note_hit(note: Activity) -> Hit:
    subject = note.provision or note.demand or note.stakeholder
    url = subject.get_absolute_url() if subject is not None else reverse("tracker-timeline")
    text = " ".join(note.detail.split())
    return Hit(
        text[:160] + ("…" if len(text) > 160 else ""), url, f"Note on {subject}", note.search_rank
    )


class _Match:
    def rank(self, items: QuerySet, document: SearchVector, name: str | None) -> QuerySet:
        raise NotImplementedError


class _PostgresMatch(_Match):
    """Full-text search, any word matching (more words rank higher), the last word as a prefix;
    plus trigram word similarity on the name or title."""

    def __init__(self, query: str, words: list[str], *, trigram: bool = True) -> None:
        self.text = query
        self.trigram = trigram
        terms = [f"{word}:*" if i == len(words) - 1 else word for i, word in enumerate(words)]
        # Only \w characters reach the raw query, so no input can break its syntax.
        self.query = SearchQuery(" | ".join(terms), search_type="raw", config="english")

    def rank(self, items: QuerySet, document: SearchVector, name: str | None) -> QuerySet:
        items = items.annotate(search_document=document)
        matches = Q(search_document=self.query)
        rank = SearchRank(F("search_document"), self.query)
        if name is not None and self.trigram:
            matches |= Q(**{f"{name}__trigram_word_similar": self.text})
            rank = Greatest(rank, TrigramWordSimilarity(self.text, name))
        return items.filter(matches).annotate(search_rank=rank).order_by("-search_rank", "pk")


class _SimpleMatch(_Match):
    """The SQLite fallback: each word as a substring of any searched field; ranked by how many
    words match, a match in the name or title counting double."""

    def __init__(self, words: list[str]) -> None:
        self.words = words

    def rank(self, items: QuerySet, document: SearchVector, name: str | None) -> QuerySet:
        fields = _columns(document)
        any_word = Q()
        for word in self.words:
            for column in fields:
                any_word |= Q(**{f"{column}__icontains": word})
        candidates = list(items.filter(any_word)[:200])
        for item in candidates:
            score = 0.0
            for word in self.words:
                if name and word in str(getattr(item, name, "")).lower():
                    score += 2
                elif any(word in str(getattr(item, column, "")).lower() for column in fields):
                    score += 1
            item.search_rank = score / (2 * len(self.words))
        candidates.sort(key=lambda item: (-item.search_rank, item.pk))
        return candidates  # type: ignore[return-value]


def _columns(document: SearchVector) -> list[str]:
    """The model fields a SearchVector reads."""
    return [expression.name for expression in document.get_source_expressions()]

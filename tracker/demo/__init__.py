"""Load the demo negotiation (the 2023-24 supplemental) from the project's own fixture.

The fixture is facts from the public record, written in our format. Loading is one transaction:
a record that fails validation aborts the whole load with a message naming it, and loading
twice changes nothing, because every row is matched on its natural key and saved only when a
value differs.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction

from tracker.models import (
    Activity,
    ActivityKind,
    Bill,
    CostEstimate,
    Demand,
    Negotiation,
    PackageVersion,
    Position,
    Provision,
    Stakeholder,
    VersionLine,
    Vote,
    VoteCast,
    VoteTarget,
    VoteTargetLink,
    normalise_cast,
    required_majority,
)

DEMO_FIXTURE = Path(__file__).parents[1] / "fixtures" / "demo" / "negotiation-2023-24.yaml"
EASTERN = ZoneInfo("America/New_York")
PUBLIC_RECORD = "public record"


class DemoFixtureError(Exception):
    """The fixture has a record that cannot be loaded; the message names it."""


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, model: type[models.Model], *, created: bool, changed: bool) -> None:
        name = model._meta.verbose_name_plural
        if created:
            self.created[name] = self.created.get(name, 0) + 1
        elif changed:
            self.updated[name] = self.updated.get(name, 0) + 1

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.updated)


def load_demo(path: Path = DEMO_FIXTURE) -> tuple[Negotiation, LoadReport]:
    """Load the fixture at `path` in one transaction; raise DemoFixtureError on a bad record."""
    try:
        # libyaml's loader when present: the fixture parses in a fraction of the time.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        fixture = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    except (OSError, yaml.YAMLError) as error:
        raise DemoFixtureError(f"Cannot read the demo fixture {path}: {error}") from error
    if not isinstance(fixture, dict) or "negotiation" not in fixture:
        raise DemoFixtureError(f"{path} has no 'negotiation' section.")
    with transaction.atomic():
        return _Loader(fixture).load()


class _Loader:
    def __init__(self, fixture: dict[str, Any]) -> None:
        self.fixture = fixture
        self.report = LoadReport()
        self.versions: dict[str, PackageVersion] = {}
        self.bills: dict[str, Bill] = {}
        self.stakeholders: dict[str, Stakeholder] = {}
        self.provisions: dict[str, Provision] = {}
        self.demands: dict[str, Demand] = {}
        self.votes: dict[str, Vote] = {}
        self.parents: dict[str, tuple[str, str | None]] = {}
        # (provision slug, version slug) -> (record name, the line, slug of the line it is within)
        self.lines: dict[tuple[str, str], tuple[str, VersionLine, str | None]] = {}
        self._known: dict[tuple[type[models.Model], tuple[str, ...]], dict[tuple, Any]] = {}

    def load(self) -> tuple[Negotiation, LoadReport]:
        record = self.fixture["negotiation"]
        self.negotiation = self._upsert(
            "negotiation",
            Negotiation,
            {"slug": record.get("slug")},
            {key: record.get(key) for key in ("name", "summary", "congress")},
        )
        for label, loader in (
            ("bills", self._load_bill),
            ("versions", self._load_version),
            ("stakeholders", self._load_stakeholder),
            ("provisions", self._load_provision),
            ("demands", self._load_demand),
            ("votes", self._load_vote),
            ("positions", self._load_position),
            ("timeline", self._load_timeline_entry),
            ("vote_targets", self._load_vote_target),
            ("cost_estimates", self._load_cost_estimate),
        ):
            for index, entry in enumerate(self.fixture.get(label) or []):
                name = f"{label}[{index}]"
                if isinstance(entry, dict):
                    name += f" ({entry.get('slug') or entry.get('key') or entry.get('date')})"
                try:
                    loader(name, entry)
                except KeyError as error:
                    raise DemoFixtureError(f"{name}: missing field {error}") from error
                except (TypeError, ValueError, ObjectDoesNotExist) as error:
                    raise DemoFixtureError(f"{name}: {error}") from error
            if label == "provisions":
                self._link_parents()
                self._link_lines_within()
        return self.negotiation, self.report

    # Upserting -----------------------------------------------------------------------------

    def _upsert(
        self, name: str, model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
    ) -> Any:
        """Get by natural key, create or update; validate first; save only real changes."""
        instance = self._existing(model, lookup)
        created = instance is None
        if created:
            instance = model(**lookup)
        changed = False
        for attribute, value in values.items():
            if created or getattr(instance, attribute) != value:
                setattr(instance, attribute, value)
                changed = True
        if created or changed:
            # Field checks (choices, lengths, URLs) here; the database's constraints catch the
            # rest on save, with no query per constraint.
            # No savepoint per row: a refused row aborts the whole load anyway.
            try:
                instance.full_clean(validate_unique=False, validate_constraints=False)
                instance.save()
            except ValidationError as error:
                raise DemoFixtureError(f"{name}: {_describe(error)}") from error
            except IntegrityError as error:
                raise DemoFixtureError(f"{name}: refused by the database: {error}") from error
        self.report.count(model, created=created, changed=changed)
        if created and (model, tuple(sorted(lookup))) in self._known:
            self._known[(model, tuple(sorted(lookup)))][_key(lookup)] = instance
        return instance

    def _existing(self, model: type[models.Model], lookup: dict[str, Any]) -> Any:
        """The stored row for `lookup`, from one query per model rather than one per row."""
        if model is Activity:
            # Activities are shared with staff and feeds and can be many: ask directly.
            return model.objects.filter(**lookup).first()
        fields = tuple(sorted(lookup))
        if (model, fields) not in self._known:
            self._known[(model, fields)] = {
                _key({field: _value(row, field) for field in fields}): row
                for row in model.objects.all()
            }
        return self._known[(model, fields)].get(_key(lookup))

    def _set_m2m(self, manager: Any, targets: Iterable[models.Model]) -> None:
        wanted = {target.pk for target in targets}
        if set(manager.values_list("pk", flat=True)) != wanted:
            manager.set(wanted)

    # Sections -------------------------------------------------------------------------------

    def _load_bill(self, name: str, entry: dict[str, Any]) -> None:
        bill = self._upsert(
            name,
            Bill,
            {"congress": entry["congress"], "bill_type": entry["type"], "number": entry["number"]},
            {
                "negotiation": self.negotiation,
                "title": entry.get("title") or "",
                "latest_action_on": _date(entry.get("latest_action_date")),
                "latest_action_text": entry.get("latest_action_text") or "",
                "public_law": entry.get("public_law") or "",
            },
        )
        self.bills[entry["key"]] = bill

    def _load_version(self, name: str, entry: dict[str, Any]) -> None:
        self.versions[entry["slug"]] = self._upsert(
            name,
            PackageVersion,
            {"negotiation": self.negotiation, "slug": entry["slug"]},
            {
                "name": entry["name"],
                "stage": entry["stage"],
                "dated": _date(entry["date"]),
                "stated_total": entry.get("stated_total"),
                "stated_total_confirmed": entry.get("stated_total_confirmed", True),
                "bill": self._ref(self.bills, entry.get("bill"), "bill"),
                "source_url": entry.get("source_url") or "",
                "notes": entry.get("notes") or "",
            },
        )

    def _load_stakeholder(self, name: str, entry: dict[str, Any]) -> None:
        self.stakeholders[entry["slug"]] = self._upsert(
            name,
            Stakeholder,
            {"slug": entry["slug"]},
            {
                "name": entry["name"],
                "kind": entry["kind"],
                "role": entry.get("role") or "",
                "party": entry.get("party") or "",
                "state": entry.get("state") or "",
                "district": entry.get("district"),
                "bioguide_id": entry.get("bioguide_id") or "",
                "lis_id": entry.get("lis_id") or "",
            },
        )

    def _load_provision(self, name: str, entry: dict[str, Any]) -> None:
        provision = self._upsert(
            name,
            Provision,
            {"negotiation": self.negotiation, "slug": entry["slug"]},
            {
                "title": entry["title"],
                "kind": entry["kind"],
                "category": entry["category"],
                "status": entry["status"],
                "unit": entry.get("unit", "usd"),
                "is_memo": entry.get("is_memo", False),
                "version": self._ref(self.versions, entry.get("version"), "version"),
                "description": entry.get("description") or "",
                "notes": entry.get("notes") or "",
                "sources": list(entry.get("sources") or []),
            },
        )
        self.provisions[entry["slug"]] = provision
        self.parents[entry["slug"]] = (name, entry.get("parent"))
        for version_slug, line in (entry.get("lines") or {}).items():
            version_line = self._upsert(
                f"{name} line {version_slug}",
                VersionLine,
                {
                    "provision": provision,
                    "version": self._ref(self.versions, version_slug, "version"),
                },
                {
                    "amount": line.get("amount"),
                    "inclusion": line.get("inclusion", "included"),
                    "is_confirmed": line.get("confirmed", True),
                    "note": line.get("note") or "",
                },
            )
            self.lines[entry["slug"], version_slug] = (
                f"{name} line {version_slug}",
                version_line,
                line.get("within"),
            )

    def _link_parents(self) -> None:
        """Sub-lines name their parent line, which may come later in the fixture."""
        for slug, (name, parent_slug) in self.parents.items():
            provision = self.provisions[slug]
            if parent_slug is not None and parent_slug not in self.provisions:
                raise DemoFixtureError(f"{name}: unknown parent provision {parent_slug!r}")
            parent = self.provisions.get(parent_slug) if parent_slug else None
            if provision.parent_id != (parent.pk if parent else None):
                provision.parent = parent
                provision.save(update_fields=["parent"])
                self.report.count(Provision, created=False, changed=True)

    def _link_lines_within(self) -> None:
        """A version's line can sit inside another line's figure (`within`), which may come
        later in the fixture."""
        for name, line, within_slug in self.lines.values():
            if within_slug is not None and within_slug not in self.provisions:
                raise DemoFixtureError(f"{name}: unknown provision {within_slug!r} it is within")
            within = self.provisions.get(within_slug) if within_slug else None
            if line.within_id == (within.pk if within else None):
                continue
            line.within = within
            try:
                line.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                raise DemoFixtureError(f"{name}: {_describe(error)}") from error
            line.save(update_fields=["within"])
            self.report.count(VersionLine, created=False, changed=True)

    def _load_demand(self, name: str, entry: dict[str, Any]) -> None:
        demand = self._upsert(
            name,
            Demand,
            {"negotiation": self.negotiation, "slug": entry["slug"]},
            {
                "title": entry["title"],
                "demanded_by": self._ref(
                    self.stakeholders, entry.get("demanded_by"), "stakeholder"
                ),
                "asks": entry["asks"],
                "in_exchange_for": entry.get("in_exchange_for") or "",
                "status": entry["status"],
                "raised_on": _date(entry.get("raised_on")),
                "source_url": entry.get("source_url") or "",
                "notes": entry.get("notes") or "",
            },
        )
        self._set_m2m(
            demand.provisions,
            [
                self._ref(self.provisions, slug, "provision")
                for slug in entry.get("provisions") or []
            ],
        )
        self.demands[entry["slug"]] = demand

    def _load_vote(self, name: str, entry: dict[str, Any]) -> None:
        voted_at = _datetime(entry["voted_at"])
        natural_key = {
            "chamber": entry["chamber"],
            "congress": entry["congress"],
            "session": entry["session"],
            "roll_number": entry.get("roll_number"),
        }
        if natural_key["roll_number"] is None:
            # Unnumbered votes (number unconfirmed) are told apart by their day and question.
            natural_key |= {"voted_on": voted_at.date(), "question": entry["question"]}
        vote = self._upsert(
            name,
            Vote,
            natural_key,
            {
                "voted_on": voted_at.date(),
                "voted_at": voted_at if "T" in str(entry["voted_at"]) else None,
                "question": entry["question"],
                "title": entry.get("title") or "",
                "result": entry["result"],
                # As the chamber published it, else read off the question (as the feeds do).
                "majority_requirement": required_majority(
                    entry["chamber"],
                    entry["question"],
                    published=entry.get("majority_requirement") or "",
                ),
                "yeas": entry.get("yeas"),
                "nays": entry.get("nays"),
                "present": entry.get("present"),
                "not_voting": entry.get("not_voting"),
                "bill": self._ref(self.bills, entry.get("bill"), "bill"),
                "amendment": entry.get("amendment") or "",
                "tie_breaker_by": entry.get("tie_breaker_by") or "",
                "tie_breaker_vote": entry.get("tie_breaker_vote") or "",
                "source_modified_at": _datetime(entry["modified_at"])
                if entry.get("modified_at")
                else None,
                "is_confirmed": entry.get("confirmed", True),
                "source_url": entry.get("source_url") or "",
                "notes": entry.get("notes") or "",
            },
        )
        self.votes[entry["key"]] = vote
        self._load_casts(name, vote, entry.get("casts") or {})
        roll = (
            f"roll call {vote.roll_number}" if vote.roll_number else "roll call number unconfirmed"
        )
        self._upsert(
            name,
            Activity,
            {"negotiation": self.negotiation, "kind": ActivityKind.VOTE, "vote": vote},
            {
                "occurred_at": voted_at,
                # Old facts: recorded as of when they happened, so no digest replays history.
                "recorded_at": voted_at,
                "source": PUBLIC_RECORD,
                "source_url": vote.source_url,
                "summary": _clip(
                    f"{vote.get_chamber_display()} {roll}: {vote.question} — "
                    f"{vote.result} ({vote.tally})"
                ),
                "is_confirmed": vote.is_confirmed,
                "bill": vote.bill,
            },
        )

    def _load_casts(self, name: str, vote: Vote, casts: dict[str, str]) -> None:
        members = {
            member.lis_id if vote.chamber == "senate" else member.bioguide_id: member
            for member in Stakeholder.objects.in_chamber(vote.chamber)
        }
        existing = {cast.member_id: cast for cast in vote.casts.all()}
        new_casts = []
        for member_id, published_as in casts.items():
            member = members.get(member_id)
            if member is None:
                raise DemoFixtureError(f"{name}: cast by unknown member id {member_id!r}")
            cast = existing.get(member.pk)
            if cast is None:
                new_casts.append(
                    VoteCast(
                        vote=vote,
                        member=member,
                        published_as=published_as,
                        cast=normalise_cast(published_as),
                        party=member.party,
                        state=member.state,
                    )
                )
            elif cast.published_as != published_as:
                cast.published_as, cast.cast = published_as, normalise_cast(published_as)
                cast.save(update_fields=["published_as", "cast"])
                self.report.count(VoteCast, created=False, changed=True)
        VoteCast.objects.bulk_create(new_casts)
        for _ in new_casts:
            self.report.count(VoteCast, created=True, changed=True)

    def _load_position(self, name: str, entry: dict[str, Any]) -> None:
        stakeholder = self._ref(self.stakeholders, entry["stakeholder"], "stakeholder")
        target = (
            {"provision": self._ref(self.provisions, entry["provision"], "provision")}
            if entry.get("provision")
            else {"demand": self._ref(self.demands, entry["demand"], "demand")}
        )
        as_of = _date(entry["as_of"])
        position = self._upsert(
            name,
            Position,
            {"stakeholder": stakeholder, "as_of": as_of, "stance": entry["stance"], **target},
            {
                "source_url": entry.get("source_url") or "",
                "source_type": entry.get("source_type") or "",
                "source_is_weak": entry.get("source_quality") == "weak",
                "statement": entry.get("statement") or "",
                "statement_kind": entry.get("statement_kind", "paraphrase"),
                "derived_from_vote": self._ref(self.votes, entry.get("derived_from_vote"), "vote"),
            },
        )
        if position.derived_from_vote_id:
            return  # The vote itself is on the timeline; 100 copies of it would bury the rest.
        subject = position.provision or position.demand
        self._upsert(
            name,
            Activity,
            {
                "negotiation": self.negotiation,
                "kind": ActivityKind.POSITION_CHANGE,
                "position": position,
            },
            {
                "occurred_at": _noon(as_of),
                "recorded_at": _noon(as_of),
                "source": PUBLIC_RECORD,
                "source_url": position.source_url,
                "summary": _clip(
                    f"{stakeholder.name} on {subject}: {position.get_stance_display()}"
                ),
                "detail": position.statement,
                "to_value": position.stance,
                "stakeholder": stakeholder,
                **target,
            },
        )

    def _load_vote_target(self, name: str, entry: dict[str, Any]) -> None:
        target = self._upsert(
            name,
            VoteTarget,
            {"negotiation": self.negotiation, "motion": entry["motion"]},
            {
                "chamber": entry["chamber"],
                "expected_on": _date(entry.get("expected_on")),
                "rule": entry["rule"],
                "vote": self.votes[entry["vote"]] if entry.get("vote") else None,
                "notes": entry.get("notes") or "",
            },
        )
        for slug in entry.get("provisions") or []:
            self._upsert(
                name, VoteTargetLink, {"target": target, "provision": self.provisions[slug]}, {}
            )

    def _load_cost_estimate(self, name: str, entry: dict[str, Any]) -> None:
        published = entry.get("published_at")
        self._upsert(
            name,
            CostEstimate,
            {"bill": self._ref(self.bills, entry["bill"], "bill"), "url": entry["url"]},
            {
                "title": entry["title"],
                "description": entry.get("description") or "",
                "published_at": _datetime(published) if published else None,
                "version": self._ref(self.versions, entry.get("version"), "version"),
                "note": entry.get("note") or "",
            },
        )

    def _load_timeline_entry(self, name: str, entry: dict[str, Any]) -> None:
        self._upsert(
            name,
            Activity,
            {
                "negotiation": self.negotiation,
                "kind": ActivityKind.NOTE,
                "occurred_at": _noon(_date(entry["date"])),
                "summary": _clip(entry["summary"]),
            },
            {
                "recorded_at": _noon(_date(entry["date"])),
                "source": PUBLIC_RECORD,
                "source_url": entry.get("source_url") or "",
                "detail": entry["summary"],
                "is_confirmed": entry.get("confirmed", True),
            },
        )

    def _ref(self, loaded: dict[str, Any], key: str | None, what: str) -> Any:
        if key is None:
            return None
        if key not in loaded:
            raise ValueError(f"unknown {what} {key!r}")
        return loaded[key]


def _key(lookup: dict[str, Any]) -> tuple:
    return tuple(sorted((field, getattr(value, "pk", value)) for field, value in lookup.items()))


def _value(row: models.Model, field: str) -> Any:
    """A row's value for a lookup field; foreign keys by id, as _key reads them."""
    concrete = row._meta.get_field(field)
    return getattr(row, concrete.attname)


def _date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _datetime(value: str | date) -> datetime:
    """An ISO timestamp with offset, or a bare date (taken as noon Eastern)."""
    text = str(value)
    if "T" in text:
        return datetime.fromisoformat(text)
    return _noon(date.fromisoformat(text))


def _noon(day: date) -> datetime:
    # A day-only fact goes at noon Eastern so it never slips to the next or previous day.
    return datetime.combine(day, time(12), tzinfo=EASTERN)


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)

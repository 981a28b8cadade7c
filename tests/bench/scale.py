"""A large synthetic negotiation for benchmarks, built with bulk inserts.

Everything lives under its own negotiation, stakeholder slugs starting "scale-" and the
fictional 200th Congress, so it never collides with the real record and can be rebuilt.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.test.utils import override_settings

from tracker.models import (
    Activity,
    ActivityKind,
    Bill,
    CastChoice,
    Category,
    Demand,
    DemandStatus,
    Negotiation,
    PackageVersion,
    Position,
    Provision,
    ProvisionKind,
    ProvisionStatus,
    Stakeholder,
    StakeholderKind,
    Stance,
    VersionLine,
    VersionStage,
    Vote,
    VoteCast,
)

SCALE_SLUG = "scale-test"
SCALE_CONGRESS = 200
EASTERN = ZoneInfo("America/New_York")
STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]
PUBLISHED = {
    CastChoice.YES: "Yea",
    CastChoice.NO: "Nay",
    CastChoice.PRESENT: "Present",
    CastChoice.ABSENT: "Not Voting",
}
BATCH = 5000


@dataclass(frozen=True)
class ScaleSize:
    senators: int = 100
    representatives: int = 441
    others: int = 60
    provisions: int = 300
    demands: int = 40
    positions: int = 30_000
    votes: int = 600
    activities: int = 50_000

    def times(self, factor: int) -> "ScaleSize":
        """This size with `factor` times the positions, activities, votes, provisions and
        demands; the people stay (a chamber has as many members at any size)."""
        return replace(
            self,
            **{name: getattr(self, name) * factor for name in SCALED_BY_TIMES},
        )


# What ScaleSize.times() multiplies.
SCALED_BY_TIMES = ("positions", "activities", "votes", "provisions", "demands")


def remove_scale_data() -> None:
    # Without a history record per deleted position, provision and demand: the records would
    # take most of the time (one INSERT each) and pile up in the history the pages read.
    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        Negotiation.objects.filter(slug=SCALE_SLUG).delete()
        Vote.objects.filter(congress=SCALE_CONGRESS).delete()
        Bill.objects.filter(congress=SCALE_CONGRESS).delete()
        Stakeholder.objects.filter(slug__startswith="scale-").delete()


@transaction.atomic
def seed_scale(
    size: ScaleSize = ScaleSize(),
    *,
    seed: int = 2024,
    progress: Callable[[str], None] = lambda step: None,
) -> Negotiation:
    """Replace any earlier scale data with a fresh negotiation of `size`; `progress` hears
    each step as it starts."""
    rng = random.Random(seed)
    progress("removing earlier scale data")
    remove_scale_data()
    progress("stakeholders, provisions and demands")
    start = date(2023, 10, 1)
    negotiation = Negotiation.objects.create(
        slug=SCALE_SLUG,
        name="Scale test negotiation",
        congress=SCALE_CONGRESS,
        summary="Synthetic data for benchmarks.",
    )
    versions = PackageVersion.objects.bulk_create(
        PackageVersion(
            negotiation=negotiation,
            slug=stage.value,
            name=stage.label,
            stage=stage,
            dated=start + timedelta(days=30 * index),
        )
        for index, stage in enumerate(VersionStage)
    )
    stakeholders = _stakeholders(size, rng)
    senators = [s for s in stakeholders if s.kind == StakeholderKind.SENATOR]
    representatives = [s for s in stakeholders if s.kind == StakeholderKind.REPRESENTATIVE]

    categories = [c for c in Category.values if c != Category.PACKAGE]
    provisions = Provision.objects.bulk_create(
        Provision(
            negotiation=negotiation,
            slug=f"provision-{n}",
            title=f"Provision {n}",
            kind=rng.choice([ProvisionKind.FUNDING, ProvisionKind.POLICY]),
            category=rng.choice(categories),
            status=rng.choice(ProvisionStatus.values),
        )
        for n in range(1, size.provisions + 1)
    )
    VersionLine.objects.bulk_create(
        (
            VersionLine(
                provision=provision, version=version, amount=rng.randrange(0, 60_000) * 1_000_000
            )
            for provision in provisions
            if provision.kind == ProvisionKind.FUNDING
            for version in versions
        ),
        batch_size=BATCH,
    )
    demands = Demand.objects.bulk_create(
        Demand(
            negotiation=negotiation,
            slug=f"demand-{n}",
            title=f"Demand {n}",
            asks="Synthetic ask",
            demanded_by=rng.choice(stakeholders),
            status=rng.choice(DemandStatus.values),
        )
        for n in range(1, size.demands + 1)
    )
    for demand in demands:
        demand.provisions.set(rng.sample(provisions, k=min(3, len(provisions))))

    progress(f"{size.positions:,} positions")
    _positions(size, rng, stakeholders, provisions, demands, start)
    progress(f"{size.votes:,} votes and their casts")
    votes = _votes(size, rng, negotiation, senators, representatives, start)
    progress(f"{size.activities:,} activities")
    _activities(size, rng, negotiation, stakeholders, provisions, demands, votes, start)
    if connection.vendor == "postgresql":
        progress("ANALYZE")
        # Fresh planner statistics, as autovacuum would gather after a bulk load; without
        # them PostgreSQL plans for empty tables and benchmarks measure the wrong plans.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return negotiation


def _stakeholders(size: ScaleSize, rng: random.Random) -> list[Stakeholder]:
    people = []
    for kind, count in (
        (StakeholderKind.SENATOR, size.senators),
        (StakeholderKind.REPRESENTATIVE, size.representatives),
    ):
        for n in range(1, count + 1):
            people.append(
                Stakeholder(
                    slug=f"scale-{kind}-{n}",
                    name=f"{kind.label} {n}",
                    kind=kind,
                    party=rng.choice("DDRRI"),
                    state=STATES[n % len(STATES)],
                    bioguide_id=f"X{len(people) + 1:06d}",
                    lis_id=f"X{n:04d}" if kind == StakeholderKind.SENATOR else "",
                )
            )
    other_kinds = [
        k
        for k in StakeholderKind.values
        if k not in {StakeholderKind.SENATOR, StakeholderKind.REPRESENTATIVE}
    ]
    for n in range(1, size.others + 1):
        people.append(
            Stakeholder(
                slug=f"scale-other-{n}", name=f"Stakeholder {n}", kind=rng.choice(other_kinds)
            )
        )
    return Stakeholder.objects.bulk_create(people, batch_size=BATCH)


def _positions(
    size: ScaleSize,
    rng: random.Random,
    stakeholders: list[Stakeholder],
    provisions: list[Provision],
    demands: list[Demand],
    start: date,
) -> None:
    # About three rows per (stakeholder, target): a current position and its history.
    rows = []
    while len(rows) < size.positions:
        stakeholder = rng.choice(stakeholders)
        target = (
            {"provision": rng.choice(provisions)}
            if rng.random() < 0.85
            else {"demand": rng.choice(demands)}
        )
        day = start
        for _ in range(min(3, size.positions - len(rows))):
            day += timedelta(days=rng.randrange(1, 60))
            rows.append(
                Position(
                    stakeholder=stakeholder,
                    stance=rng.choice(Stance.values),
                    as_of=day,
                    source_url=f"https://example.org/source/{len(rows)}"
                    if rng.random() < 0.8
                    else "",
                    statement="Synthetic statement.",
                    **target,
                )
            )
    Position.objects.bulk_create(rows, batch_size=BATCH)


def _votes(
    size: ScaleSize,
    rng: random.Random,
    negotiation: Negotiation,
    senators: list[Stakeholder],
    representatives: list[Stakeholder],
    start: date,
) -> list[Vote]:
    bill = Bill.objects.create(
        negotiation=negotiation,
        congress=SCALE_CONGRESS,
        bill_type="hr",
        number=1,
        title="Scale test bill",
    )
    votes = []
    for n in range(1, size.votes + 1):
        chamber = "senate" if n % 2 else "house"
        votes.append(
            Vote(
                chamber=chamber,
                congress=SCALE_CONGRESS,
                session=1,
                roll_number=n,
                voted_on=start + timedelta(days=n % 200),
                question=f"On passage, vote {n}",
                result="Passed",
                majority_requirement="1/2",
                bill=bill,
            )
        )
    votes = Vote.objects.bulk_create(votes, batch_size=BATCH)
    casts = []
    for vote in votes:
        members = senators if vote.chamber == "senate" else representatives
        tally = dict.fromkeys(PUBLISHED, 0)
        for member in members:
            cast = rng.choices(list(PUBLISHED), weights=[50, 45, 1, 4])[0]
            tally[cast] += 1
            casts.append(
                VoteCast(
                    vote=vote,
                    member=member,
                    published_as=PUBLISHED[cast],
                    cast=cast,
                    party=member.party,
                    state=member.state,
                )
            )
        vote.yeas, vote.nays = tally[CastChoice.YES], tally[CastChoice.NO]
        vote.present, vote.not_voting = tally[CastChoice.PRESENT], tally[CastChoice.ABSENT]
        if len(casts) >= BATCH:
            VoteCast.objects.bulk_create(casts)
            casts = []
    VoteCast.objects.bulk_create(casts)
    Vote.objects.bulk_update(votes, ["yeas", "nays", "present", "not_voting"], batch_size=BATCH)
    return votes


def _activities(
    size: ScaleSize,
    rng: random.Random,
    negotiation: Negotiation,
    stakeholders: list[Stakeholder],
    provisions: list[Provision],
    demands: list[Demand],
    votes: list[Vote],
    start: date,
) -> None:
    first = datetime.combine(start, time(9), tzinfo=EASTERN)
    span = 200 * 24 * 3600
    rows = []
    for n in range(size.activities):
        kind = rng.choice(ActivityKind.values)
        subject = {
            ActivityKind.STATUS_CHANGE: {"provision": rng.choice(provisions)},
            ActivityKind.POSITION_CHANGE: {
                "stakeholder": rng.choice(stakeholders),
                "provision": rng.choice(provisions),
            },
            ActivityKind.DEMAND_CHANGE: {"demand": rng.choice(demands)},
            ActivityKind.AMOUNT_CHANGE: {"provision": rng.choice(provisions)},
            ActivityKind.VOTE: {"vote": rng.choice(votes)},
            ActivityKind.BILL_ACTION: {},
            ActivityKind.BILL_RECORD: {},
            ActivityKind.PROPOSAL: {"provision": rng.choice(provisions)},
            ActivityKind.WHIP_RESULT: {"vote": rng.choice(votes)},
            ActivityKind.NOTE: {"provision": rng.choice(provisions)},
        }[kind]
        occurred_at = first + timedelta(seconds=rng.randrange(span))
        rows.append(
            Activity(
                negotiation=negotiation,
                kind=kind,
                source="scale",
                occurred_at=occurred_at,
                # As if recorded as it happened, so digest windows over this history hold
                # what occurred in them.
                recorded_at=occurred_at,
                summary=f"Synthetic {kind} {n}",
                **subject,
            )
        )
        if len(rows) >= BATCH:
            Activity.objects.bulk_create(rows)
            rows = []
    Activity.objects.bulk_create(rows)

"""The tracker's data model, one module per part of the domain."""

from tracker.models.activity import Activity, ActivityKind

# Each of these modules lists its models in its own __all__.
from tracker.models.bill_records import *  # noqa: E402, F403
from tracker.models.digests import *  # noqa: E402, F403
from tracker.models.feeds import *  # noqa: E402, F403
from tracker.models.negotiations import (
    Bill,
    BillAction,
    BillType,
    Negotiation,
    PackageVersion,
    VersionStage,
)
from tracker.models.provisions import (
    Category,
    Demand,
    DemandStatus,
    Inclusion,
    Provision,
    ProvisionKind,
    ProvisionStatus,
    StaleEditError,
    TransitionNotAllowed,
    Unit,
    VersionLine,
)
from tracker.models.stakeholders import (
    Position,
    Stakeholder,
    StakeholderKind,
    Stance,
    StatementKind,
)
from tracker.models.votes import CastChoice, Chamber, Vote, VoteCast, normalise_cast
from tracker.models.whip import *  # noqa: E402, F403

__all__ = [
    "Activity",
    "ActivityKind",
    "Bill",
    "BillAction",
    "BillType",
    "CastChoice",
    "Category",
    "Chamber",
    "Demand",
    "DemandStatus",
    "Inclusion",
    "Negotiation",
    "PackageVersion",
    "Position",
    "Provision",
    "ProvisionKind",
    "ProvisionStatus",
    "StaleEditError",
    "TransitionNotAllowed",
    "Stakeholder",
    "StakeholderKind",
    "Stance",
    "StatementKind",
    "Unit",
    "VersionLine",
    "VersionStage",
    "Vote",
    "VoteCast",
    "normalise_cast",
]

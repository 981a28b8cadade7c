"""The tracker's data model, one module per part of the domain."""

from tracker.models.activity import Activity, ActivityKind
from tracker.models.bills import (
    Amendment,
    Bill,
    BillAction,
    BillStage,
    BillSummary,
    BillTextVersion,
    BillTitle,
    BillType,
    Cosponsor,
)
from tracker.models.demands import Demand, DemandStatus
from tracker.models.digests import (
    DeliveryStatus,
    DigestDelivery,
    DigestFrequency,
    DigestPreference,
    Watch,
    WatchKind,
)
from tracker.models.estimates import CostEstimate
from tracker.models.feeds import (
    FeedDocument,
    FeedRun,
    FeedRunStatus,
    FeedSource,
    SourceStatus,
    source_statuses,
)
from tracker.models.negotiations import (
    Negotiation,
    PackageVersion,
    VersionStage,
    VersionStanding,
)
from tracker.models.proposals import ProposalState, StatusProposal
from tracker.models.provisions import (
    Category,
    Inclusion,
    Provision,
    ProvisionKind,
    ProvisionStatus,
    Unit,
    VersionLine,
)
from tracker.models.stakeholders import (
    Position,
    SourceType,
    Stakeholder,
    StakeholderKind,
    Stance,
    StatementKind,
    attach_derived_votes,
)
from tracker.models.visits import SeenMarker
from tracker.models.votes import (
    CastChoice,
    Chamber,
    Vote,
    VoteCast,
    normalise_cast,
    required_majority,
)
from tracker.models.whip import (
    LinkMeaning,
    StanceOverride,
    ThresholdRule,
    Vacancy,
    VoteTarget,
    VoteTargetLink,
)
from tracker.models.workflow import StaleEditError, TransitionNotAllowed

__all__ = [
    "Activity",
    "ActivityKind",
    "Amendment",
    "Bill",
    "BillAction",
    "BillStage",
    "BillSummary",
    "BillTextVersion",
    "BillTitle",
    "BillType",
    "CastChoice",
    "Category",
    "Chamber",
    "Cosponsor",
    "CostEstimate",
    "DeliveryStatus",
    "Demand",
    "DemandStatus",
    "DigestDelivery",
    "DigestFrequency",
    "DigestPreference",
    "FeedDocument",
    "FeedRun",
    "FeedRunStatus",
    "FeedSource",
    "Inclusion",
    "LinkMeaning",
    "Negotiation",
    "PackageVersion",
    "Position",
    "ProposalState",
    "Provision",
    "ProvisionKind",
    "ProvisionStatus",
    "SourceStatus",
    "SeenMarker",
    "SourceType",
    "StaleEditError",
    "Stakeholder",
    "StakeholderKind",
    "Stance",
    "StanceOverride",
    "StatementKind",
    "StatusProposal",
    "ThresholdRule",
    "TransitionNotAllowed",
    "Unit",
    "Vacancy",
    "VersionLine",
    "VersionStage",
    "VersionStanding",
    "Vote",
    "VoteCast",
    "VoteTarget",
    "VoteTargetLink",
    "Watch",
    "WatchKind",
    "attach_derived_votes",
    "normalise_cast",
    "required_majority",
    "source_statuses",
]

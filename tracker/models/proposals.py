"""Status changes a feed proposes but does not make: moves that need a person's judgement (a
provision left out of the enacted version, a version failing cloture). An Editor accepts one
(the normal status change, with its revision check) or dismisses it; a dismissed proposal is
never made again."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from tracker.models.activity import Activity, ActivityKind
from tracker.models.provisions import Provision, ProvisionStatus


class ProposalState(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"
    # The provision got there, or past it, another way (a later feed move, a staff change).
    SUPERSEDED = "superseded", "Superseded"


class StatusProposalQuerySet(models.QuerySet["StatusProposal"]):
    def open(self) -> "StatusProposalQuerySet":
        return self.filter(state=ProposalState.OPEN)


class StatusProposal(models.Model):
    provision = models.ForeignKey(Provision, on_delete=models.CASCADE, related_name="proposals")
    proposed_status = models.CharField(max_length=24, choices=ProvisionStatus.choices)
    reason = models.TextField()
    # The event that prompted it: its day, what reported it, a link to it, and a key naming it
    # ("118-hr-815:became_law"), so that a re-run never proposes the same thing twice.
    event_on = models.DateField()
    source = models.CharField(max_length=40)
    source_url = models.URLField(max_length=500, blank=True)
    event_key = models.CharField(max_length=80)
    state = models.CharField(
        max_length=10, choices=ProposalState.choices, default=ProposalState.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decided_proposals",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = StatusProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-event_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provision", "proposed_status", "event_key"],
                name="status_proposal_once_per_event",
            ),
            models.CheckConstraint(
                condition=Q(state__in=ProposalState.values), name="status_proposal_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["state", "-event_on"], name="status_proposal_open")]

    def __str__(self) -> str:
        return f"{self.provision}: {self.get_proposed_status_display()}?"

    @transaction.atomic
    def accept(self, *, by: AbstractBaseUser, based_on_revision: int) -> Activity:
        """Make the proposed change as `by`, refused like any stale or disallowed edit."""
        change = self.provision.change_status(
            self.proposed_status,
            by=by,
            note=f"Accepted the feed's proposal: {self.reason}"[:2000],
            based_on_revision=based_on_revision,
        )
        self._decide(ProposalState.ACCEPTED, by)
        # Whatever else the feeds proposed for it is moot now that someone decided.
        self.provision.proposals.open().update(state=ProposalState.SUPERSEDED)
        return change

    @transaction.atomic
    def dismiss(self, *, by: AbstractBaseUser) -> Activity:
        self._decide(ProposalState.DISMISSED, by)
        return Activity.objects.create(
            negotiation_id=self.provision.negotiation_id,
            kind=ActivityKind.PROPOSAL,
            actor=by,
            provision=self.provision,
            summary=(
                f"{self.provision.title}: dismissed the proposal to mark it "
                f"{self.get_proposed_status_display()}"
            )[:300],
            detail=self.reason,
        )

    def _decide(self, state: str, by: AbstractBaseUser) -> None:
        self.state, self.decided_by, self.decided_at = state, by, timezone.now()
        self.save(update_fields=["state", "decided_by", "decided_at"])

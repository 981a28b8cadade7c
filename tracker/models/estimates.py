"""CBO cost estimates of the negotiation's bills, as Congress.gov lists them on a bill
(`cboCostEstimates`) or as the public record cites them, each tied where known to the package
version whose text it scores."""

import re
from datetime import date, datetime

from django.db import models
from django.db.models import Q

# CBO describes what it scored in words: "As passed by the Senate on February 13, 2024".
_NAMED_DAY = re.compile(
    r"(January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+(\d{1,2}),\s+(\d{4})"
)


def days_named(description: str) -> list[date]:
    """The dates a CBO description names, in order ("as ordered reported ... on May 13, 2021")."""
    days = []
    for month, day, year in _NAMED_DAY.findall(description):
        try:
            days.append(datetime.strptime(f"{month} {day} {year}", "%B %d %Y").date())
        except ValueError:
            continue
    return days


class CostEstimateQuerySet(models.QuerySet["CostEstimate"]):
    def for_versions(self, versions: "list[models.Model]") -> "CostEstimateQuerySet":
        """Estimates that score one of `versions`, and those of their bills whose scored text
        is not known."""
        bills = {version.bill_id for version in versions if version.bill_id}
        return self.filter(
            Q(version__in=[version.pk for version in versions])
            | Q(bill__in=bills, version__isnull=True)
        ).order_by("published_at", "pk")


class CostEstimate(models.Model):
    """One CBO cost estimate of a bill: its title, when CBO published it, what text it scored
    (CBO's own description) and the link to it."""

    bill = models.ForeignKey(
        "tracker.Bill", on_delete=models.CASCADE, related_name="cost_estimates"
    )
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True, help_text="What CBO scored, in its words.")
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="Blank when the source gives no date."
    )
    url = models.URLField(max_length=500)
    version = models.ForeignKey(
        "tracker.PackageVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cost_estimates",
        help_text="The package version whose text it scores, when known.",
    )
    note = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    objects = CostEstimateQuerySet.as_manager()

    class Meta:
        ordering = ["bill", "published_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "url"], name="cost_estimate_natural_key"),
        ]

    def __str__(self) -> str:
        return f"CBO: {self.title}"

    @property
    def scored_text(self) -> str:
        """What the estimate scores, for a reader: CBO's description, else that it is unknown."""
        return " ".join(self.description.split()) or "which text it scores is not stated"

    def matching_version(self, versions: "list[models.Model]") -> "models.Model | None":
        """The version of the bill dated on a day the description names, if exactly one is."""
        named = set(days_named(self.description))
        matches = [version for version in versions if version.dated in named]
        return matches[0] if len(matches) == 1 else None

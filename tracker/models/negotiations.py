"""The negotiation itself and the versions of the package it compares."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class NegotiationQuerySet(models.QuerySet["Negotiation"]):
    def current(self) -> "Negotiation | None":
        """The negotiation the pages show: settings.CURRENT_NEGOTIATION, else the newest."""
        slug = settings.CURRENT_NEGOTIATION
        chosen = self.filter(slug=slug) if slug else self.order_by("-created_at", "-id")
        return chosen.first()


class Negotiation(models.Model):
    """One legislative negotiation followed by the office, e.g. the 2023-24 supplemental."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    congress = models.PositiveSmallIntegerField(help_text="Congress number, e.g. 118.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NegotiationQuerySet.as_manager()

    class Meta:
        ordering = ["-congress", "name"]

    def __str__(self) -> str:
        return self.name


class VersionStage(models.TextChoices):
    REQUEST = "request", "Request"
    SENATE_TEXT = "senate_text", "Senate text"
    SENATE_PASSED = "senate_passed", "Senate-passed"
    HOUSE_TEXT = "house_text", "House text"
    HOUSE_PASSED = "house_passed", "House-passed"
    ENACTED = "enacted", "Enacted"


class VersionStanding(models.TextChoices):
    """Where a version of the package stands, as its bill's actions settle it."""

    FAILED = "failed", "Failed"
    PASSED_HOUSE = "passed_house", "Passed the House"
    PASSED_SENATE = "passed_senate", "Passed the Senate"
    PASSED_BOTH = "passed_both", "Passed both chambers"
    BECAME_LAW = "became_law", "Became law"
    VETOED = "vetoed", "Vetoed"


class PackageVersion(models.Model):
    """One version of the package to compare side by side: the request, a text, the law."""

    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="versions")
    slug = models.SlugField(max_length=40)
    name = models.CharField(max_length=200)
    stage = models.CharField(max_length=20, choices=VersionStage.choices)
    dated = models.DateField(help_text="When this version was sent, released, passed or signed.")
    stated_total = models.BigIntegerField(
        null=True, blank=True, help_text="The version's own topline in whole dollars, if stated."
    )
    stated_total_confirmed = models.BooleanField(default=True)
    bill = models.ForeignKey(
        "tracker.Bill", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    source_url = models.URLField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    # Where the version stands (blank: still in play), set by the feed from the first decisive
    # action on its bill from its date on, with that action's day and words.
    standing = models.CharField(
        max_length=16, choices=VersionStanding.choices, blank=True, editable=False
    )
    standing_on = models.DateField(null=True, blank=True, editable=False)
    standing_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["negotiation", "dated", "id"]
        constraints = [
            models.UniqueConstraint(fields=["negotiation", "slug"], name="version_natural_key"),
            models.CheckConstraint(
                condition=Q(stated_total__gte=0) | Q(stated_total__isnull=True),
                name="version_total_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(stage__in=VersionStage.values), name="version_stage_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.dated:%b %-d, %Y})"

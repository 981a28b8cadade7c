"""The negotiation itself, the versions of the package it compares, and the bills that carry it."""

import hashlib
from datetime import date, time

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


class BillType(models.TextChoices):
    HR = "hr", "H.R."
    S = "s", "S."
    HJRES = "hjres", "H.J.Res."
    SJRES = "sjres", "S.J.Res."
    HCONRES = "hconres", "H.Con.Res."
    SCONRES = "sconres", "S.Con.Res."
    HRES = "hres", "H.Res."
    SRES = "sres", "S.Res."


# congress.gov's URL words for each bill type.
CONGRESS_GOV_BILL_PATH = {
    "hr": "house-bill",
    "s": "senate-bill",
    "hjres": "house-joint-resolution",
    "sjres": "senate-joint-resolution",
    "hconres": "house-concurrent-resolution",
    "sconres": "senate-concurrent-resolution",
    "hres": "house-resolution",
    "sres": "senate-resolution",
}


class BillQuerySet(models.QuerySet["Bill"]):
    def by_key(self, key: str) -> "Bill":
        """Look a bill up by its "{congress}-{type}-{number}" key, e.g. "118-hr-815"."""
        congress, bill_type, number = key.split("-")
        return self.get(congress=int(congress), bill_type=bill_type, number=int(number))


class Bill(models.Model):
    """A bill or resolution, identified as congress.gov does: congress + type + number."""

    negotiation = models.ForeignKey(
        Negotiation, null=True, blank=True, on_delete=models.SET_NULL, related_name="bills"
    )
    congress = models.PositiveSmallIntegerField()
    bill_type = models.CharField(max_length=8, choices=BillType.choices)
    number = models.PositiveIntegerField()
    title = models.TextField(blank=True)
    introduced_on = models.DateField(null=True, blank=True)
    latest_action_on = models.DateField(null=True, blank=True)
    latest_action_text = models.TextField(blank=True)
    public_law = models.CharField(max_length=20, blank=True, help_text='e.g. "118-50"')
    # congress.gov's updateDate, for incremental refreshes.
    source_updated_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # When its amendments, cosponsors, titles, summaries and text versions were first stored:
    # until then a refresh fetches them whatever the update dates say, and stores them quietly
    # (years of history are not news).
    records_synced_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = BillQuerySet.as_manager()

    class Meta:
        ordering = ["congress", "bill_type", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["congress", "bill_type", "number"], name="bill_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(bill_type__in=BillType.values), name="bill_type_valid"
            ),
            models.CheckConstraint(condition=Q(number__gt=0), name="bill_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.congress}th)"

    @property
    def label(self) -> str:
        return f"{BillType(self.bill_type).label} {self.number}"

    @property
    def key(self) -> str:
        return f"{self.congress}-{self.bill_type}-{self.number}"

    @property
    def congress_gov_url(self) -> str:
        if self.bill_type not in CONGRESS_GOV_BILL_PATH or not self.number:
            return ""
        path = CONGRESS_GOV_BILL_PATH[self.bill_type]
        return f"https://www.congress.gov/bill/{self.congress}th-congress/{path}/{self.number}"


class BillAction(models.Model):
    """A step in a bill's life as congress.gov lists it.

    congress.gov gives actions no id, and the same event arrives from several source systems,
    so each action is keyed by a fingerprint of what identifies it (see `fingerprint_for`).
    """

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="actions")
    acted_on = models.DateField()
    acted_at_time = models.TimeField(null=True, blank=True)
    text = models.TextField()
    action_type = models.CharField(max_length=40, blank=True)
    action_code = models.CharField(max_length=20, blank=True)
    source_system_code = models.PositiveSmallIntegerField(null=True, blank=True)
    fingerprint = models.CharField(max_length=40, editable=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-acted_on", "-acted_at_time", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "fingerprint"], name="bill_action_natural_key")
        ]
        indexes = [models.Index(fields=["bill", "-acted_on"], name="bill_action_recent")]

    def __str__(self) -> str:
        return f"{self.acted_on}: {self.text[:80]}"

    @staticmethod
    def fingerprint_for(
        *,
        acted_on: date,
        acted_at_time: time | None,
        source_system_code: int | None,
        action_code: str,
        text: str,
    ) -> str:
        """Stable key: date, time, source system, action code and the whitespace-normalised text.

        The text is part of the key because House floor and Library of Congress copies of one
        event share date and code but differ in wording; a re-worded action is a new action.
        """
        parts = [
            acted_on.isoformat(),
            acted_at_time.isoformat() if acted_at_time else "",
            "" if source_system_code is None else str(source_system_code),
            action_code,
            " ".join(text.split()),
        ]
        return hashlib.sha1("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()


class VersionStage(models.TextChoices):
    REQUEST = "request", "Request"
    SENATE_TEXT = "senate_text", "Senate text"
    SENATE_PASSED = "senate_passed", "Senate-passed"
    HOUSE_TEXT = "house_text", "House text"
    HOUSE_PASSED = "house_passed", "House-passed"
    ENACTED = "enacted", "Enacted"


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
        Bill, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    source_url = models.URLField(max_length=500, blank=True)
    notes = models.TextField(blank=True)

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

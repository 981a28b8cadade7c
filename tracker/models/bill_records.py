"""What Congress.gov publishes about a bill beyond its actions: amendments, cosponsors, titles,
summaries and text versions, each upserted by its own natural key from the bill refresh."""

from django.db import models
from django.db.models import Q


class Amendment(models.Model):
    """An amendment to a tracked bill, e.g. S.Amdt. 1388 (the border-deal substitute)."""

    bill = models.ForeignKey("tracker.Bill", on_delete=models.CASCADE, related_name="amendments")
    congress = models.PositiveSmallIntegerField()
    amendment_type = models.CharField(max_length=8, help_text="samdt, hamdt or suamdt")
    number = models.PositiveIntegerField()
    purpose = models.TextField(blank=True)
    description = models.TextField(blank=True)
    latest_action_on = models.DateField(null=True, blank=True)
    latest_action_text = models.TextField(blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-latest_action_on", "-number"]
        constraints = [
            # Per bill, as the API lists them: an amendment listed under a second bill after an
            # upstream correction must not make that bill's whole refresh fail.
            models.UniqueConstraint(
                fields=["bill", "congress", "amendment_type", "number"],
                name="amendment_natural_key",
            ),
            models.CheckConstraint(condition=Q(number__gt=0), name="amendment_number_positive"),
        ]
        indexes = [models.Index(fields=["bill", "-latest_action_on"], name="amendment_by_bill")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        prefix = {"samdt": "S.Amdt.", "hamdt": "H.Amdt.", "suamdt": "S.Up.Amdt."}
        return f"{prefix.get(self.amendment_type, self.amendment_type.upper())} {self.number}"

    @property
    def congress_gov_url(self) -> str:
        path = {"samdt": "senate-amendment", "hamdt": "house-amendment"}.get(self.amendment_type)
        if not path:
            return ""
        return f"https://www.congress.gov/amendment/{self.congress}th-congress/{path}/{self.number}"


class Cosponsor(models.Model):
    """A member's cosponsorship of a bill; a withdrawn one stays listed with its date."""

    bill = models.ForeignKey("tracker.Bill", on_delete=models.CASCADE, related_name="cosponsors")
    bioguide_id = models.CharField(max_length=10)
    # Linked when the member is known; the published name is kept either way.
    member = models.ForeignKey(
        "tracker.Stakeholder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cosponsorships",
    )
    full_name = models.CharField(max_length=200)
    party = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=2, blank=True)
    sponsored_on = models.DateField(null=True, blank=True)
    is_original = models.BooleanField(default=False)
    withdrawn_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["sponsored_on", "full_name"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "bioguide_id"], name="cosponsor_natural_key")
        ]

    def __str__(self) -> str:
        return self.full_name


class BillTitle(models.Model):
    bill = models.ForeignKey("tracker.Bill", on_delete=models.CASCADE, related_name="titles")
    title_type = models.CharField(max_length=200)
    title = models.TextField()

    class Meta:
        # No unique constraint: a btree entry cannot hold an arbitrarily long title. The refresh
        # merges titles by (type, text) under the source's one-run lock.
        ordering = ["title_type", "id"]

    def __str__(self) -> str:
        return f"{self.title_type}: {self.title[:80]}"


class BillSummary(models.Model):
    """A CRS summary of one version of the bill; `text` is HTML as published, shown as text."""

    bill = models.ForeignKey("tracker.Bill", on_delete=models.CASCADE, related_name="summaries")
    version_code = models.CharField(max_length=10)
    acted_on = models.DateField(null=True, blank=True)
    action_desc = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "bill summaries"
        ordering = ["-acted_on", "-version_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["bill", "version_code", "acted_on"],
                name="bill_summary_natural_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action_desc or self.version_code} ({self.acted_on})"


class BillTextVersion(models.Model):
    """A published text of the bill ("Engrossed Amendment Senate", "Enrolled Bill") and where
    to read it; `formats` is a list of [format name, url] pairs."""

    bill = models.ForeignKey("tracker.Bill", on_delete=models.CASCADE, related_name="texts")
    version_type = models.CharField(max_length=200)
    dated = models.DateTimeField(null=True, blank=True)
    formats = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-dated", "version_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["bill", "version_type", "dated"],
                name="bill_text_natural_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version_type} ({self.dated:%Y-%m-%d})" if self.dated else self.version_type


__all__ = ["Amendment", "BillSummary", "BillTextVersion", "BillTitle", "Cosponsor"]

"""The bills that carry a negotiation, as Congress.gov publishes them: each bill, its actions,
and what else it publishes about a bill (amendments, cosponsors, titles, summaries and text
versions), each upserted by its own natural key from the bill refresh."""

import hashlib
import html
import re
from datetime import date, time

from django.db import models
from django.db.models import Q
from django.utils.html import strip_tags

from tracker.bill_progress import STAGES

# Block-level tags end a line, so a CRS summary's paragraphs and list items stay apart once
# its tags are stripped.
_BLOCK_END = re.compile(r"</(p|li|h\d|div|ul|ol|tr)\s*>|<br\s*/?>", re.IGNORECASE)


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


# The stages a bill reaches, in order (derived from its actions by tracker/bill_progress.py).
BillStage = models.TextChoices("BillStage", [(key.upper(), (key, label)) for key, label in STAGES])


class BillQuerySet(models.QuerySet["Bill"]):
    def by_key(self, key: str) -> "Bill":
        """Look a bill up by its "{congress}-{type}-{number}" key, e.g. "118-hr-815"."""
        congress, bill_type, number = key.split("-")
        return self.get(congress=int(congress), bill_type=bill_type, number=int(number))


class Bill(models.Model):
    """A bill or resolution, identified as congress.gov does: congress + type + number."""

    negotiation = models.ForeignKey(
        "tracker.Negotiation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bills",
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
    # The furthest stage its actions reach, with the action that set it (its day and words);
    # kept by the feed, never typed.
    stage = models.CharField(max_length=24, choices=BillStage.choices, blank=True, editable=False)
    stage_on = models.DateField(null=True, blank=True, editable=False)
    stage_text = models.TextField(blank=True, editable=False)

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
    def stage_label(self) -> str:
        if self.stage == BillStage.BECAME_LAW and self.public_law:
            return f"became Public Law {self.public_law}"
        return self.get_stage_display() if self.stage else "no action yet"

    @property
    def actions_url(self) -> str:
        """Where staff read the actions the stage comes from."""
        return f"{self.congress_gov_url}/all-actions" if self.congress_gov_url else ""

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
    # Its place in Congress.gov's list, oldest first: Senate actions carry no time, and several
    # on one day (a cloture vote, then the motion to reconsider it) are told apart only by it.
    position = models.PositiveIntegerField(default=0, editable=False)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-acted_on", "-acted_at_time", "-position", "-id"]
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

    @property
    def plain_text(self) -> str:
        """The published HTML as plain text: tags dropped, entities read, paragraphs kept
        apart. Templates escape it, so nothing in a summary is ever run as markup."""
        text = html.unescape(strip_tags(_BLOCK_END.sub("\n", self.text)))
        return "\n".join(line.strip() for line in text.splitlines() if line.strip())


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

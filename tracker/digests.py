"""Email digests: who watches what, who is due, what goes in each digest, and sending it once.

A digest covers the Activity on a user's watched items from the end of their last *sent*
digest up to the scheduled moment of the current period (not "now"), so a retry builds the same
digest and a skipped or failed one leaves its changes for the next.
"""

import contextlib
import gc
import itertools
import logging
import multiprocessing
import smtplib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.db import connection, connections, models, transaction
from django.db.models import Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from tracker import emails
from tracker.models import (
    Activity,
    ActivityKind,
    DeliveryStatus,
    DemandStatus,
    DigestDelivery,
    DigestFrequency,
    DigestPreference,
    Negotiation,
    ProvisionStatus,
    Stance,
    Watch,
    WatchKind,
)

logger = logging.getLogger(__name__)

# Entries shown per item before "and N more" links to the timeline.
SECTION_CAP = 10
MAX_ATTEMPTS = 5
RETRY_BASE_DELAY = timedelta(minutes=1)
# Longer than CELERY_TASK_TIME_LIMIT: a claim this old belongs to a worker that died mid-send.
STALE_CLAIM_AFTER = timedelta(minutes=15)
UNSUBSCRIBE_SALT = "tracker.digests.unsubscribe"
UNSUBSCRIBE_MAX_AGE = timedelta(days=90)

# The staff pages' URL names (pk argument). A page not built yet falls back to the home page.
ITEM_URL_NAMES = {
    "provision": "tracker-provision-detail",
    "demand": "tracker-demand-detail",
    "stakeholder": "tracker-stakeholder-detail",
    "vote": "tracker-vote-detail",
    "bill": "tracker-bill-detail",
}
TIMELINE_URL_NAME = "tracker-timeline"
SECTION_KIND_LABELS = {
    "provision": "Provision",
    "demand": "Demand",
    "stakeholder": "Stakeholder",
    "vote": "Vote",
    "bill": "Bill",
    "negotiation": "Across the negotiation",
}
KIND_LABELS = dict(ActivityKind.choices)
# What an entry shows of an activity (_SharedParts.fetch), and Activity.reported_by reads.
ENTRY_FIELDS = [
    "occurred_at",
    "kind",
    "actor",
    "source",
    "summary",
    "detail",
    "from_value",
    "to_value",
    "is_confirmed",
]
VALUE_LABELS = {
    ActivityKind.STATUS_CHANGE: dict(ProvisionStatus.choices),
    ActivityKind.DEMAND_CHANGE: dict(DemandStatus.choices),
    ActivityKind.POSITION_CHANGE: dict(Stance.choices),
}


# --- Periods -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One digest period of a user: its key for the unique delivery and when it ends."""

    key: str
    ends_at: datetime


def _at_local_hour(day: object, hour: int, zone: ZoneInfo) -> datetime:
    # fold=0 picks the first of an hour that happens twice (November) and, for an hour that
    # does not exist (March), the offset before the jump: 2:00 becomes 3:00 EDT.
    local = datetime.combine(day, time(hour), tzinfo=zone)  # type: ignore[arg-type]
    return local.astimezone(ZoneInfo("UTC"))


def current_period(preference: DigestPreference, now: datetime) -> Period | None:
    """The latest period whose send time (local hour, and weekday if weekly) is at or before now."""
    if preference.frequency == DigestFrequency.OFF:
        return None
    zone = ZoneInfo(preference.time_zone)
    day = now.astimezone(zone).date()
    step = timedelta(days=7 if preference.frequency == DigestFrequency.WEEKLY else 1)
    if preference.frequency == DigestFrequency.WEEKLY:
        day -= timedelta(days=(day.weekday() - preference.weekday) % 7)
    ends_at = _at_local_hour(day, preference.hour, zone)
    if ends_at > now:
        day -= step
        ends_at = _at_local_hour(day, preference.hour, zone)
    if preference.frequency == DigestFrequency.WEEKLY:
        year, week, _ = day.isocalendar()
        return Period(f"weekly:{year}-W{week:02d}", ends_at)
    return Period(f"daily:{day.isoformat()}", ends_at)


def _one_period_before(preference: DigestPreference, until: datetime) -> datetime:
    # Wall-clock arithmetic, so a daily period across a DST change is 23 or 25 hours long.
    zone = ZoneInfo(preference.time_zone)
    days = 7 if preference.frequency == DigestFrequency.WEEKLY else 1
    local = until.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def digest_start(user: AbstractBaseUser, preference: DigestPreference, until: datetime) -> datetime:
    """Where the next digest starts: the end of the last sent one; before any was sent, the
    start of the first one tried (so a failed first digest loses nothing); else a period back."""
    return digest_starts({user.pk: (preference, until)})[user.pk]


def digest_starts(
    wanted: Mapping[int, tuple[DigestPreference, datetime]],
) -> dict[int, datetime]:
    """`digest_start` for many users at once, by user id: one query per distinct `until`."""
    starts: dict[int, datetime] = {}
    by_until: dict[datetime, list[int]] = defaultdict(list)
    for user_id, (_, until) in wanted.items():
        by_until[until].append(user_id)
    for until, user_ids in by_until.items():
        history = (
            DigestDelivery.objects.filter(user_id__in=user_ids, covers_until__lte=until)
            .order_by()
            .values_list("user_id")
            .annotate(
                last_sent=Max("covers_until", filter=Q(status=DeliveryStatus.SENT)),
                first_tried=Min("covers_from"),
            )
        )
        starts.update(
            (user_id, last_sent or first_tried) for user_id, last_sent, first_tried in history
        )
    for user_id, (preference, until) in wanted.items():
        if starts.get(user_id) is None:
            starts[user_id] = _one_period_before(preference, until)
    return starts


# --- Watching and preferences --------------------------------------------------------------


def current_negotiation() -> Negotiation | None:
    return Negotiation.objects.current()


def _default_watch(user_id: int, negotiation: Negotiation | None) -> list[Watch]:
    return [Watch(user_id=user_id, negotiation=negotiation)] if negotiation else []


def preference_for(user: AbstractBaseUser) -> DigestPreference:
    """The user's digest preference; for a user who never saved one, the defaults, unsaved (a
    page that only shows them must not write: a GET never writes)."""
    preference = DigestPreference.objects.filter(user=user).first()
    return preference or DigestPreference(user=user)


def ensure_preference(user: AbstractBaseUser) -> DigestPreference:
    """The user's stored digest preference, storing the defaults (daily, and a watch on the
    current negotiation) the first time the user changes something or a digest is sent."""
    with transaction.atomic():
        preference, created = DigestPreference.objects.get_or_create(user=user)
        if created:
            Watch.objects.bulk_create(
                _default_watch(user.pk, current_negotiation()), ignore_conflicts=True
            )
    return preference


def save_preference(preference: DigestPreference) -> DigestPreference:
    """Save a preference the user chose; the first time, the default watch comes with it."""
    with transaction.atomic():
        is_new = preference._state.adding
        preference.save()
        if is_new:
            Watch.objects.bulk_create(
                _default_watch(preference.user_id, current_negotiation()), ignore_conflicts=True
            )
    return preference


def watched_items(user: AbstractBaseUser) -> dict[WatchKind, list[models.Model]]:
    """Everything the user watches, by kind, with the default negotiation watch of a user whose
    defaults were not stored yet (as `watched_keys` counts it)."""
    by_kind: dict[WatchKind, list[models.Model]] = {kind: [] for kind in WatchKind}
    for watch in Watch.objects.for_user(user):
        by_kind[WatchKind(watch.kind)].append(watch.target)
    if not DigestPreference.objects.filter(user=user).exists():
        negotiation = current_negotiation()
        if negotiation is not None and negotiation not in by_kind[WatchKind.NEGOTIATION]:
            by_kind[WatchKind.NEGOTIATION].append(negotiation)
    return by_kind


def apply_defaults_to_new_users() -> int:
    """Give every active user without a preference the defaults; returns how many."""
    newcomers = list(
        get_user_model()
        .objects.filter(is_active=True, digest_preference__isnull=True)
        .values_list("pk", flat=True)
    )
    if not newcomers:
        return 0
    negotiation = current_negotiation()
    with transaction.atomic():
        DigestPreference.objects.bulk_create(
            [DigestPreference(user_id=pk) for pk in newcomers], ignore_conflicts=True
        )
        Watch.objects.bulk_create(
            [watch for pk in newcomers for watch in _default_watch(pk, negotiation)],
            ignore_conflicts=True,
        )
    return len(newcomers)


def watched_keys(user: AbstractBaseUser) -> set[tuple[str, int]]:
    """What the user watches as (kind, pk), counting the default negotiation watch of a user
    whose defaults were not applied yet, so pages show what their first digest will hold."""
    if not user.is_authenticated:
        return set()
    keys = Watch.objects.target_keys(user)
    if not DigestPreference.objects.filter(user=user).exists():
        negotiation = current_negotiation()
        if negotiation is not None:
            keys.add((WatchKind.NEGOTIATION.value, negotiation.pk))
    return keys


def set_watch(user: AbstractBaseUser, item: models.Model, *, watching: bool) -> bool:
    """Watch or stop watching one provision, demand, stakeholder or negotiation; idempotent."""
    kind = WatchKind(item._meta.model_name)
    ensure_preference(user)
    if watching:
        Watch.objects.get_or_create(user=user, **{kind.value: item})
    else:
        Watch.objects.filter(user=user, **{kind.value: item}).delete()
    return watching


# --- Building ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestEntry:
    occurred_at: datetime
    kind: str
    kind_label: str
    summary: str
    reported_by: str
    change: str
    detail: str
    url: str
    is_confirmed: bool


@dataclass(eq=False)
class DigestSection:
    """The changes on one item (or the negotiation as a whole), newest first, capped.

    Digests built together share one object for the same section (same item, count and
    entries shown), so compared and rendered by identity.
    """

    kind: str
    title: str
    url: str
    more_url: str
    total: int
    entries: list[DigestEntry] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return SECTION_KIND_LABELS[self.kind]

    @property
    def hidden_count(self) -> int:
        return self.total - len(self.entries)


@dataclass
class NegotiationGroup:
    name: str
    url: str
    sections: list[DigestSection] = field(default_factory=list)

    @property
    def change_count(self) -> int:
        return sum(section.total for section in self.sections)


@dataclass
class Digest:
    user: AbstractBaseUser
    since: datetime
    until: datetime
    time_zone: str
    frequency: str
    groups: list[NegotiationGroup]
    watch_count: int

    @cached_property
    def change_count(self) -> int:
        # Cached: the templates ask for it several times, and a built digest never changes.
        return sum(group.change_count for group in self.groups)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def negotiation_names(self) -> str:
        names = [group.name for group in self.groups]
        if len(names) <= 1:
            return "".join(names)
        return f"{names[0]} and {len(names) - 1} more"

    @property
    def title(self) -> str:
        return "Weekly digest" if self.frequency == DigestFrequency.WEEKLY else "Daily digest"

    @property
    def local_since(self) -> datetime:
        return self.since.astimezone(ZoneInfo(self.time_zone))

    @property
    def local_until(self) -> datetime:
        return self.until.astimezone(ZoneInfo(self.time_zone))


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _item_path(kind: str, item: models.Model | None) -> str:
    # A negotiation's page is the dashboard.
    if item is None or kind == "negotiation":
        return reverse("tracker-home")
    if hasattr(item, "get_absolute_url"):
        return item.get_absolute_url()
    return reverse(ITEM_URL_NAMES[kind], args=[item.pk])


def _timeline_url(kind: str, item: models.Model | None, item_path: str) -> str:
    if item is None:
        return absolute_url(item_path)
    return absolute_url(f"{reverse(TIMELINE_URL_NAME)}?{kind}={item.pk}")


def _section_title(kind: str, subject: models.Model | None) -> str:
    if kind == "negotiation":
        return "Across the negotiation"
    return subject.label if kind == "bill" else str(subject)


def _change(activity: Activity) -> str:
    if not (activity.from_value or activity.to_value):
        return ""
    labels = VALUE_LABELS.get(activity.kind, {})
    before = labels.get(activity.from_value, activity.from_value) or "no position"
    after = labels.get(activity.to_value, activity.to_value)
    return f"{before} → {after}"


SUBJECT_FIELDS = ["provision", "demand", "stakeholder", "vote", "bill"]
# A change is listed under the most specific item the user watches; one found through a
# negotiation watch goes under its own subject, or the negotiation as a whole.
WATCHABLE_SUBJECTS = ["provision", "demand", "stakeholder"]
# Users whose digests are built together: they share one query placing the changes and one
# fetch of the rows shown, which is where the time went when each user fetched their own.
BATCH_SIZE = 100
# Digests claimed in one statement and one commit, just before they are sent. A worker that
# dies mid-send leaves at most this many claimed and unsent: given up, their changes wait for
# the next digest (never sent twice).
CLAIMED_TOGETHER = 10
# What sending a claimed digest records on its delivery.
RESULT_FIELDS = [
    "status",
    "error",
    "covers_from",
    "change_count",
    "retry_at",
    "sent_at",
    "message_id",
]
# Ids per `pk IN (...)` query, within every backend's limit on query parameters.
FETCH_CHUNK = 900

# (negotiation id, kind, item pk): one section of a digest.
SectionKey = tuple[int | None, str, int | None]


@dataclass
class _ChangeIndex:
    """The changes recorded in one window on the items a batch of users watches: narrow rows
    in digest order (newest first), and each item's rows as ranks in that order."""

    ids: list[int] = field(default_factory=list)
    # Subject ids in SUBJECT_FIELDS order, to find the most specific watch a row matches.
    subjects: list[list[int | None]] = field(default_factory=list)
    # (kind, pk) -> negotiation id -> ranks, ascending (so newest first).
    ranks: dict[tuple[str, int], dict[int | None, list[int]]] = field(default_factory=dict)
    # (kind, pk) of the items with a change that also names a more specific item, which a
    # user watching that one sees there instead.
    shared_items: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def build(
        cls, user_ids: list[int], kinds: set[str], since: datetime, until: datetime
    ) -> "_ChangeIndex":
        index = cls()
        if not kinds:
            return index
        # Subqueries on the batch's watches keep the parameters few however much is watched.
        watches = Watch.objects.filter(user_id__in=user_ids)
        matches = Q()
        for kind in sorted(kinds):
            matches |= Q(
                **{
                    f"{kind}_id__in": watches.filter(**{f"{kind}__isnull": False}).values(
                        f"{kind}_id"
                    )
                }
            )
        rows = (
            Activity.objects.filter(matches, recorded_at__gte=since, recorded_at__lt=until)
            .order_by("-occurred_at", "-id")
            .values_list("id", "negotiation_id", *(f"{kind}_id" for kind in SUBJECT_FIELDS))
        )
        ranks = index.ranks
        for rank, (pk, negotiation_id, *subject_ids) in enumerate(rows):
            index.ids.append(pk)
            index.subjects.append(subject_ids)
            more_specific = False
            for kind, item_id in (
                *zip(WATCHABLE_SUBJECTS, subject_ids, strict=False),
                ("negotiation", negotiation_id),
            ):
                if item_id is None:
                    continue
                by_negotiation = ranks.get((kind, item_id))
                if by_negotiation is None:
                    by_negotiation = ranks[kind, item_id] = {}
                listed = by_negotiation.get(negotiation_id)
                if listed is None:
                    listed = by_negotiation[negotiation_id] = []
                listed.append(rank)
                if more_specific:
                    index.shared_items.add((kind, item_id))
                more_specific = True
        return index

    def _own_item(self, rank: int, negotiation_id: int | None) -> tuple[str, int | None]:
        """Where a change found through a negotiation watch alone is listed: its subject, or
        the negotiation as a whole."""
        for kind, item_id in zip(SUBJECT_FIELDS, self.subjects[rank], strict=True):
            if item_id is not None:
                return kind, item_id
        return "negotiation", negotiation_id

    def place(
        self, keys: set[tuple[str, int]], cap: int
    ) -> tuple[Counter[SectionKey], list[tuple[int, SectionKey]]]:
        """One user's sections: every change counted under the most specific item they watch,
        and the newest `cap` of each section as (rank, section)."""
        watched: dict[str, set[int]] = defaultdict(set)
        for kind, pk in keys:
            watched[kind].add(pk)
        provisions, demands, stakeholders = (watched[kind] for kind in WATCHABLE_SUBJECTS)
        totals: Counter[SectionKey] = Counter()
        shown: list[tuple[int, SectionKey]] = []
        for level, kind in enumerate([*WATCHABLE_SUBJECTS, "negotiation"]):
            for pk in watched.get(kind, ()):
                for negotiation_id, ranks in self.ranks.get((kind, pk), {}).items():
                    if kind != "negotiation" and (kind, pk) not in self.shared_items:
                        # No change here names a more specific item: all of them are its own.
                        key = (negotiation_id, kind, pk)
                        totals[key] = len(ranks)
                        shown += [(rank, key) for rank in ranks[:cap]]
                        continue
                    for rank in ranks:
                        provision, demand, stakeholder, *_ = self.subjects[rank]
                        if (
                            (level > 0 and provision in provisions)
                            or (level > 1 and demand in demands)
                            or (level > 2 and stakeholder in stakeholders)
                        ):
                            continue
                        if kind == "negotiation":
                            key = (negotiation_id, *self._own_item(rank, negotiation_id))
                        else:
                            key = (negotiation_id, kind, pk)
                        totals[key] += 1
                        if totals[key] <= cap:
                            shown.append((rank, key))
        shown.sort()
        return totals, shown


@dataclass
class _SharedParts:
    """What users' digests have in common, built once per run: each shown activity's entry
    fields, the items and negotiations they are listed under with their titles and links.

    Activities are fetched without their related rows, which are few and looked up once each:
    building a model object per related row of every activity was most of the time taken.
    """

    # activity id -> its entry's fields but the link, which depends on the section
    rows: dict[int, dict[str, object]] = field(default_factory=dict)
    actors: dict[int, AbstractBaseUser] = field(default_factory=dict)
    items: dict[tuple[str, int | None], models.Model | None] = field(default_factory=dict)
    sections: dict[tuple[str, int | None], tuple[str, str, str]] = field(default_factory=dict)
    negotiations: dict[int | None, tuple[str, str]] = field(default_factory=dict)
    entries: dict[tuple[int, str], DigestEntry] = field(default_factory=dict)
    digest_sections: dict[tuple[SectionKey, int, tuple[int, ...]], DigestSection] = field(
        default_factory=dict
    )

    def fetch(self, ids: set[int]) -> None:
        missing = sorted(ids - self.rows.keys())
        activities = []
        for start in range(0, len(missing), FETCH_CHUNK):
            activities += (
                Activity.objects.filter(pk__in=missing[start : start + FETCH_CHUNK])
                .only(*ENTRY_FIELDS)
                .order_by()
            )
        actor_ids = {a.actor_id for a in activities if a.actor_id} - self.actors.keys()
        if actor_ids:
            self.actors.update(get_user_model().objects.in_bulk(actor_ids))
        for activity in activities:
            if activity.actor_id:
                activity.actor = self.actors.get(activity.actor_id)
            self.rows[activity.pk] = {
                "occurred_at": activity.occurred_at,
                "kind": activity.kind,
                # As get_kind_display() says it, without its per-call dict of the choices.
                "kind_label": KIND_LABELS.get(activity.kind, activity.kind),
                "summary": activity.summary,
                "reported_by": activity.reported_by,
                "change": _change(activity),
                "detail": activity.detail,
                "is_confirmed": activity.is_confirmed,
            }

    def fetch_items(self, keys: set[tuple[str, int | None]]) -> None:
        """The provisions, demands, ... and negotiations in `keys` not looked up yet."""
        wanted: dict[str, set[int]] = defaultdict(set)
        for kind, pk in keys - self.items.keys():
            if pk is None:
                self.items[kind, pk] = None
            else:
                wanted[kind].add(pk)
        for kind, pks in wanted.items():
            found = Activity._meta.get_field(kind).related_model.objects.in_bulk(pks)
            self.items.update(((kind, pk), found.get(pk)) for pk in pks)

    def negotiation(self, negotiation_id: int | None) -> tuple[str, str]:
        if negotiation_id not in self.negotiations:
            negotiation = self.items["negotiation", negotiation_id]
            self.negotiations[negotiation_id] = (
                negotiation.name if negotiation else "Other changes",
                absolute_url(_item_path("negotiation", negotiation)),
            )
        return self.negotiations[negotiation_id]

    def section(self, kind: str, pk: int | None) -> tuple[str, str, str]:
        """(title, url, more_url) of an item changes are listed under."""
        if (kind, pk) not in self.sections:
            subject = self.items[kind, pk]
            item_path = _item_path(kind, subject)
            self.sections[kind, pk] = (
                _section_title(kind, subject),
                absolute_url(item_path),
                _timeline_url(kind, subject, item_path),
            )
        return self.sections[kind, pk]

    def digest_section(
        self, key: SectionKey, total: int, activity_ids: tuple[int, ...]
    ) -> DigestSection:
        """The section listing these changes, made once for every digest that shows it."""
        if (key, total, activity_ids) not in self.digest_sections:
            _, kind, pk = key
            title, url, more_url = self.section(kind, pk)
            self.digest_sections[key, total, activity_ids] = DigestSection(
                kind=kind,
                title=title,
                url=url,
                more_url=more_url,
                total=total,
                entries=[self.entry(activity_id, url) for activity_id in activity_ids],
            )
        return self.digest_sections[key, total, activity_ids]

    def entry(self, activity_id: int, url: str) -> DigestEntry:
        if (activity_id, url) not in self.entries:
            self.entries[activity_id, url] = DigestEntry(**self.rows[activity_id], url=url)
        return self.entries[activity_id, url]


def _assemble(
    shared: _SharedParts,
    index: _ChangeIndex,
    totals: Counter[SectionKey],
    shown: list[tuple[int, SectionKey]],
) -> list[NegotiationGroup]:
    listed: dict[SectionKey, list[int]] = {}
    # Ranks are newest first, so groups and sections are ordered by their latest change.
    for rank, key in shown:
        activity_id = index.ids[rank]
        if activity_id in shared.rows:  # else deleted since it was placed
            listed.setdefault(key, []).append(activity_id)
    groups: dict[int | None, NegotiationGroup] = {}
    for key, activity_ids in listed.items():
        negotiation_id = key[0]
        if negotiation_id not in groups:
            name, url = shared.negotiation(negotiation_id)
            groups[negotiation_id] = NegotiationGroup(name=name, url=url)
        groups[negotiation_id].sections.append(
            shared.digest_section(key, totals[key], tuple(activity_ids))
        )
    return list(groups.values())


def build_digests(
    users: Iterable[AbstractBaseUser],
    *,
    until: datetime,
    since: datetime | None = None,
    cap: int = SECTION_CAP,
    batch_size: int = BATCH_SIZE,
    preferences: Mapping[int, DigestPreference] | None = None,
    starts: Mapping[int, datetime] | None = None,
) -> Iterator[Digest]:
    """The digests of many users for the changes recorded up to `until` (exclusive), in the
    users' order; builds, never sends.

    Per batch of users: one query each for their preferences, watches and where each digest
    starts, one query placing and counting the changes per distinct start (one when `since`
    is given), then one fetch of the full rows shown that are not already built; entries are
    shared between digests. `preferences` and `starts` (by user id) are used as given instead
    of read.
    """
    shared = _SharedParts()
    users = iter(users)
    while batch := list(itertools.islice(users, batch_size)):
        yield from _build_batch(
            batch,
            until=until,
            since=since,
            cap=cap,
            shared=shared,
            known=preferences or {},
            known_starts=starts or {},
        )


def _build_batch(
    users: list[AbstractBaseUser],
    *,
    until: datetime,
    since: datetime | None,
    cap: int,
    shared: _SharedParts,
    known: Mapping[int, DigestPreference],
    known_starts: Mapping[int, datetime],
) -> list[Digest]:
    preferences = {user.pk: known[user.pk] for user in users if user.pk in known}
    if len(preferences) < len(users):
        preferences.update(
            (preference.user_id, preference)
            for preference in DigestPreference.objects.filter(user__in=users).exclude(
                user__in=list(preferences)
            )
        )
    keys: dict[int, set[tuple[str, int]]] = {user.pk: set() for user in users}
    for user in users:
        if user.pk not in preferences:  # the defaults, shown as they will be, never stored here
            preferences[user.pk] = DigestPreference(user=user)
            negotiation = current_negotiation()
            if negotiation is not None:
                keys[user.pk].add((WatchKind.NEGOTIATION.value, negotiation.pk))
    watch_kinds = WatchKind.values  # a property that builds its list on every call
    for user_id, *targets in Watch.objects.filter(user__in=users).values_list(
        "user_id", *(f"{kind}_id" for kind in watch_kinds)
    ):
        keys[user_id].update(
            (kind, pk) for kind, pk in zip(watch_kinds, targets, strict=True) if pk is not None
        )
    if since is not None:
        starts = {user.pk: since for user in users}
    else:
        starts = {user.pk: known_starts[user.pk] for user in users if user.pk in known_starts}
        starts.update(
            digest_starts(
                {user.pk: (preferences[user.pk], until) for user in users if user.pk not in starts}
            )
        )
    placed: dict[int, tuple[_ChangeIndex, Counter[SectionKey], list[tuple[int, SectionKey]]]] = {}
    for start in set(starts.values()):
        sharing = [user.pk for user in users if starts[user.pk] == start]
        kinds = {kind for pk in sharing for kind, _ in keys[pk]}
        index = _ChangeIndex.build(sharing, kinds, start, until)
        for pk in sharing:
            placed[pk] = (index, *index.place(keys[pk], cap))
    shared.fetch({index.ids[rank] for index, _, shown in placed.values() for rank, _ in shown})
    shared.fetch_items(
        {
            item
            for _, _, shown in placed.values()
            for _, (negotiation_id, kind, pk) in shown
            for item in (("negotiation", negotiation_id), (kind, pk))
        }
    )
    return [
        Digest(
            user=user,
            since=starts[user.pk],
            until=until,
            time_zone=preferences[user.pk].time_zone,
            frequency=preferences[user.pk].frequency,
            groups=_assemble(shared, *placed[user.pk]),
            watch_count=len(keys[user.pk]),
        )
        for user in users
    ]


def build_digest(
    user: AbstractBaseUser,
    *,
    until: datetime,
    since: datetime | None = None,
    preference: DigestPreference | None = None,
    cap: int = SECTION_CAP,
) -> Digest:
    """The digest `user` gets for the changes recorded up to `until` (exclusive); builds,
    never sends."""
    known = {user.pk: preference} if preference is not None else None
    (digest,) = build_digests([user], until=until, since=since, cap=cap, preferences=known)
    return digest


# --- Unsubscribing -------------------------------------------------------------------------


def unsubscribe_token(user: AbstractBaseUser) -> str:
    """A signed, timestamped token that turns this user's digests off without a login."""
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT)


def user_for_unsubscribe_token(token: str) -> AbstractBaseUser:
    """The user a token was made for; raises signing.BadSignature (or SignatureExpired)."""
    payload = signing.loads(
        token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE.total_seconds()
    )
    try:
        return get_user_model().objects.get(pk=payload["u"])
    except (get_user_model().DoesNotExist, KeyError, TypeError):
        raise signing.BadSignature("No such user.") from None


def unsubscribe(user: AbstractBaseUser) -> DigestPreference:
    preference = ensure_preference(user)
    preference.frequency = DigestFrequency.OFF
    preference.save(update_fields=["frequency", "updated_at"])
    return preference


def digest_message(
    digest: Digest, *, rendered: dict[tuple[object, ...], str] | None = None
) -> "emails.EmailMultiAlternatives":
    """The email for a digest, with its one-click unsubscribe link; the preview shows this too.
    Digests rendered with the same `rendered` share the rendering of the sections they share."""
    return emails.digest(
        digest,
        unsubscribe_url=absolute_url(
            reverse("tracker-digest-unsubscribe", args=[unsubscribe_token(digest.user)])
        ),
        preferences_url=absolute_url(reverse("tracker-digest-preferences")),
        rendered=rendered,
    )


# --- Sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDigest:
    user_id: int
    period: str
    until: datetime
    username: str = ""


@dataclass(frozen=True)
class DeliveryOutcome:
    username: str
    period: str
    status: str
    change_count: int = 0
    error: str = ""

    def __str__(self) -> str:
        text = f"{self.username} {self.period}: {self.status}"
        if self.status == DeliveryStatus.SENT:
            text += f" ({self.change_count} changes)"
        return f"{text} — {self.error}" if self.error else text


def due_digests(
    now: datetime, *, username: str | None = None, dry_run: bool = False
) -> list[DueDigest]:
    """Every user whose digest time has come and whose digest for that period is not done,
    plus failed attempts whose retry time has come. Writes only housekeeping, never in a dry
    run: newcomers' defaults, and giving up dead or superseded attempts."""
    if not dry_run:
        apply_defaults_to_new_users()
        _give_up_stale_claims(now)
    preferences = (
        DigestPreference.objects.filter(user__is_active=True)
        .exclude(frequency=DigestFrequency.OFF)
        .select_related("user")
    )
    if username is not None:
        preferences = preferences.filter(user__username=username)
    candidates: dict[int, tuple[DigestPreference, Period]] = {}
    for preference in preferences:
        period = current_period(preference, now)
        # A newcomer's first digest is the next one, not one for a period already over.
        if period is not None and period.ends_at >= preference.created_at:
            candidates[preference.user_id] = (preference, period)
    existing = {
        (delivery.user_id, delivery.period): delivery
        for delivery in DigestDelivery.objects.filter(
            user_id__in=candidates,
            period__in={period.key for _, period in candidates.values()},
        )
    }
    if not dry_run:
        _supersede_older_retries(candidates)
    due = []
    for user_id, (preference, period) in candidates.items():
        delivery = existing.get((user_id, period.key))
        waiting = delivery is not None and (
            delivery.status == DeliveryStatus.PENDING
            or (delivery.status == DeliveryStatus.RETRY and delivery.retry_at <= now)
        )
        if delivery is None or waiting:
            due.append(
                DueDigest(user_id, period.key, period.ends_at, preference.user.get_username())
            )
    return due


def _give_up_stale_claims(now: datetime) -> None:
    # The worker died between claiming and recording the result; it may have sent the mail,
    # so never resend. The next digest starts at the last *sent* one and covers these changes.
    DigestDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM_AFTER
    ).update(
        status=DeliveryStatus.FAILED,
        error="The worker stopped while sending; the next digest covers these changes.",
    )


def _supersede_older_retries(candidates: dict[int, tuple[DigestPreference, Period]]) -> None:
    # A retry still waiting when the next period starts would repeat changes the new digest
    # already covers, so it is given up in favour of the new one.
    for delivery in DigestDelivery.objects.filter(
        user_id__in=candidates, status__in=[DeliveryStatus.RETRY, DeliveryStatus.PENDING]
    ):
        if delivery.period != candidates[delivery.user_id][1].key:
            DigestDelivery.objects.filter(pk=delivery.pk, status=delivery.status).update(
                status=DeliveryStatus.FAILED,
                error=f"{delivery.error} Superseded by the next digest.".strip(),
            )


def _address_problem(user: AbstractBaseUser) -> str:
    address = getattr(user, "email", "")
    if not address:
        return "No email address."
    try:
        validate_email(address)
    except ValidationError:
        return f"Invalid email address {address!r}."
    return ""


def _record(deliveries: list[DigestDelivery]) -> None:
    """Store the results `_send_claimed` set on the deliveries, in one statement."""
    if not deliveries:
        return
    fields = [DigestDelivery._meta.get_field(name) for name in RESULT_FIELDS]
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    with connection.cursor() as cursor:
        # One statement run for every row: bulk_update()'s CASE per field and row costs more
        # to build than the rows cost to write.
        cursor.executemany(
            f"UPDATE {connection.ops.quote_name(DigestDelivery._meta.db_table)}"  # noqa: S608 - our table and columns
            f" SET {assignments} WHERE id = %s",
            [
                [
                    field.get_db_prep_save(getattr(delivery, field.attname), connection)
                    for field in fields
                ]
                + [delivery.pk]
                for delivery in deliveries
            ],
        )


def send_digest(
    user_id: int, *, period: str, until: datetime, now: datetime | None = None
) -> DeliveryOutcome:
    """Claim, build and send one user's digest for one period, and record the result."""
    (outcome,) = send_digests([DueDigest(user_id, period, until)], now=now)
    return outcome


def send_digests(
    due: Iterable[DueDigest], *, now: datetime | None = None, processes: int = 1
) -> list[DeliveryOutcome]:
    """Claim, build and send each due digest and record each result; outcomes in `due`'s order.

    Each (user, period) delivery is claimed on its own just before its message goes: only the
    caller whose UPDATE moves it from pending (or retry) to sending goes on, so concurrent or
    repeated calls send at most one message each. An SMTP error leaves that digest waiting to
    retry with exponential backoff, then failed after MAX_ATTEMPTS; the others go on.

    Per BATCH_SIZE digests: a few queries read and build them all, and one SMTP connection
    carries them; they are claimed, and their results stored, CLAIMED_TOGETHER at a time. The
    rows shown and each section's rendering are shared by every digest a process sends. With
    `processes` above 1, the batches are shared out between that many processes (see
    `_send_in_processes`).
    """
    now = now or timezone.now()
    batches = list(_batches(due))
    processes = min(processes, len(batches))
    if processes > 1 and _other_processes_can_send():
        per_batch = _send_in_processes(batches, now=now, processes=processes)
    else:
        per_batch = _send_batches(batches, now=now)
    return [outcome for outcomes in per_batch for outcome in outcomes]


def _send_batches(batches: list[list[DueDigest]], *, now: datetime) -> list[list[DeliveryOutcome]]:
    shared = _SharedParts()
    rendered: dict[tuple[object, ...], str] = {}
    return [_send_batch(batch, now=now, shared=shared, rendered=rendered) for batch in batches]


def _other_processes_can_send() -> bool:
    """Whether another process sees what this one would send from: not a transaction still
    open here, an in-memory database or the test outbox."""
    return (
        not connection.in_atomic_block
        and not (connection.vendor == "sqlite" and connection.is_in_memory_db())
        and not settings.EMAIL_BACKEND.endswith(".locmem.EmailBackend")
        and "fork" in multiprocessing.get_all_start_methods()
    )


def _send_in_processes(
    batches: list[list[DueDigest]], *, now: datetime, processes: int
) -> list[list[DeliveryOutcome]]:
    """`_send_batches` in `processes` forked processes, each sending every processes-th batch
    over its own database and SMTP connections: one core builds, renders and turns into MIME
    about 200 digests a second, so an operator's run of thousands uses every core, as the
    Celery worker's processes do. Claims keep each digest to one message, as between workers.
    """
    # A forked process starts with what this one has loaded, so the URL patterns (and every
    # view module they import) and the email templates are loaded here once, not in each;
    # but it must not share this one's database connection.
    reverse(TIMELINE_URL_NAME)
    emails.load_templates()
    connections.close_all()
    shares = [batches[start::processes] for start in range(processes)]
    # Left out of the forked processes' garbage collection, this process's objects are not
    # all touched (so copied) in each of them.
    gc.freeze()
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
            done = list(pool.map(_send_share, shares, itertools.repeat(now)))
    finally:
        gc.unfreeze()
    per_batch: list[list[DeliveryOutcome]] = [[] for _ in batches]
    for start, outcomes in enumerate(done):
        per_batch[start::processes] = outcomes
    return per_batch


def _send_share(batches: list[list[DueDigest]], now: datetime) -> list[list[DeliveryOutcome]]:
    try:
        return _send_batches(batches, now=now)
    finally:
        connections.close_all()


def _batches(due: Iterable[DueDigest]) -> Iterator[list[DueDigest]]:
    # A user's digests for two periods go in different batches: a batch builds one per user.
    batch: list[DueDigest] = []
    readers: set[int] = set()
    for item in due:
        if len(batch) == BATCH_SIZE or item.user_id in readers:
            yield batch
            batch, readers = [], set()
        batch.append(item)
        readers.add(item.user_id)
    if batch:
        yield batch


def _send_batch(
    batch: list[DueDigest],
    *,
    now: datetime,
    shared: "_SharedParts",
    rendered: dict[tuple[object, ...], str],
) -> list[DeliveryOutcome]:
    users = get_user_model().objects.in_bulk([item.user_id for item in batch])
    deliveries = _deliveries([item for item in batch if item.user_id in users])
    outcomes: dict[int, DeliveryOutcome] = {}
    waiting: list[DigestDelivery] = []
    for item in batch:
        if item.user_id not in users:
            outcomes[item.user_id] = DeliveryOutcome(str(item.user_id), item.period, "no such user")
            continue
        delivery = deliveries[item.user_id, item.period]
        if delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.RETRY):
            waiting.append(delivery)
        else:
            outcomes[item.user_id] = DeliveryOutcome(
                users[item.user_id].get_username(), item.period, f"already {delivery.status}"
            )

    preferences = _preferences([users[delivery.user_id] for delivery in waiting])
    starts = digest_starts(
        {
            delivery.user_id: (preferences[delivery.user_id], delivery.covers_until)
            for delivery in waiting
        }
    )
    problems = {delivery.user_id: _address_problem(users[delivery.user_id]) for delivery in waiting}
    built: dict[int, Digest] = {}
    by_until: dict[datetime, list[AbstractBaseUser]] = defaultdict(list)
    for delivery in waiting:
        if not problems[delivery.user_id]:
            by_until[delivery.covers_until].append(users[delivery.user_id])
    for until, readers in by_until.items():
        for digest in _build_batch(
            readers,
            until=until,
            since=None,
            cap=SECTION_CAP,
            shared=shared,
            known=preferences,
            known_starts=starts,
        ):
            built[digest.user.pk] = digest

    relay = _Relay()
    unrecorded: list[DigestDelivery] = []
    try:
        for start in range(0, len(waiting), CLAIMED_TOGETHER):
            chunk = waiting[start : start + CLAIMED_TOGETHER]
            # The last chunk's results are stored in the transaction that claims this one:
            # one commit per chunk, and every result is stored before the next messages go.
            with transaction.atomic():
                _record(unrecorded)
                unrecorded = []
                lost = _claim(chunk, now)
            for delivery in chunk:
                user = users[delivery.user_id]
                if delivery.pk in lost:
                    outcomes[delivery.user_id] = DeliveryOutcome(
                        user.get_username(), delivery.period, f"already {lost[delivery.pk]}"
                    )
                    continue
                outcomes[delivery.user_id] = _send_claimed(
                    delivery,
                    user,
                    now=now,
                    since=starts[delivery.user_id],
                    problem=problems[delivery.user_id],
                    digest=built.get(delivery.user_id),
                    preference=preferences[delivery.user_id],
                    relay=relay,
                    rendered=rendered,
                )
                unrecorded.append(delivery)
    finally:
        relay.close()
        _record(unrecorded)
    return [outcomes[item.user_id] for item in batch]


def _deliveries(due: list[DueDigest]) -> dict[tuple[int, str], DigestDelivery]:
    """Each (user, period)'s delivery, created pending where there is none yet."""
    DigestDelivery.objects.bulk_create(
        [DigestDelivery(user_id=d.user_id, period=d.period, covers_until=d.until) for d in due],
        ignore_conflicts=True,
    )
    wanted = {(item.user_id, item.period) for item in due}
    return {
        (delivery.user_id, delivery.period): delivery
        for delivery in DigestDelivery.objects.filter(
            user_id__in={user_id for user_id, _ in wanted},
            period__in={period for _, period in wanted},
        )
        if (delivery.user_id, delivery.period) in wanted
    }


def _preferences(users: list[AbstractBaseUser]) -> dict[int, DigestPreference]:
    found = {p.user_id: p for p in DigestPreference.objects.filter(user__in=users)}
    for user in users:
        if user.pk not in found:  # due without one only when called by hand
            found[user.pk] = ensure_preference(user)
    return found


def _claim(deliveries: list[DigestDelivery], now: datetime) -> dict[int, str]:
    """Move the deliveries still pending (or waiting to retry) to sending, in one UPDATE that
    returns the rows it moved: a row another caller moved first is not among them, so each
    digest is claimed once. Returns the status of each delivery this caller did not win."""
    table = connection.ops.quote_name(DigestDelivery._meta.db_table)
    ids = [delivery.pk for delivery in deliveries]
    with connection.cursor() as cursor:
        # Raw SQL because the ORM's update() tells how many rows it changed, not which.
        cursor.execute(
            f"UPDATE {table} SET status = %s, attempts = attempts + 1, claimed_at = %s,"  # noqa: S608 - our table
            f" retry_at = NULL WHERE id IN ({', '.join(['%s'] * len(ids))})"
            " AND status IN (%s, %s) RETURNING id, attempts",
            [
                DeliveryStatus.SENDING,
                connection.ops.adapt_datetimefield_value(now),
                *ids,
                DeliveryStatus.PENDING,
                DeliveryStatus.RETRY,
            ],
        )
        won = dict(cursor.fetchall())
    for delivery in deliveries:
        if delivery.pk in won:
            delivery.status, delivery.attempts = DeliveryStatus.SENDING, won[delivery.pk]
            delivery.claimed_at, delivery.retry_at = now, None
    lost = [pk for pk in ids if pk not in won]
    if not lost:
        return {}
    return dict(DigestDelivery.objects.filter(pk__in=lost).values_list("pk", "status"))


def _send_claimed(
    delivery: DigestDelivery,
    user: AbstractBaseUser,
    *,
    now: datetime,
    since: datetime,
    problem: str,
    digest: Digest | None,
    preference: DigestPreference,
    relay: "_Relay",
    rendered: dict[tuple[object, ...], str],
) -> DeliveryOutcome:
    """Send a claimed digest, and set its result on `delivery` for `_record` to store."""
    username, period = user.get_username(), delivery.period
    delivery.covers_from = since
    if problem or digest is None:
        logger.warning("Digest for %s skipped: %s", username, problem)
        delivery.status, delivery.error = DeliveryStatus.SKIPPED, problem
        return DeliveryOutcome(username, period, DeliveryStatus.SKIPPED, error=problem)
    delivery.change_count = digest.change_count
    if digest.is_empty and not preference.send_empty:
        delivery.status, delivery.error = DeliveryStatus.SKIPPED, "No changes."
        return DeliveryOutcome(username, period, DeliveryStatus.SKIPPED, error="No changes.")

    try:
        message = digest_message(digest, rendered=rendered)
        relay.send(message)
    except (smtplib.SMTPException, OSError) as error:
        delivery.error = f"{type(error).__name__}: {error}"
        if delivery.attempts >= MAX_ATTEMPTS:
            logger.error("Digest for %s failed for good: %s", username, delivery.error)
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.status = DeliveryStatus.RETRY
            delivery.retry_at = now + RETRY_BASE_DELAY * 2 ** (delivery.attempts - 1)
            logger.warning(
                "Digest for %s will be retried at %s: %s",
                username,
                delivery.retry_at,
                delivery.error,
            )
        return DeliveryOutcome(username, period, delivery.status, error=delivery.error)
    except Exception as error:
        # A fault in one digest must not stop the others of its batch. It was claimed, so it
        # is given up as a dead worker's would be: the next digest covers its changes.
        delivery.status, delivery.error = DeliveryStatus.FAILED, f"{type(error).__name__}: {error}"
        logger.exception("Digest for %s failed: %s", username, delivery.error)
        return DeliveryOutcome(username, period, DeliveryStatus.FAILED, error=delivery.error)
    delivery.status, delivery.error = DeliveryStatus.SENT, ""
    delivery.sent_at = timezone.now()
    delivery.message_id = message.extra_headers.get("Message-ID", "")
    return DeliveryOutcome(username, period, DeliveryStatus.SENT, digest.change_count)


class _Relay:
    """The SMTP connection a batch of digests shares: opened for the first message, opened
    again after a failure closed it, and not tried again in the batch once it could not be
    opened (each digest left waits for its own retry rather than for a timeout)."""

    def __init__(self) -> None:
        # Django's SMTP backend as configured, with smtplib's DATA made faster for 100 KB.
        django_smtp = settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
        self.backend = get_connection(emails.SMTP_BACKEND if django_smtp else None)
        self.unreachable: str = ""

    def send(self, message: "emails.EmailMultiAlternatives") -> None:
        if self.unreachable:
            raise smtplib.SMTPConnectError(421, self.unreachable)
        try:
            self.backend.open()
        except (smtplib.SMTPException, OSError) as error:
            self.unreachable = f"{type(error).__name__}: {error}"
            raise
        try:
            self.backend.send_messages([message])
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        # QUIT failing tells nothing about the messages already accepted.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.backend.close()


def send_due_digests(
    now: datetime, *, username: str | None = None, dry_run: bool = False, processes: int = 1
) -> list[DeliveryOutcome]:
    """Send every due digest from here (the operator's command), its batches shared out
    between `processes` processes; a dry run only lists."""
    due = due_digests(now, username=username, dry_run=dry_run)
    if dry_run:
        return [DeliveryOutcome(item.username, item.period, "due") for item in due]
    return send_digests(due, now=now, processes=processes)

"""Pages drawn once per change: the data stamp, and the fragments and figures keyed on it.

Staff open the same pages many times between two changes, and most of a heavy page (a whip
board, the funding table, a senator's history) is the same for everyone who may see it. Such a
part is kept, per process, under its name, what it varies on (the object, the filters, the
viewer's role) and the data stamp: the newest Activity, admin log entry and finished feed run.
Every write the app makes moves one of them (staff changes and feed effects write Activity, the
admin writes its log, a feed run ends with a finish time), so a change anywhere draws the page
afresh on every node; the stamp costs one query of three index lookups. Entries also expire
after FRAGMENT_CACHE_SECONDS, which bounds what a write outside the app (a shell, a bulk
script) can leave stale and keeps relative dates ("in 2 days") fresh.

What is kept must be the same for every viewer with the same key: never a form with a CSRF
token (the page's <body> carries it for htmx; forms take it outside the kept part), never a
user's own marks (last visit, watches).
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from tracker.models import Activity, FeedRun

# Django's {% cache %} tag uses this cache when it exists (settings.CACHES): per process.
FRAGMENTS = "template_fragments"

T = TypeVar("T")


@dataclass(frozen=True)
class Stamp:
    """Where the data stood: the newest Activity id (also what "last seen" markers record) and
    a short digest of the other two parts."""

    activity: int
    rest: str

    def __str__(self) -> str:
        return f"{self.activity}-{self.rest}"


def current_stamp() -> Stamp:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {quote(Activity._meta.db_table)}),"  # noqa: S608
            f" (SELECT MAX(id) FROM {quote(LogEntry._meta.db_table)}),"
            f" (SELECT MAX(finished_at) FROM {quote(FeedRun._meta.db_table)})"
        )
        activity, admin, feeds = cursor.fetchone()
    rest = hashlib.blake2b(f"{admin}|{feeds}".encode(), digest_size=6).hexdigest()
    return Stamp(activity=activity or 0, rest=rest)


def kept(name: str, *vary_on: object, stamp: Stamp, build: Callable[[], T]) -> T:
    """build()'s value, computed once per stamp and key in this process. Today's date is part
    of the key, as pages say "today" and count days."""
    varies = hashlib.blake2b(repr(vary_on).encode(), digest_size=12).hexdigest()
    key = f"kept:{name}:{stamp}:{timezone.localdate().isoformat()}:{varies}"
    cache = caches[FRAGMENTS]
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, settings.FRAGMENT_CACHE_SECONDS)
    return value


def stamp_context(request: object) -> dict:
    """A context processor: `data_stamp` for {% cache %} tags, looked up only by a page that
    uses it (and once per request)."""
    return {"data_stamp": SimpleLazyObject(current_stamp)}

"""Live pages: a page polls itself every few seconds with the stamp it was drawn at, and is
answered 304 (one cheap query) until something changed; then it gets the parts that moved.

The stamp is tracker.page_cache.current_stamp(): the newest Activity (every change staff or a
feed's effects make writes one), admin log entry and finished feed run, so any change anywhere
moves it. The same stamp keys the page fragments drawn once per change. A false alarm costs
one re-render of a few parts."""

from django.conf import settings
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control

from tracker.models import Activity
from tracker.page_cache import Stamp, current_stamp  # noqa: F401  (views call live.current_stamp)

# The query parameter that marks a poll (the page's own URL otherwise, filters kept).
POLL = "live"


def latest_activity_id() -> int:
    """The newest Activity id: one index lookup whatever the size of the record."""
    return Activity.objects.aggregate(latest=Max("id"))["latest"] or 0


def etag(stamp: Stamp) -> str:
    return f'"data-{stamp}"'


def is_poll(request: HttpRequest) -> bool:
    return POLL in request.GET and bool(request.htmx)


def unchanged(request: HttpRequest) -> tuple[HttpResponse | None, Stamp]:
    """For a poll: a 304 when nothing changed since the stamp it carries (If-None-Match), and
    the current stamp either way."""
    stamp = current_stamp()
    if request.headers.get("If-None-Match") == etag(stamp):
        response = HttpResponseNotModified()
        response["ETag"] = etag(stamp)
        return response, stamp
    return None, stamp


def stamped(response: HttpResponse, stamp: Stamp) -> HttpResponse:
    response["ETag"] = etag(stamp)
    patch_cache_control(response, private=True, no_cache=True)
    return response


def poll_context(request: HttpRequest, stamp: Stamp) -> dict:
    """What the poller element needs: the URL it polls, its interval and the stamp it sends."""
    query = request.GET.copy()
    query[POLL] = "1"
    return {
        "live_url": f"{request.path}?{query.urlencode()}",
        "live_etag": etag(stamp),
        "live_seconds": settings.LIVE_POLL_SECONDS,
        "live_stamp": stamp.activity,
    }

"""The Feeds page: each source's last success, last change and error streak; runs; Refresh now."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from tracker.feeds.queue import QueueUnavailable, enqueue_refresh
from tracker.models import FeedRun, FeedRunStatus, FeedSource, source_status, source_statuses
from tracker.page_cache import current_stamp, kept
from tracker.views.access import permission_needed

# A refresh writes to the activity record (new votes, new actions), which Editors may add to.
REFRESH_PERMISSION = "tracker.add_activity"
RECENT_RUNS = 25


@login_required
@require_GET
def feed_list(request: HttpRequest) -> HttpResponse:
    # The sources' facts and the recent runs are kept per change and per run in progress; the
    # cards are drawn for each viewer (the Refresh button's form, the stale mark as of now).
    stamp, runs_moved = current_stamp(), _runs_moved()
    context = {
        "statuses": kept("feed-statuses", runs_moved, stamp=stamp, build=source_statuses),
        "recent_runs": kept("feed-runs", runs_moved, stamp=stamp, build=_recent_runs),
        "can_refresh": request.user.has_perm(REFRESH_PERMISSION),
    }
    return render(request, "feeds/list.html", context)


def _runs_moved() -> tuple[list[tuple[int, int, int]], int | None]:
    """What changes on the page before the data stamp moves (it moves when a run ends): each
    running run's progress, and the newest run (one just queued). Two index lookups."""
    running = FeedRun.objects.filter(status=FeedRunStatus.RUNNING).order_by("pk")
    newest = FeedRun.objects.order_by("-pk").values_list("pk", flat=True).first()
    return list(running.values_list("pk", "progress_done", "progress_total")), newest


def _recent_runs() -> str:
    """The recent runs' rows, drawn."""
    runs = FeedRun.objects.recent()[:RECENT_RUNS]
    return render_to_string("feeds/list.html#recent-run-rows", {"runs": runs})


@permission_needed(REFRESH_PERMISSION, "refresh the feeds")
@require_POST
def feed_refresh(request: HttpRequest, source: str) -> HttpResponse:
    if source not in FeedSource.values:
        raise Http404("No such feed.")
    try:
        run = enqueue_refresh(source, user=request.user)
    except QueueUnavailable as error:
        message = f"{error} Try again later; the stored data is unchanged."
        if request.htmx:
            # The card with the message and the failed run, as a 200: htmx swaps no 5xx
            # (base.html), and the user must see why nothing is refreshing.
            return _card(request, source, queue_error=message)
        messages.error(request, message)
        return redirect("tracker-feeds")
    if request.htmx:
        return _card(request, source)
    messages.success(request, f"Refresh of {run.get_source_display()} queued.")
    return redirect("tracker-feeds")


@login_required
@require_GET
def feed_run_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One run's page; with HTMX, its source's card, which polls itself while the run is
    queued or running."""
    run = get_object_or_404(FeedRun.objects.select_related("requested_by"), pk=pk)
    if request.htmx:
        return _card(request, run.source)
    return render(request, "feeds/run.html", {"run": run})


def _card(request: HttpRequest, source: str, *, queue_error: str = "") -> HttpResponse:
    """A source's card as it stands now: its last success, last change and error streak
    with its latest run (a refresh run in-process has already finished: they must agree),
    and the recent runs too once nothing is running."""
    feed = source_status(source)
    context = {
        "status": feed,
        "can_refresh": request.user.has_perm(REFRESH_PERMISSION),
        "queue_error": queue_error,
        "recent_runs": None if feed.active_run else _recent_runs(),
    }
    return render(request, "feeds/list.html#card-refreshed", context)

"""The Feeds page: each source's last success, last change and error streak; runs; Refresh now."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from tracker.feeds.queue import QueueUnavailable, enqueue_refresh
from tracker.models import FeedRun, FeedSource, source_statuses
from tracker.views.access import permission_needed

# A refresh writes to the activity record (new votes, new actions), which Editors may add to.
REFRESH_PERMISSION = "tracker.add_activity"


@login_required
@require_GET
def feed_list(request: HttpRequest) -> HttpResponse:
    context = {
        "statuses": source_statuses(),
        "runs": FeedRun.objects.recent()[:25],
        "can_refresh": request.user.has_perm(REFRESH_PERMISSION),
    }
    return render(request, "feeds/list.html", context)


@permission_needed(REFRESH_PERMISSION, "refresh the feeds")
@require_POST
def feed_refresh(request: HttpRequest, source: str) -> HttpResponse:
    if source not in FeedSource.values:
        raise Http404("No such feed.")
    try:
        run = enqueue_refresh(source, user=request.user)
    except QueueUnavailable as error:
        run = FeedRun.objects.filter(source=source).recent().first()
        message = f"{error} Try again later; the stored data is unchanged."
        if request.htmx:
            context = {"run": run, "source": source, "queue_error": message}
            return render(request, "feeds/list.html#run-status", context, status=503)
        messages.error(request, message)
        return redirect("tracker-feeds")
    if request.htmx:
        return render(request, "feeds/list.html#run-status", {"run": run, "source": source})
    messages.success(request, f"Refresh of {run.get_source_display()} queued.")
    return redirect("tracker-feeds")


@login_required
@require_GET
def feed_run_status(request: HttpRequest, pk: int) -> HttpResponse:
    """One run's progress: the fragment HTMX polls while the run is queued or running."""
    run = get_object_or_404(FeedRun.objects.select_related("requested_by"), pk=pk)
    template = "feeds/list.html#run-status" if request.htmx else "feeds/run.html"
    return render(request, template, {"run": run, "source": run.source})

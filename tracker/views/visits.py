"""The "seen" marker a page moves once it has been shown (a GET never writes)."""

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tracker.forms import MAX_ID
from tracker.models import SeenMarker

# Pages that keep a marker: the dashboard and each whip board.
PAGES = re.compile(r"^(dashboard|whip-\d{1,18})$")


@login_required
@require_POST
def seen_mark(request: HttpRequest, page: str) -> HttpResponse:
    """Mark everything up to the posted activity id as seen on `page`. The page posts this on
    load with HTMX (204); without JavaScript its "Mark as seen" button does (redirect back)."""
    activity = request.POST.get("activity", "")
    if not PAGES.match(page) or not activity.isdigit() or int(activity) > MAX_ID:
        return HttpResponseBadRequest("Say which page and up to which activity.")
    SeenMarker.mark(request.user, page, activity_id=int(activity))
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(
        "tracker-home" if page == "dashboard" else "tracker-whip-board",
        *([] if page == "dashboard" else [int(page.split("-")[1])]),
    )

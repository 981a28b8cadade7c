"""The tracker's URLs, and the page benchmark's trivial page (see tests/bench/settings.py)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from tracker.urls import handler500
from tracker.urls import urlpatterns as tracker_urlpatterns

__all__ = ["handler500", "urlpatterns"]


@login_required
def trivial(request: HttpRequest) -> HttpResponse:
    """The baseline every page is compared with: the same middleware, session and login check,
    and nothing else."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial", trivial, name="bench-trivial"), *tracker_urlpatterns]

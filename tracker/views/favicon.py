"""/favicon.ico, which browsers ask for wherever a page names no icon of its own (the admin, a
CSV opened in a tab, an error page): sent on to the tracker's SVG icon, so no console shows a
404. Pages of the app name the icon themselves (base.html)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Not permanent: the static URL carries the file's hash in production, which changes with it.
    response = redirect(static("tracker/favicon.svg"))
    patch_cache_control(response, public=True, max_age=86400)
    return response

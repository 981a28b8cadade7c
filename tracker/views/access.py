"""Who may do what: every write checks the role's permission on the server."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from tracker.models import Negotiation


def permission_needed(permission: str, action: str) -> Callable:
    """Refuse with 403 and a message naming the action, unless the user's role allows it."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied(
                    f"Your role can read but not {action}. An Admin can give you the Editor role."
                )
            return view(request, *args, **kwargs)

        return checked

    return decorator


def current_negotiation() -> Negotiation:
    negotiation = Negotiation.objects.current()
    if negotiation is None:
        raise Http404("No negotiation is loaded yet: run `python manage.py load_demo`.")
    return negotiation

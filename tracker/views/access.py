"""Who may do what: every write checks the role's permission on the server."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from tracker.models import Negotiation

EDITOR_HINT = "An Admin can give you the Editor role."


def check_permission(
    request: HttpRequest, permission: str, action: str, *, hint: str = EDITOR_HINT
) -> None:
    """Refuse with 403 and a message naming the action, unless the user's role allows it. The
    one way a view refuses: directly where the permission depends on the request, else through
    @permission_needed."""
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"Your role can read but not {action}. {hint}".strip())


def permission_needed(permission: str, action: str, *, hint: str = EDITOR_HINT) -> Callable:
    """A view for logged-in staff whose role has `permission` (see check_permission)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def checked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            check_permission(request, permission, action, hint=hint)
            return view(request, *args, **kwargs)

        return checked

    return decorator


def current_negotiation() -> Negotiation:
    negotiation = Negotiation.objects.current()
    if negotiation is None:
        raise Http404("No negotiation is loaded yet: run `python manage.py load_demo`.")
    return negotiation

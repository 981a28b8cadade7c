"""Request-wide access rules that every page shares."""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from tracker import roles


class HtmxLoginRedirectMiddleware:
    """An HTMX request whose session expired gets a full-page redirect to the login page,
    not a login form swapped into the fragment it asked for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response


class AdminsNeedTwoFactorMiddleware:
    """Admins must use an authenticator app: until they add one, every page sends them to set
    it up. Everyone else may add one too, but need not."""

    SESSION_KEY = "tracker_mfa_checked_for"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and request.session.get(self.SESSION_KEY) != user.pk
            and not request.path.startswith(("/accounts/", settings.STATIC_URL))
        ):
            is_admin = user.is_superuser or user.groups.filter(name=roles.ADMIN).exists()
            has_app = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
            if is_admin and not has_app:
                setup = reverse("mfa_activate_totp")
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(setup)
                messages.warning(
                    request,
                    "Administrators must protect their account with an authenticator app. "
                    "Set one up to continue.",
                )
                return redirect(setup)
            # Checked once per session; a new login checks again.
            request.session[self.SESSION_KEY] = user.pk
        return self.get_response(request)

"""Request-wide access rules that every page shares."""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
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
    it up, and a session that signed in with a password alone must enter a code from it once.
    Everyone else may add one too, but need not.

    Checked on every request (one query, two for Admins), so a promotion to Admin takes effect
    on the user's next request, in every session they have open.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(
            ("/accounts/", settings.STATIC_URL)
        ):
            step = _second_factor_step(request)
            if step is not None:
                return _send_to(request, *step)
        return self.get_response(request)


def _second_factor_step(request: HttpRequest) -> tuple[str, str] | None:
    """Where an Admin must go before anything else, and why; None if nowhere."""
    user = request.user
    if not (user.is_superuser or user.groups.filter(name=roles.ADMIN).exists()):
        return None
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        return (
            reverse("mfa_activate_totp"),
            "Administrators must protect their account with an authenticator app. "
            "Set one up to continue.",
        )
    # allauth logs how this session authenticated. One that shows a password and never the app
    # signed in before the app existed, or before its user became an Admin.
    methods = {record["method"] for record in get_authentication_records(request, user)}
    if methods and "mfa" not in methods:
        query = "" if _is_htmx(request) else "?" + urlencode({"next": request.get_full_path()})
        return (
            reverse("mfa_reauthenticate") + query,
            "Administrators confirm their session with a code from their authenticator app.",
        )
    return None


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _send_to(request: HttpRequest, url: str, reason: str) -> HttpResponse:
    if _is_htmx(request):
        return HttpResponseClientRedirect(url)
    messages.warning(request, reason)
    return redirect(url)


class SessionLifetimeMiddleware:
    """Signs a session out after SESSION_IDLE_TIMEOUT without a request, and SESSION_MAX_AGE
    after it signed in however busy it is.

    The time of the last request is saved at most once a minute rather than on every request,
    so a session may be signed out up to a minute before its idle timeout is up.
    """

    STARTED = "tracker_session_started_at"
    LAST_SEEN = "tracker_session_last_seen_at"
    SEEN_RESOLUTION = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = int(time.time())
        session = request.session
        if request.user.is_authenticated and (
            now - session.get(self.STARTED, now) > settings.SESSION_MAX_AGE
            or now - session.get(self.LAST_SEEN, now) > settings.SESSION_IDLE_TIMEOUT
        ):
            logout(request)
            messages.info(request, "Your session has ended. Please log in again.")
        response = self.get_response(request)
        # After the view, so the request that logs in starts the clock.
        if request.user.is_authenticated:
            request.session.setdefault(self.STARTED, now)
            if now - request.session.get(self.LAST_SEEN, 0) >= self.SEEN_RESOLUTION:
                request.session[self.LAST_SEEN] = now
        return response

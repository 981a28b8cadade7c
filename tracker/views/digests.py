"""Watching items, digest preferences, the digest preview and one-click unsubscribe."""

from csp.decorators import csp_replace
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tracker import digests
from tracker.forms import type_ahead
from tracker.models import (
    Demand,
    DigestDelivery,
    DigestFrequency,
    DigestPreference,
    Negotiation,
    Provision,
    Stakeholder,
    WatchKind,
)
from tracker.models.digests import time_zone_choices
from tracker.views.access import check_permission

WATCHABLE: dict[str, type[models.Model]] = {
    WatchKind.PROVISION: Provision,
    WatchKind.DEMAND: Demand,
    WatchKind.STAKEHOLDER: Stakeholder,
    WatchKind.NEGOTIATION: Negotiation,
}
# Admin only (Viewers hold every view_* permission, so a view permission would not do).
PREVIEW_OTHERS_PERMISSION = "tracker.change_digestpreference"


class DigestPreferenceForm(forms.ModelForm):
    hour = forms.TypedChoiceField(
        coerce=int,
        choices=[
            (hour, f"{(hour % 12) or 12}:00 {'AM' if hour < 12 else 'PM'}") for hour in range(24)
        ],
        label="Send at",
    )
    time_zone = forms.ChoiceField(choices=time_zone_choices, label="Time zone")

    class Meta:
        model = DigestPreference
        fields = ["frequency", "hour", "weekday", "time_zone", "send_empty"]
        labels = {
            "frequency": "Digest",
            "weekday": "Day (weekly digests)",
            "send_empty": "Send a digest even when nothing changed",
        }
        # The labels say it all; the models' help texts only repeated them.
        help_texts = {"hour": "", "weekday": "", "send_empty": ""}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        type_ahead(self.fields["time_zone"], "time-zones")  # some six hundred of them


@login_required
@require_POST
def watch_toggle(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Watch or stop watching an item; the form says which, so a repeated click is harmless."""
    model = WATCHABLE.get(kind)
    if model is None:
        raise Http404("Only provisions, demands, stakeholders and negotiations can be watched.")
    check_permission(request, f"tracker.view_{kind}", f"see this {kind}, so not watch it")
    item = get_object_or_404(model, pk=pk)
    if request.POST.get("watch") not in {"0", "1"}:
        return HttpResponse("Say watch=1 to watch or watch=0 to stop.", status=400)
    watching = digests.set_watch(request.user, item, watching=request.POST["watch"] == "1")
    if request.htmx:
        return render(request, "digests/_watch_toggle.html", {"item": item})
    messages.success(request, f"{'Watching' if watching else 'No longer watching'} {item}.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("tracker-my-watches")


@login_required
@require_GET
def watch_list(request: HttpRequest) -> HttpResponse:
    """My watches: everything the user watches, by kind, each with its toggle."""
    by_kind = digests.watched_items(request.user)
    sections = [(kind.label, items) for kind, items in by_kind.items()]
    watch_count = sum(len(items) for items in by_kind.values())
    return render(
        request, "digests/watches.html", {"sections": sections, "watch_count": watch_count}
    )


@login_required
@require_http_methods(["GET", "POST"])
def preference_update(request: HttpRequest) -> HttpResponse:
    preference = digests.preference_for(request.user)
    form = DigestPreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        digests.save_preference(form.instance)
        messages.success(request, "Digest preferences saved.")
        return redirect("tracker-digest-preferences")
    recent = DigestDelivery.objects.filter(user=request.user)[:5]
    return render(
        request,
        "digests/preferences.html",
        {"form": form, "preference": preference, "recent_deliveries": recent},
        status=400 if form.errors else 200,
    )


def _preview_user(request: HttpRequest) -> AbstractBaseUser:
    username = request.GET.get("user", "")
    if not username or username == request.user.get_username():
        return request.user
    check_permission(
        request,
        PREVIEW_OTHERS_PERMISSION,
        "preview another staff member's digest",
        hint="Only Admins can.",
    )
    return get_object_or_404(get_user_model(), username=username)


def _preview_message(user: AbstractBaseUser) -> EmailMultiAlternatives:
    digest = digests.build_digest(user, until=timezone.now())
    return digests.digest_message(digest)


@login_required
@require_GET
def digest_preview(request: HttpRequest) -> HttpResponse:
    """The email the user (or, for Admins, any user) would get now: headers, HTML and text."""
    target = _preview_user(request)
    message = _preview_message(target)
    html_url = reverse("tracker-digest-preview-html")
    if target != request.user:
        html_url += f"?user={target.get_username()}"
    return render(
        request,
        "digests/preview.html",
        {
            "target": target,
            "message": message,
            "headers": {
                "main": [
                    ("From", message.from_email),
                    ("To", ", ".join(message.to)),
                    ("Subject", message.subject),
                ],
                # Message-ID, List-Unsubscribe and the like: for mail software, not the reader.
                "delivery": list(message.extra_headers.items()),
            },
            "html_url": html_url,
            "can_preview_others": request.user.has_perm(PREVIEW_OTHERS_PERMISSION),
        },
    )


@login_required
@require_GET
@xframe_options_sameorigin
# The email's own inline styles are what mail clients see; this page only ever holds the email.
@csp_replace({"style-src": ["'unsafe-inline'"], "frame-ancestors": ["'self'"]})
def digest_preview_html(request: HttpRequest) -> HttpResponse:
    target = _preview_user(request)
    html, _ = _preview_message(target).alternatives[0]
    return HttpResponse(html)


# RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" with no cookie or CSRF token;
# the signed token in the URL is the credential, and a GET never unsubscribes (link scanners).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = digests.user_for_unsubscribe_token(token)
    except signing.SignatureExpired:
        return render(request, "digests/unsubscribe.html", {"problem": "expired"}, status=400)
    except signing.BadSignature:
        return render(request, "digests/unsubscribe.html", {"problem": "invalid"}, status=400)
    if request.method == "POST":
        digests.unsubscribe(user)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Unsubscribed from digests.", content_type="text/plain")
        return redirect(f"{reverse('tracker-digest-unsubscribe', args=[token])}?done=1")
    preference = DigestPreference.objects.filter(user=user).first()
    done = (
        request.GET.get("done") == "1"
        and preference is not None
        and preference.frequency == DigestFrequency.OFF
    )
    return render(
        request,
        "digests/unsubscribe.html",
        {"subscriber": user, "done": done, "token": token},
    )

"""The watch toggle's state, for templates/digests/_watch_toggle.html on any item page."""

from dataclasses import dataclass

from django import template
from django.db import models
from django.http import HttpRequest
from django.urls import reverse

from tracker import digests
from tracker.models import WatchKind

register = template.Library()


@dataclass(frozen=True)
class WatchState:
    kind: str
    pk: int
    watching: bool
    next_url: str

    @property
    def dom_id(self) -> str:
        return f"watch-{self.kind}-{self.pk}"

    @property
    def toggle_url(self) -> str:
        return reverse("tracker-watch-toggle", args=[self.kind, self.pk])


def _cached_keys(request: HttpRequest | None, user: models.Model | None) -> set[tuple[str, int]]:
    # A page with many toggles (My watches, a list of provisions) reads the watches once.
    keys = getattr(request, "_digest_watched_keys", None)
    if keys is None:
        keys = digests.watched_keys(user) if user is not None else set()
        if request is not None:
            request._digest_watched_keys = keys  # type: ignore[attr-defined]
    return keys


@register.simple_tag(takes_context=True)
def watch_state(context: template.Context, item: models.Model) -> WatchState:
    """Whether the page's user watches `item` (a provision, demand, stakeholder or negotiation)."""
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    kind = WatchKind(item._meta.model_name).value
    htmx = getattr(request, "htmx", None)
    if htmx:
        # Re-rendered by the toggle view: the page the form sits on is the one htmx reports.
        next_url = htmx.current_url_abs_path or ""
    else:
        next_url = request.get_full_path() if request is not None else ""
    return WatchState(
        kind=kind,
        pk=item.pk,
        watching=(kind, item.pk) in _cached_keys(request, user),
        next_url=next_url,
    )

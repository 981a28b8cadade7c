"""Type-ahead for long selects: the matching options as listbox items, for the combobox that
static/tracker/combobox.js puts over a select (see tracker/choices.py)."""

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from tracker import choices
from tracker.models import Negotiation
from tracker.models.whip import VoteTarget
from tracker.views.access import current_negotiation

# The combobox's own id, which the options' ids and the status line are named after.
_FOR = re.compile(r"[A-Za-z][\w-]{0,79}")


def _negotiation(request: HttpRequest) -> Negotiation:
    pk = request.GET.get("negotiation", "")
    if pk:
        if not pk.isdigit() or len(pk) > 18:
            raise Http404("No such negotiation.")
        return get_object_or_404(Negotiation, pk=pk)
    return current_negotiation()


def _whip_target(request: HttpRequest) -> VoteTarget | None:
    pk = request.GET.get("whip", "")
    if not pk:
        return None
    if not pk.isdigit() or len(pk) > 18:
        raise Http404("No such whip count.")
    return get_object_or_404(VoteTarget.objects.select_related("negotiation"), pk=pk)


def _found(request: HttpRequest, kind: str, query: str) -> choices.Found:
    if kind == "stakeholders":
        return choices.stakeholders(query)
    if kind == "provisions":
        return choices.provisions(query, negotiation=_negotiation(request))
    if kind == "position-targets":
        target = _whip_target(request)
        negotiation = target.negotiation if target else _negotiation(request)
        return choices.position_targets(query, negotiation=negotiation, target=target)
    if kind == "time-zones":
        return choices.time_zones(query)
    raise Http404("No such list of choices.")


@login_required
@require_GET
def choice_list(request: HttpRequest, kind: str) -> HttpResponse:
    """At most choices.LIMIT options matching ?q=, and a status line saying how many match."""
    query = request.GET.get("q", "")[: choices.MAX_QUERY]
    combobox = request.GET.get("for", "")
    if not _FOR.fullmatch(combobox):
        combobox = f"choices-{kind}"
    found = _found(request, kind, query)
    context = {"found": found, "query": query.strip(), "combobox": combobox}
    return render(request, "choices/options.html", context)

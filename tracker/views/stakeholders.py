from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from tracker.forms import NoteForm, PositionForm, StakeholderFilterForm
from tracker.models import (
    Activity,
    ActivityKind,
    Demand,
    Negotiation,
    Position,
    Provision,
    Stakeholder,
    VoteCast,
)
from tracker.page_cache import current_stamp, kept
from tracker.views.access import current_negotiation, permission_needed
from tracker.views.editing import add_note
from tracker.views.paging import page_of

PAGE_SIZE = 50
# A senator's history grows with every statement and roll call: the page shows the newest
# this many, and pages through the rest.
HISTORY_PAGE_SIZE = 50


def _get_stakeholder(pk: int) -> Stakeholder:
    return get_object_or_404(Stakeholder, pk=pk)


@login_required
def stakeholder_list(request: HttpRequest) -> HttpResponse:
    filters = StakeholderFilterForm(request.GET or None)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    # Only the filters that apply, in the form's order: the key and the page links.
    applied = [(name, wanted[name]) for name in filters.fields if wanted.get(name)]
    page = request.GET.get("page")
    if filters.errors:
        # Drawn with the errors, and never kept: any text can be in a crafted link.
        results = _list_results(applied, page, filters)
    else:
        results = kept(
            "stakeholder-list",
            applied,
            page,
            stamp=current_stamp(),
            build=lambda: _list_results(applied, page, filters),
        )
    status = 400 if filters.errors else 200
    if request.htmx:
        return HttpResponse(results, status=status)
    context = {"filters": filters, "results": results}
    return render(request, "stakeholders/list.html", context, status=status)


def _list_results(
    applied: list[tuple[str, str]], page: str | None, filters: StakeholderFilterForm
) -> str:
    """One page of the stakeholders the filters match, with their position counts, drawn: the
    same for every viewer, so kept per filter and page until something changes."""
    stakeholders = Stakeholder.objects.all()
    wanted = dict(applied)
    if wanted.get("q"):
        stakeholders = stakeholders.filter(
            Q(name__icontains=wanted["q"]) | Q(role__icontains=wanted["q"])
        )
    if wanted.get("kind"):
        stakeholders = stakeholders.filter(kind=wanted["kind"])
    if wanted.get("chamber"):
        stakeholders = stakeholders.in_chamber(wanted["chamber"])
    if wanted.get("party"):
        stakeholders = stakeholders.filter(party=wanted["party"])
    if wanted.get("state"):
        stakeholders = stakeholders.filter(state=wanted["state"])
    shown = page_of(stakeholders.order_by("name"), PAGE_SIZE, page)
    # Positions counted for this page only, not for every stakeholder before paging.
    counts = dict(
        Position.objects.filter(stakeholder__in=[s.pk for s in shown])
        .values_list("stakeholder")
        .annotate(n=Count("id"))
        .values_list("stakeholder", "n")
    )
    for stakeholder in shown:
        stakeholder.position_count = counts.get(stakeholder.pk, 0)
    context = {"filters": filters, "page": shown, "query": urlencode(applied)}
    return render_to_string("stakeholders/list.html#results", context)


@login_required
def stakeholder_detail(request: HttpRequest, pk: int) -> HttpResponse:
    stakeholder = _get_stakeholder(pk)
    context = _detail_context(request, stakeholder)
    if request.htmx:
        # The history's page links swap only the history.
        return HttpResponse(context["history"])
    return render(request, "stakeholders/detail.html", context)


def _targets(negotiation: Negotiation) -> tuple[list[Provision], list[Demand]]:
    provisions = list(Provision.objects.filter(negotiation=negotiation).order_by("kind", "title"))
    demands = list(Demand.objects.filter(negotiation=negotiation).order_by("title"))
    return provisions, demands


def _records(stakeholder: Stakeholder, *, primary_only: bool, page: str | None) -> dict:
    """The page's lists, drawn once per change: the same for every viewer (the forms with
    their tokens are drawn around them), so kept per stakeholder, source filter and page."""
    positions = Position.objects.filter(stakeholder=stakeholder).with_source()
    if primary_only:
        positions = positions.primary_sourced()
    history = page_of(
        positions.select_related("provision", "demand", "recorded_by"), HISTORY_PAGE_SIZE, page
    )
    context = {
        "stakeholder": stakeholder,
        "primary_only": primary_only,
        "current": positions.current()
        .select_related("provision", "demand")
        .order_by("provision__title", "demand__title"),
        "history_page": history,
        # The page links keep the source filter and nothing else from the request.
        "history_query": "sources=primary" if primary_only else "",
        "casts": VoteCast.objects.filter(member=stakeholder)
        .select_related("vote")
        .order_by("-vote__voted_on")[:20],
        "demands": stakeholder.demands.all(),
        "notes": Activity.objects.filter(
            stakeholder=stakeholder, kind=ActivityKind.NOTE
        ).select_related("actor")[:20],
    }
    return {
        part: render_to_string(f"stakeholders/detail.html#{part}", context)
        for part in ("current", "history", "records")
    }


def _detail_context(request: HttpRequest, stakeholder: Stakeholder, **extra: object) -> dict:
    can_record = request.user.has_perm("tracker.add_position")
    primary_only = request.GET.get("sources") == "primary"
    page = request.GET.get("page")
    records = kept(
        "stakeholder-records",
        stakeholder.pk,
        primary_only,
        page,
        stamp=current_stamp(),
        build=lambda: _records(stakeholder, primary_only=primary_only, page=page),
    )
    context = {
        "stakeholder": stakeholder,
        "primary_only": primary_only,
        **records,
        "note_form": NoteForm(),
        "can_record": can_record,
        "can_note": request.user.has_perm("tracker.add_activity"),
    }
    if can_record and "position_form" not in extra:
        provisions, demands = _targets(current_negotiation())
        context["position_form"] = PositionForm(provisions=provisions, demands=demands)
    return context | extra


@permission_needed("tracker.add_position", "record positions")
@require_POST
def position_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a stakeholder's stance; the old one stays in the history."""
    stakeholder = _get_stakeholder(pk)
    provisions, demands = _targets(current_negotiation())
    form = PositionForm(request.POST, provisions=provisions, demands=demands)
    if not form.is_valid():
        if not request.htmx:
            messages.error(request, "The position was not recorded: see the form below.")
        context = _detail_context(request, stakeholder, position_form=form)
        template = (
            "stakeholders/detail.html#positions" if request.htmx else "stakeholders/detail.html"
        )
        return TemplateResponse(request, template, context, status=422)
    position = stakeholder.record_position(by=request.user, **form.position_kwargs())
    if not request.htmx:
        messages.success(request, f"Recorded: {position}.")
        return redirect(stakeholder.get_absolute_url())
    provisions, demands = _targets(current_negotiation())
    context = _detail_context(
        request,
        stakeholder,
        just_recorded=position,
        position_form=PositionForm(provisions=provisions, demands=demands),
    )
    return TemplateResponse(request, "stakeholders/detail.html#positions", context)


@permission_needed("tracker.add_activity", "add notes")
@require_POST
def stakeholder_note(request: HttpRequest, pk: int) -> HttpResponse:
    stakeholder = _get_stakeholder(pk)
    refused = add_note(request, stakeholder)
    if refused is not None:
        context = _detail_context(request, stakeholder, note_form=refused)
        return TemplateResponse(request, "stakeholders/detail.html", context, status=422)
    return redirect(stakeholder.get_absolute_url())

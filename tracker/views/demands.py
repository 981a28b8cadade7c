from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_POST

from tracker.forms import DemandFilterForm, DemandForm, DemandStatusForm, NoteForm
from tracker.models import (
    Activity,
    ActivityKind,
    Demand,
    DemandStatus,
    Negotiation,
    Position,
    StaleEditError,
)
from tracker.page_cache import current_stamp, kept
from tracker.views.access import current_negotiation, permission_needed
from tracker.views.editing import CONFLICT, add_note, apply_status_change
from tracker.views.paging import page_of

HISTORY_SHOWN = 20
# The list shows this many demands a page, so a long negotiation costs no more than a short one.
PAGE_SIZE = 50


def _get_demand(pk: int) -> Demand:
    return get_object_or_404(Demand.objects.select_related("demanded_by"), pk=pk)


@login_required
def demand_list(request: HttpRequest) -> HttpResponse:
    negotiation = current_negotiation()
    filters = DemandFilterForm(request.GET or None)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    status, query = wanted.get("status", ""), wanted.get("q", "").strip()
    page = request.GET.get("page")
    if filters.errors:
        # Drawn with the errors, and never kept: any text can be in a crafted link.
        results = _results(negotiation, status=status, query=query, page=page, filters=filters)
    else:
        results = kept(
            "demand-list",
            negotiation.pk,
            status,
            query,
            page,
            stamp=current_stamp(),
            build=lambda: _results(negotiation, status=status, query=query, page=page),
        )
    code = 400 if filters.errors else 200
    if request.htmx:
        return HttpResponse(results, status=code)
    context = {
        "results": results,
        "status": status,
        "q": query,
        "statuses": DemandStatus.choices,
        "can_add": request.user.has_perm("tracker.add_demand"),
    }
    return render(request, "demands/list.html", context, status=code)


def _results(
    negotiation: Negotiation,
    *,
    status: str,
    query: str,
    page: str | None,
    filters: DemandFilterForm | None = None,
) -> str:
    """One page of the demands that match, drawn: the same for every viewer, so kept per
    negotiation, filter and page until something changes."""
    demands = (
        Demand.objects.filter(negotiation=negotiation)
        .select_related("demanded_by")
        .prefetch_related("provisions")
        .order_by("status", "title")
    )
    if status:
        demands = demands.filter(status=status)
    if query:
        demands = demands.filter(
            Q(title__icontains=query)
            | Q(asks__icontains=query)
            | Q(in_exchange_for__icontains=query)
            | Q(demanded_by__name__icontains=query)
        )
    context = {
        "page": page_of(demands, PAGE_SIZE, page),
        # The page links keep the filters and nothing else from the request.
        "query": urlencode(
            {name: value for name, value in (("q", query), ("status", status)) if value}
        ),
        "filters": filters,
    }
    return render_to_string("demands/list.html#results", context)


@login_required
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "demands/detail.html", _detail_context(request, _get_demand(pk)))


def _detail_context(request: HttpRequest, demand: Demand, **extra: object) -> dict:
    # The latest changes; the timeline link on the page has them all.
    history = Activity.objects.filter(
        demand=demand, kind__in=[ActivityKind.DEMAND_CHANGE, ActivityKind.NOTE]
    ).select_related("actor")[:HISTORY_SHOWN]
    return {
        "demand": demand,
        "history": history,
        "records": kept(
            "demand-records",
            demand.pk,
            stamp=current_stamp(),
            build=lambda: _records(demand, history),
        ),
        "status_form": None,
        "note_form": NoteForm(),
        "can_change": request.user.has_perm("tracker.change_demand"),
        "can_note": request.user.has_perm("tracker.add_activity"),
    } | extra


def _records(demand: Demand, history: QuerySet) -> dict:
    """The demand's history, linked provisions and positions, drawn: the same for every viewer
    (the forms with their tokens are drawn around them), so kept per demand until a change."""
    context = {
        "demand": demand,
        "history": history,
        "provisions": demand.provisions.all(),
        "positions": Position.objects.filter(demand=demand)
        .current()
        .select_related("stakeholder", "derived_from_vote")
        .order_by("stance", "stakeholder__name"),
    }
    return {
        part: render_to_string(f"demands/detail.html#{part}", context)
        for part in ("history", "linked")
    }


@permission_needed("tracker.add_demand", "add demands")
@require_http_methods(["GET", "POST"])
def demand_create(request: HttpRequest) -> HttpResponse:
    negotiation = current_negotiation()
    form = DemandForm(request.POST or None, negotiation_id=negotiation.pk)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in Demand.EDITABLE_FIELDS}
        demand = Demand.record_new(
            negotiation_id=negotiation.pk,
            by=request.user,
            provisions=list(form.cleaned_data["provisions"]),
            **fields,
        )
        messages.success(request, f"Demand “{demand.title}” added.")
        return redirect(demand.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(request, "demands/form.html", {"form": form, "demand": None}, status=status)


@permission_needed("tracker.change_demand", "edit demands")
@require_http_methods(["GET", "POST"])
def demand_edit(request: HttpRequest, pk: int) -> HttpResponse:
    demand = _get_demand(pk)
    form = DemandForm(
        request.POST or None,
        instance=Demand.objects.get(pk=pk),
        initial={"revision": demand.revision},
        negotiation_id=demand.negotiation_id,
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            demand.edit(
                {name: form.cleaned_data[name] for name in Demand.EDITABLE_FIELDS},
                provisions=list(form.cleaned_data["provisions"]),
                by=request.user,
                based_on_revision=form.cleaned_data["revision"],
            )
        except StaleEditError:
            demand = _get_demand(pk)
            conflict = Activity.objects.filter(demand=demand).select_related("actor").first()
            # Keep the user's input; the next submit is based on the stored revision.
            data = request.POST.copy()
            data["revision"] = demand.revision
            form = DemandForm(data, instance=demand, negotiation_id=demand.negotiation_id)
            form.is_valid()
        else:
            messages.success(request, "Demand saved.")
            return redirect(demand.get_absolute_url())
    status = 409 if conflict else 422 if request.method == "POST" else 200
    return render(
        request,
        "demands/form.html",
        {
            "form": form,
            "demand": demand,
            "conflict": conflict,
        },
        status=status,
    )


@permission_needed("tracker.change_demand", "change a demand's status")
@require_POST
def demand_status(request: HttpRequest, pk: int) -> HttpResponse:
    demand = _get_demand(pk)
    form = DemandStatusForm(request.POST, status_choices=DemandStatus.choices)
    status = apply_status_change(demand, form, by=request.user)
    conflict = None
    if status == CONFLICT:
        demand = _get_demand(pk)
        conflict = Activity.objects.filter(demand=demand).select_related("actor").first()
    if status == 200 and not request.htmx:
        messages.success(request, f"The demand is now {demand.get_status_display().lower()}.")
        return redirect(demand.get_absolute_url())
    context = _detail_context(
        request, demand, status_form=None if status == 200 else form, conflict=conflict
    )
    template = "demands/detail.html#status-changed" if request.htmx else "demands/detail.html"
    return TemplateResponse(request, template, context, status=status)


@permission_needed("tracker.add_activity", "add notes")
@require_POST
def demand_note(request: HttpRequest, pk: int) -> HttpResponse:
    demand = _get_demand(pk)
    refused = add_note(request, demand)
    if refused is not None:
        context = _detail_context(request, demand, note_form=refused)
        return TemplateResponse(request, "demands/detail.html", context, status=422)
    return redirect(demand.get_absolute_url())

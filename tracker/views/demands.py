from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_POST

from tracker.forms import DemandFilterForm, DemandForm, DemandStatusForm, NoteForm
from tracker.models import (
    Activity,
    ActivityKind,
    Demand,
    DemandStatus,
    Position,
    StaleEditError,
)
from tracker.views.access import current_negotiation, permission_needed
from tracker.views.editing import CONFLICT, add_note, apply_status_change

HISTORY_SHOWN = 20


def _get_demand(pk: int) -> Demand:
    return get_object_or_404(Demand.objects.select_related("demanded_by"), pk=pk)


@login_required
def demand_list(request: HttpRequest) -> HttpResponse:
    negotiation = current_negotiation()
    demands = (
        Demand.objects.filter(negotiation=negotiation)
        .select_related("demanded_by")
        .prefetch_related("provisions")
        .order_by("status", "title")
    )
    filters = DemandFilterForm(request.GET or None)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    status, query = wanted.get("status", ""), wanted.get("q", "").strip()
    if status:
        demands = demands.filter(status=status)
    if query:
        demands = demands.filter(
            Q(title__icontains=query)
            | Q(asks__icontains=query)
            | Q(in_exchange_for__icontains=query)
            | Q(demanded_by__name__icontains=query)
        )
    template = "demands/list.html#results" if request.htmx else "demands/list.html"
    return render(
        request,
        template,
        {
            "demands": demands,
            "status": status,
            "q": query,
            "statuses": DemandStatus.choices,
            "can_add": request.user.has_perm("tracker.add_demand"),
            "filters": filters,
        },
        status=400 if filters.errors else 200,
    )


@login_required
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "demands/detail.html", _detail_context(request, _get_demand(pk)))


def _detail_context(request: HttpRequest, demand: Demand, **extra: object) -> dict:
    return {
        "demand": demand,
        "provisions": demand.provisions.all(),
        # The latest changes; the timeline link on the page has them all.
        "history": Activity.objects.filter(
            demand=demand, kind__in=[ActivityKind.DEMAND_CHANGE, ActivityKind.NOTE]
        ).select_related("actor")[:HISTORY_SHOWN],
        "positions": Position.objects.filter(demand=demand)
        .current()
        .select_related("stakeholder", "derived_from_vote")
        .order_by("stance", "stakeholder__name"),
        "status_form": None,
        "note_form": NoteForm(),
        "can_change": request.user.has_perm("tracker.change_demand"),
        "can_note": request.user.has_perm("tracker.add_activity"),
    } | extra


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

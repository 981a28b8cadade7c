from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from tracker.forms import (
    PROVISION_SORTS,
    AmountForm,
    NoteForm,
    ProvisionFilterForm,
    StatusChangeForm,
)
from tracker.funding import changes_since_previous
from tracker.models import (
    Activity,
    ActivityKind,
    Bill,
    BillAction,
    Negotiation,
    PackageVersion,
    Position,
    Provision,
    ProvisionStatus,
    StaleEditError,
    TransitionNotAllowed,
    Unit,
    VersionLine,
    Vote,
)
from tracker.money import format_dollars
from tracker.page_cache import Stamp, current_stamp, kept
from tracker.views import live
from tracker.views.access import current_negotiation, permission_needed
from tracker.views.editing import CHANGED, CONFLICT, INVALID, add_note, apply_status_change
from tracker.views.paging import paginate

PAGE_SIZE = 25
HISTORY_SHOWN = 20
DEFAULT_SORT = "-updated_at"
# How long the confirmation after a status change offers to undo it.
UNDO_WINDOW = timedelta(seconds=20)


def _get_provision(pk: int) -> Provision:
    return get_object_or_404(
        Provision.objects.select_related("owner", "parent", "version", "negotiation"), pk=pk
    )


@login_required
def provision_list(request: HttpRequest) -> HttpResponse:
    """Provisions, filtered and searched as you type; each filter state is a shareable URL."""
    negotiation = current_negotiation()
    filters = ProvisionFilterForm(request.GET or None)
    can_change = request.user.has_perm("tracker.change_provision")
    part = "results" if request.htmx else "content"
    if filters.is_bound and not filters.is_valid():
        # Drawn with the errors, and never kept: any text can be in a crafted link.
        drawn = _list_part(request, part, negotiation, filters, can_change)
    else:
        drawn = kept(
            f"provision-list-{part}",
            negotiation.pk,
            # Every parameter: the form shows them, the page links carry them.
            sorted(request.GET.lists()),
            can_change,
            stamp=current_stamp(),
            build=lambda: _list_part(request, part, negotiation, filters, can_change),
        )
    code = 400 if filters.errors else 200
    if request.htmx:
        return HttpResponse(drawn, status=code)
    return render(request, "provisions/list.html", {"content": drawn}, status=code)


def _list_part(
    request: HttpRequest,
    part: str,
    negotiation: Negotiation,
    filters: ProvisionFilterForm,
    can_change: bool,
) -> str:
    """The list's filters and one page of its provisions, drawn: the same for everyone with
    the same query and the same right to change a status (the row action), so kept per query,
    role and change. A row's status form with its token is drawn on demand, never here."""
    provisions = Provision.objects.filter(negotiation=negotiation).select_related("owner")
    sort = DEFAULT_SORT
    if filters.is_valid():
        wanted = filters.cleaned_data
        if wanted["q"]:
            provisions = provisions.filter(
                Q(title__icontains=wanted["q"]) | Q(description__icontains=wanted["q"])
            )
        for field in ("kind", "category", "status"):
            if wanted[field]:
                provisions = provisions.filter(**{field: wanted[field]})
        if wanted["owner"]:
            provisions = provisions.filter(owner=wanted["owner"])
        sort = wanted["sort"] or sort
    page, query = paginate(request, provisions.order_by(PROVISION_SORTS[sort][0], "pk"), PAGE_SIZE)
    _attach_latest(list(page))
    context = {
        "filters": filters,
        "page": page,
        "query": query,
        "can_change": can_change,
    }
    if part == "content":
        context["status_counts"] = Provision.objects.filter(negotiation=negotiation).status_counts()
    return render_to_string(f"provisions/list.html#{part}", context)


def _attach_latest(provisions: list[Provision]) -> None:
    """Each listed provision's latest amount and its change from the version before, and its
    latest status change (when, by whom): two queries for the page, whatever its size."""
    ids = [provision.pk for provision in provisions]
    amounts: dict[int, list[int]] = {pk: [] for pk in ids}
    for provision_id, amount in (
        VersionLine.objects.filter(provision__in=ids, amount__isnull=False)
        .order_by("version__dated", "version_id")
        .values_list("provision_id", "amount")
    ):
        amounts[provision_id].append(amount)
    # Each provision's latest status change, found through its own index entries: as many
    # rows as the page has, however long each provision's history grows.
    latest_change = (
        Activity.objects.filter(provision=OuterRef("pk"), kind=ActivityKind.STATUS_CHANGE)
        .order_by("-occurred_at", "-id")
        .values("id")[:1]
    )
    changes = {
        change.provision_id: change
        for change in Activity.objects.filter(
            pk__in=Provision.objects.filter(pk__in=ids)
            .annotate(change_id=Subquery(latest_change))
            .values("change_id")
        )
        .select_related("actor")
        .only(
            "provision_id",
            "occurred_at",
            "actor__username",
            "actor__first_name",
            "actor__last_name",
            "source",
        )
        .order_by()
    }
    for provision in provisions:
        figures = amounts[provision.pk]
        provision.latest_amount = figures[-1] if figures else None
        provision.amount_change = figures[-1] - figures[-2] if len(figures) > 1 else None
        provision.last_change = changes.get(provision.pk)


@login_required
def provision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The provision across versions, its status and history, positions and notes. Live: a
    poll gets the status, history, positions and notes when anything changed (never the forms,
    so nothing being typed is lost; a stale form is refused with the newer change shown)."""
    polled = live.is_poll(request)
    if polled:
        not_modified, stamp = live.unchanged(request)
        if not_modified is not None:
            return not_modified
    else:
        stamp = live.current_stamp()
    provision = _get_provision(pk)
    context = _detail_context(request, provision, stamp=stamp) | live.poll_context(request, stamp)
    template = "provisions/detail.html#live-parts" if polled else "provisions/detail.html"
    return live.stamped(render(request, template, context), stamp)


def _detail_context(
    request: HttpRequest, provision: Provision, *, stamp: Stamp | None = None, **extra: object
) -> dict:
    records = kept(
        "provision-records",
        provision.pk,
        stamp=stamp or live.current_stamp(),
        build=lambda: _records(provision),
    )
    can_change = request.user.has_perm("tracker.change_provision")
    context = {
        "provision": provision,
        "comparison": records["comparison"],
        "records": records,
        "status_form": None,
        "note_form": NoteForm(),
        "can_change": can_change,
        "can_note": request.user.has_perm("tracker.add_activity"),
        "can_set_amounts": request.user.has_perm("tracker.change_versionline"),
        # What the feeds propose for it, and a feed's move staff may undo.
        "proposals": provision.proposals.open(),
        "can_decide": can_change,
        # Only the status form offers it.
        "undo_status": provision.feed_move_to_undo() if can_change else "",
    }
    return context | extra


def _records(provision: Provision) -> dict:
    """The provision's amount in each version, and its history, sub-lines, positions, demands,
    notes and the votes and actions of the bills that carry it, drawn: the same for every
    viewer (the forms with their tokens are drawn around them), so kept per provision until
    something changes."""
    bills = Bill.objects.filter(versions__lines__provision=provision).distinct()
    comparison = _comparison(provision)
    context = {
        "provision": provision,
        # As read by those who may not set amounts (the others' rows are inputs).
        "comparison": comparison,
        # The latest changes and notes; the page links to the timeline for all of them.
        "history": Activity.objects.filter(
            provision=provision, kind__in=[ActivityKind.STATUS_CHANGE, ActivityKind.AMOUNT_CHANGE]
        ).select_related("actor")[:HISTORY_SHOWN],
        "notes": Activity.objects.filter(
            provision=provision, kind=ActivityKind.NOTE
        ).select_related("actor")[:HISTORY_SHOWN],
        "positions": Position.objects.filter(provision=provision)
        .current()
        .select_related("stakeholder", "derived_from_vote")
        .order_by("stance", "stakeholder__name"),
        "demands": provision.demands.select_related("demanded_by"),
        "sub_lines": provision.sub_lines.all(),
        "bill_actions": BillAction.objects.filter(bill__in=bills).select_related("bill")[:15],
        "votes": Vote.objects.filter(bill__in=bills)
        .select_related("bill")
        .order_by("-voted_on", "-roll_number")[:15],
    }
    parts = {
        "amount_rows": "amount-rows",
        "history": "history-entries",
        "sub_lines": "sub-lines",
        "positions": "position-rows",
        "demands": "demands",
        "notes": "note-entries",
        "floor": "floor",
    }
    drawn = {
        name: render_to_string(f"provisions/detail.html#{part}", context)
        for name, part in parts.items()
    }
    return drawn | {"comparison": comparison}


def _comparison(provision: Provision) -> list[dict]:
    """The provision's line in each version of the package, and its change from the one
    before."""
    versions = list(PackageVersion.objects.filter(negotiation_id=provision.negotiation_id))
    lines = {line.version_id: line for line in provision.lines.all()}
    in_order = [lines.get(version.pk) for version in versions]
    changes = changes_since_previous([line.amount if line else None for line in in_order])
    return [
        {"version": version, "line": line, "change": change}
        for version, line, (change, _) in zip(versions, in_order, changes, strict=True)
    ]


@permission_needed("tracker.change_provision", "change a provision's status")
@require_http_methods(["GET", "POST"])
def provision_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a provision's status from its row in the list or from its page.

    A GET opens the change in the list's row (with HTMX; without it, the provision's page,
    where the form is). The form carries the revision it was based on: a submit based on an
    older revision is refused (409) with the newer change shown and the user's input kept,
    ready to resubmit. After a change made from a row, the row says so with an Undo that puts
    the old status back for UNDO_WINDOW.
    """
    provision = _get_provision(pk)
    if request.method == "GET":
        if not request.htmx:
            return redirect(provision.get_absolute_url() + "#status-heading")
        _attach_latest([provision])
        context = {"provision": provision, "can_change": True, "editing": True}
        return TemplateResponse(request, "provisions/list.html#row", context)
    form = StatusChangeForm(request.POST, status_choices=ProvisionStatus.choices)
    if "undo" in request.POST:
        status = _undo_status_change(provision, form, by=request.user)
    else:
        status = apply_status_change(provision, form, by=request.user)
    conflict = None
    if status == CONFLICT:
        provision = _get_provision(pk)
        conflict = _latest_status_change(provision)
    if not request.htmx:
        if status == 200:
            messages.success(request, f"{provision.title} is now {provision.get_status_display()}.")
            return redirect(_safe_next(request, provision.get_absolute_url()))
        messages.error(request, "The status was not changed: see the form below.")
        context = _detail_context(request, provision, status_form=form, conflict=conflict)
        return TemplateResponse(request, "provisions/detail.html", context, status=status)
    if status == 200:
        form = None  # a fresh form for the next change
    if request.POST.get("shown_in") == "row":
        _attach_latest([provision])
        return TemplateResponse(
            request,
            "provisions/list.html#status-changed-row",
            {
                "provision": provision,
                "form": form,
                "conflict": conflict,
                "can_change": True,
                # Still open after a refusal; closed, with the confirmation, once saved.
                "editing": status != 200,
                "just_changed": provision.last_change if status == 200 else None,
                "undone": "undo" in request.POST and status == 200,
                "undo_seconds": int(UNDO_WINDOW.total_seconds()),
                "status_counts": Provision.objects.filter(
                    negotiation_id=provision.negotiation_id
                ).status_counts(),
            },
            status=status,
        )
    context = _detail_context(request, provision, status_form=form, conflict=conflict)
    context["new_history"] = [_latest_status_change(provision)] if status == 200 else []
    return TemplateResponse(
        request, "provisions/detail.html#status-changed", context, status=status
    )


def _undo_status_change(provision: Provision, form: StatusChangeForm, *, by: object) -> int:
    """Undo the user's own status change just made from a row: 200, 409 if someone moved it
    since, 422 if it cannot be undone any more."""
    revision = form["revision"].value()
    if not str(revision or "").isdigit():
        form.add_error(None, "This form is out of date or damaged: reload the page.")
        return INVALID
    try:
        provision.undo_status_change(by=by, based_on_revision=int(revision), within=UNDO_WINDOW)
    except StaleEditError:
        return CONFLICT
    except TransitionNotAllowed as refused:
        form.add_error(None, str(refused))
        return INVALID
    return CHANGED


def _latest_status_change(provision: Provision) -> Activity | None:
    return (
        Activity.objects.filter(provision=provision, kind=ActivityKind.STATUS_CHANGE)
        .select_related("actor")
        .first()
    )


def _safe_next(request: HttpRequest, fallback: str) -> str:
    """Where a no-JS form returns to: the page it came from, if it is on this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@permission_needed("tracker.change_versionline", "change amounts")
@require_POST
def provision_amounts(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the provision's amount in each version (whole, non-negative dollars)."""
    provision = _get_provision(pk)
    versions = list(PackageVersion.objects.filter(negotiation_id=provision.negotiation_id))
    forms = {v.pk: AmountForm(request.POST, prefix=f"v{v.pk}") for v in versions}
    # Every field is checked before anything is written, and the writes are one transaction.
    if all([form.is_valid() for form in forms.values()]):
        before = {line.version_id: line.amount for line in provision.lines.all()}
        wanted = {v: forms[v.pk].cleaned_data["amount"] for v in versions}
        try:
            provision.set_amounts(wanted, by=request.user)
        except ValidationError as refused:
            messages.error(request, f"No amount was changed: {' '.join(refused.messages)}")
        else:
            messages.success(request, _amounts_saved(provision, before, wanted))
            return redirect(provision.get_absolute_url())
    else:
        messages.error(request, "No amount was changed: see the highlighted field(s).")
    context = _detail_context(request, provision, amount_forms=forms)
    return TemplateResponse(request, "provisions/detail.html", context, status=422)


def _amounts_saved(
    provision: Provision, before: dict[int, int | None], after: dict[PackageVersion, int | None]
) -> str:
    """What a save changed, in the figures staff read: "Saved: Request $61.4B → $61.5B"."""

    def shown(amount: int | None) -> str:
        if amount is None:
            return "none"
        return format_dollars(amount) if provision.unit == Unit.USD else f"{amount:,}"

    changed = [
        f"{version.get_stage_display()} {shown(before.get(version.pk))} → {shown(amount)}"
        for version, amount in after.items()
        if amount != before.get(version.pk)
    ]
    return f"Saved: {'; '.join(changed)}." if changed else "No amount changed."


@permission_needed("tracker.add_activity", "add notes")
@require_POST
def provision_note(request: HttpRequest, pk: int) -> HttpResponse:
    provision = _get_provision(pk)
    refused = add_note(request, provision)
    if refused is not None:
        context = _detail_context(request, provision, note_form=refused)
        return TemplateResponse(request, "provisions/detail.html", context, status=422)
    return redirect(provision.get_absolute_url())

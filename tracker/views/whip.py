"""The whip board for a vote target, its as-of view and CSV, recording positions and overrides
from the board, and the projection checked against the roll call."""

from dataclasses import dataclass
from datetime import date
from html import escape

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import retarget

from tracker.charts import count_over_time
from tracker.exports import WHIP_HEADER, csv_response, whip_board_rows
from tracker.models import Stakeholder, Stance
from tracker.models.whip import VoteTarget, VoteTargetLink
from tracker.whip import GROUPS, Board, MemberCall, build_board, predicted_vs_actual, set_override

# The board's filter and the two write forms are small and used only here, so they live beside
# their views rather than in tracker/forms.py.


class BoardFilterForm(forms.Form):
    as_of = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    party = forms.CharField(required=False, max_length=20)
    state = forms.CharField(required=False, max_length=2)


class RecordPositionForm(forms.Form):
    link = forms.ModelChoiceField(queryset=VoteTargetLink.objects.none(), label="On")
    stance = forms.ChoiceField(choices=Stance.choices)
    as_of = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="As of")
    source_url = forms.URLField(required=False, label="Source", assume_scheme="https")
    statement = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, target: VoteTarget, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["link"].queryset = target.links.select_related("provision", "demand")


class OverrideForm(forms.Form):
    stance = forms.ChoiceField(
        choices=[("", "Clear: count the derived stance"), *Stance.choices], required=False
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


def _get_target(pk: int) -> VoteTarget:
    # The links come with their items in one query (not one per relation); the board reuses them.
    links = VoteTargetLink.objects.select_related("provision", "demand")
    targets = VoteTarget.objects.select_related("negotiation", "vote").prefetch_related(
        Prefetch("links", queryset=links)
    )
    return get_object_or_404(targets, pk=pk)


def _get_member(target: VoteTarget, member_pk: int) -> Stakeholder:
    return get_object_or_404(
        Stakeholder.objects.in_chamber(target.chamber).filter(in_office=True), pk=member_pk
    )


def _board_from_request(
    request: HttpRequest, target: VoteTarget
) -> tuple[Board | None, forms.Form]:
    form = BoardFilterForm(request.GET)
    if not form.is_valid():
        return None, form
    board = build_board(
        target,
        day=form.cleaned_data["as_of"],
        party=form.cleaned_data["party"],
        state=form.cleaned_data["state"].upper(),
    )
    return board, form


# The member tables are the bulk of the page (a hundred senators, four hundred and thirty-five
# representatives). Walking each call through a dozen template lookups and filters made
# rendering most of the page's time, so every row's values are written once here, escaped, and
# the template only places them. The record/override forms are identical but for the member,
# so they are rendered once from their partial and the member's id is put in per row.
_MEMBER_SLOT = "987654321012"


def _day(on: date) -> str:
    return f"{on:%b} {on.day}, {on.year}"  # as the |date:"M j, Y" filter writes it


@dataclass(frozen=True, slots=True)
class MemberRow:
    pk: int
    name: str
    label: str
    group: str
    group_label: str
    why: SafeString
    day: SafeString
    last_day: SafeString
    source: SafeString
    recorded_by: str
    actions: SafeString


def _member_row(call: MemberCall, actions: str) -> MemberRow:
    member, position, override = call.member, call.position, call.override
    stale = ' <span class="badge stale">stale</span>' if call.is_stale else ""
    url = escape(position.source_url) if position is not None else ""
    link = f'<a href="{url}" rel="noopener noreferrer">source</a>' if url else ""
    if override is not None:
        why = (
            f'<span class="badge">override</span> {escape(override.note)} <span class="muted">'
            f"(positions say: {escape(call.derived_group_label.lower())})</span>"
        )
    elif position is not None and call.link is not None:
        why = f"{escape(position.get_stance_display())} on {escape(str(call.link.item))}"
        if call.link.support_means == "no":
            why += " (support means no)"
        if link:
            why += f" · {link}"
    else:
        why = '<span class="muted">no position</span>'
    day = _day(position.as_of) + stale if position is not None else ""
    if link:
        source = link
    elif override is not None:
        source = f"override: {escape(override.note)}"
    else:
        source = '<span class="muted">unsourced</span>'
    pk = str(member.pk)
    return MemberRow(
        pk=member.pk,
        name=member.name,
        label=str(member),
        group=call.group,
        group_label=call.group_label,
        why=mark_safe(why),  # noqa: S308 - every value above is escaped
        day=mark_safe(day),  # noqa: S308
        last_day=mark_safe(day or "—"),  # noqa: S308
        source=mark_safe(source),  # noqa: S308
        recorded_by=call.recorded_by,
        actions=mark_safe(actions.replace(_MEMBER_SLOT, pk)),  # noqa: S308 - rendered template
    )


def _board_context(request: HttpRequest, target: VoteTarget, board: Board) -> dict:
    points = [(point.day, point.yes, point.no) for point in board.history]
    if points and points[-1][0] != board.day:
        points.append((board.day, board.yes, board.no))
    context = {
        "target": target,
        "board": board,
        "chart": count_over_time(points, board.threshold.needed, board.threshold.seats),
        "can_record": request.user.has_perm("tracker.add_position"),
        "can_override": request.user.has_perm("tracker.add_stanceoverride"),
        "stances": Stance.choices,
        "today": timezone.localdate(),
        "query": request.GET.urlencode(),
        "member_pk": _MEMBER_SLOT,
    }
    actions = ""
    if context["can_record"] or context["can_override"]:
        actions = render_to_string("whip/board.html#member-actions", context, request)
    rows = {call.member.pk: _member_row(call, actions) for call in board.shown}
    context["columns"] = [
        (key, label, [rows[call.member.pk] for call in calls])
        for (key, label), (_, _, calls) in zip(GROUPS, board.columns, strict=True)
    ]
    context["persuadable"] = [rows[call.member.pk] for call in board.persuadable]
    return context


@login_required
@require_GET
def whip_target_list(request: HttpRequest) -> HttpResponse:
    targets = VoteTarget.objects.select_related("negotiation", "vote")
    return render(request, "whip/list.html", {"targets": targets})


@login_required
@require_GET
def whip_board(request: HttpRequest, pk: int) -> HttpResponse:
    target = _get_target(pk)
    board, form = _board_from_request(request, target)
    if board is None:
        return render(request, "whip/board.html", {"target": target, "form": form}, status=400)
    template = "whip/board.html#board" if request.htmx else "whip/board.html"
    return render(request, template, _board_context(request, target, board) | {"form": form})


@login_required
@require_GET
def whip_board_csv(request: HttpRequest, pk: int) -> HttpResponse:
    target = _get_target(pk)
    board, form = _board_from_request(request, target)
    if board is None:
        return render(request, "whip/board.html", {"target": target, "form": form}, status=400)
    return csv_response(
        f"whip-{target.pk}-{board.day.isoformat()}.csv", WHIP_HEADER, whip_board_rows(board)
    )


@require_POST
@login_required
def whip_position_record(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Record a member's position on one of the vote's items, straight from the board."""
    if not request.user.has_perm("tracker.add_position"):
        raise PermissionDenied("Your role can read the board but not record positions.")
    target = _get_target(pk)
    member = _get_member(target, member_pk)
    form = RecordPositionForm(target, request.POST, prefix=f"m{member.pk}")
    if not form.is_valid():
        return _form_errors(request, target, member, form, "record")
    link = form.cleaned_data["link"]
    member.record_position(
        stance=form.cleaned_data["stance"],
        as_of=form.cleaned_data["as_of"],
        provision=link.provision,
        demand=link.demand,
        source_url=form.cleaned_data["source_url"],
        statement=form.cleaned_data["statement"],
        by=request.user,
    )
    return _after_write(request, target, f"Recorded {member.name}'s position on {link}.")


@require_POST
@login_required
def whip_override_set(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Count a member differently from what the positions say, with a note saying why."""
    if not request.user.has_perm("tracker.add_stanceoverride"):
        raise PermissionDenied("Your role can read the board but not override the count.")
    target = _get_target(pk)
    member = _get_member(target, member_pk)
    form = OverrideForm(request.POST, prefix=f"o{member.pk}")
    if not form.is_valid():
        return _form_errors(request, target, member, form, "override")
    set_override(
        target,
        member,
        stance=form.cleaned_data["stance"],
        note=form.cleaned_data["note"],
        by=request.user,
    )
    return _after_write(request, target, f"Updated how {member.name} is counted.")


def _after_write(request: HttpRequest, target: VoteTarget, message: str) -> HttpResponse:
    url = reverse("tracker-whip-board", args=[target.pk])
    if not request.htmx:
        messages.success(request, message)
        return redirect(url)
    # The board comes back whole (as of today, unfiltered) so every count moves at once.
    board = build_board(target)
    context = _board_context(request, target, board) | {"flash": message}
    return render(request, "whip/board.html#board", context)


def _form_errors(
    request: HttpRequest, target: VoteTarget, member: Stakeholder, form: forms.Form, kind: str
) -> HttpResponse:
    context = {"target": target, "member": member, "form": form, "kind": kind}
    if not request.htmx:
        return render(request, "whip/form_errors.html", context, status=422)
    response = render(request, "whip/form_errors.html#errors", context, status=422)
    return retarget(response, f"#{kind}-{member.pk}-errors")


@login_required
@require_GET
def whip_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Predicted vs actual: the board the day before the roll call, against the casts."""
    target = _get_target(pk)
    scorecard = predicted_vs_actual(target)
    return render(request, "whip/results.html", {"target": target, "scorecard": scorecard})

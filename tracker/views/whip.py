"""The whip board for a vote target, its as-of view and CSV, recording positions and overrides
from the board, and the projection checked against the roll call."""

from dataclasses import dataclass
from datetime import date, datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from tracker.charts import count_over_time
from tracker.exports import WHIP_HEADER, csv_response, whip_board_rows
from tracker.forms import PositionForm
from tracker.models import Position, SeenMarker, Stakeholder, Stance, attach_derived_votes
from tracker.models.validators import validate_recorded_date
from tracker.models.whip import VoteTarget, VoteTargetLink
from tracker.views import live
from tracker.views.access import permission_needed
from tracker.whip import (
    GROUPS,
    Board,
    MemberCall,
    build_board,
    candidate_votes,
    matching_votes,
    predicted_vs_actual,
    set_override,
    settle,
)

# The board's filter and the override form are used only here, so they live beside their views;
# recording a position uses the one PositionForm the stakeholder pages use too.


class BoardFilterForm(forms.Form):
    as_of = forms.DateField(
        required=False,
        validators=[validate_recorded_date],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    party = forms.CharField(required=False, max_length=20)
    state = forms.CharField(required=False, max_length=2)


class OverrideForm(forms.Form):
    stance = forms.ChoiceField(
        choices=[("", "Clear: count the derived stance"), *Stance.choices],
        required=False,
        label="Count as",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Note (required)"
    )


def _get_target(pk: int) -> VoteTarget:
    # The links come with their items in one query (not one per relation); the board reuses them.
    links = VoteTargetLink.objects.select_related("provision", "demand")
    targets = VoteTarget.objects.select_related("negotiation", "vote").prefetch_related(
        Prefetch("links", queryset=links)
    )
    return get_object_or_404(targets, pk=pk)


def _get_member(target: VoteTarget, member_pk: int) -> Stakeholder:
    return get_object_or_404(
        Stakeholder.objects.in_chamber(target.chamber).serving_on(timezone.localdate()),
        pk=member_pk,
    )


def _board_from_request(
    request: HttpRequest, target: VoteTarget
) -> tuple[Board | None, forms.Form]:
    form = BoardFilterForm(request.GET)
    if not form.is_valid():
        return None, form
    # A vote already taken opens as of its day: the board as it stood when the Senate voted.
    default_day = target.vote.voted_on if target.vote_id else None
    board = build_board(
        target,
        day=form.cleaned_data["as_of"] or default_day,
        party=form.cleaned_data["party"],
        state=form.cleaned_data["state"].upper(),
    )
    return board, form


# The member tables are the bulk of the page (a hundred senators, four hundred and thirty-five
# representatives). Walking each call through a dozen template lookups and filters made
# rendering most of the page's time, so every row's values are written once here, escaped by
# format_html, and the template only places them.


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
    # One line on the board: party-state and short marks (override, read off a roll call,
    # stale, new since the last visit); the explanation of each mark is given once, above.
    party_state: str = ""
    marks: SafeString = mark_safe("")
    changed: bool = False


DERIVED_MARK = (
    '<span class="mark-sym">†<span class="visually-hidden"> read off a roll call</span></span>'
)


def _changed_since(call: MemberCall, seen_at: datetime | None) -> bool:
    if seen_at is None:
        return False
    if call.override is not None and call.override.set_at > seen_at:
        return True
    return call.position is not None and call.position.recorded_at > seen_at


def _marks(call: MemberCall, changed: bool) -> SafeString:
    marks = []
    if changed:
        marks.append('<span class="badge new">new</span>')
    if call.override is not None:
        marks.append('<span class="mark">override</span>')
    elif call.position is not None and call.position.derived_from_vote_id:
        marks.append(DERIVED_MARK)
    if call.is_stale:
        marks.append('<span class="mark stale">stale</span>')
    # Fixed markup only: no value from staff or a feed goes in.
    return mark_safe(" " + " ".join(marks) if marks else "")  # noqa: S308


def _member_row(call: MemberCall, seen_at: datetime | None = None) -> MemberRow:
    member, position, override = call.member, call.position, call.override
    link = ""
    if position is not None and position.source_url:
        link = format_html('<a href="{}" rel="noopener noreferrer">source</a>', position.source_url)
    if override is not None:
        why = format_html(
            '<span class="badge">override</span> {} <span class="muted">(positions say: {})</span>',
            override.note,
            call.derived_group_label.lower(),
        )
    elif position is not None and call.link is not None:
        why = format_html(
            "{} on {}{}{}",
            position.get_stance_display(),
            call.link.item,
            " (support means no)" if call.link.support_means == "no" else "",
            format_html(" · {}", link) if link else "",
        )
    else:
        why = mark_safe('<span class="muted">no position</span>')
    why = format_html("{}{}", why, _derived_note(position))  # issue 14: derived stances say so
    day = ""
    if position is not None:
        stale = mark_safe(' <span class="badge stale">stale</span>') if call.is_stale else ""
        day = format_html("{}{}", _day(position.as_of), stale)
    if link:
        source = link
    elif override is not None:
        source = format_html("override: {}", override.note)
    else:
        source = mark_safe('<span class="muted">unsourced</span>')
    return MemberRow(
        pk=member.pk,
        name=member.name,
        label=str(member),
        group=call.group,
        group_label=call.group_label,
        why=why,
        day=day,
        last_day=day or "—",
        source=source,
        recorded_by=call.recorded_by,
        party_state="-".join(part for part in (member.party, member.state) if part),
        marks=_marks(call, changed := _changed_since(call, seen_at)),
        changed=changed,
    )


# Issue 14 (positions read off a roll call are labelled wherever they show) ---------------------


def _derived_note(position: Position | None) -> SafeString:
    """ "derived from roll call 39: <the question>" for a stance read off a vote, else ""."""
    if position is None or not position.derived_from_vote_id:
        return mark_safe("")
    return format_html(
        '<br><span class="derived">{}: {}</span>',
        position.derived_label,
        position.derived_question,
    )


# --------------------------------------------------------------------------------------------


def _seen_page(target: VoteTarget) -> str:
    return f"whip-{target.pk}"


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
        "query": request.GET.urlencode(),
    }
    attach_derived_votes(call.position for call in board.shown)  # issue 14: one query, labels
    marker = SeenMarker.objects.for_page(request.user, _seen_page(target))
    seen_at = marker.seen_at if marker is not None else None
    rows = {call.member.pk: _member_row(call, seen_at) for call in board.shown}
    context["marker"] = marker
    context["changed_count"] = sum(1 for row in rows.values() if row.changed)
    context["seen_page"] = _seen_page(target)
    # The roll calls stances were read off, each with its question: said once, above the board.
    context["derived_votes"] = sorted(
        {
            call.position.derived_from_vote_id: call.position.derived_from_vote
            for call in board.shown
            if call.position is not None and call.position.derived_from_vote_id
        }.values(),
        key=lambda vote: vote.roll_number or 0,
    )
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
    """The board: the count against the threshold, then each group as a column of names. Live:
    a poll gets the count and the columns when anything changed, keeping any member form open
    (hx-preserve), so what is being typed there stays."""
    polled = live.is_poll(request)
    if polled:
        not_modified, stamp = live.unchanged(request)
        if not_modified is not None:
            return not_modified
    else:
        stamp = live.current_stamp()
    target = _get_target(pk)
    board, form = _board_from_request(request, target)
    if board is None:
        template = "whip/board.html#filter-errors" if request.htmx else "whip/board.html"
        return render(request, template, {"target": target, "form": form}, status=400)
    if polled:
        template = "whip/board.html#live-parts"
    else:
        template = "whip/board.html#board" if request.htmx else "whip/board.html"
    context = _board_context(request, target, board) | {"form": form}
    context |= live.poll_context(request, stamp)
    return live.stamped(render(request, template, context), stamp)


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


def _position_form(target: VoteTarget, member: Stakeholder, data: object = None) -> PositionForm:
    links = list(target.links.all())
    return PositionForm(
        data,
        provisions=[link.provision for link in links if link.provision_id],
        demands=[link.demand for link in links if link.demand_id],
        whip_target_id=target.pk,
        prefix=f"m{member.pk}",
    )


@permission_needed("tracker.add_position", "record positions")
@require_http_methods(["GET", "POST"])
def whip_position_record(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Record a member's position on one of the vote's items, straight from the board. A GET
    shows the form (in the member's row with HTMX, as a page without)."""
    target = _get_target(pk)
    member = _get_member(target, member_pk)
    form = _position_form(target, member, request.POST if request.method == "POST" else None)
    if request.method == "GET" or not form.is_valid():
        return _member_form(request, target, member, form, "record")
    member.record_position(by=request.user, **form.position_kwargs())
    return _after_write(request, target, f"Recorded {member.name}'s position.")


@permission_needed("tracker.add_stanceoverride", "override the count")
@require_http_methods(["GET", "POST"])
def whip_override_set(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """Count a member differently from what the positions say, with a note saying why."""
    target = _get_target(pk)
    member = _get_member(target, member_pk)
    form = OverrideForm(request.POST or None, prefix=f"o{member.pk}")
    if request.method == "GET" or not form.is_valid():
        return _member_form(request, target, member, form, "override")
    set_override(
        target,
        member,
        stance=form.cleaned_data["stance"],
        note=form.cleaned_data["note"],
        by=request.user,
    )
    return _after_write(request, target, f"Updated how {member.name} is counted.")


def _member_form(
    request: HttpRequest, target: VoteTarget, member: Stakeholder, form: forms.Form, kind: str
) -> HttpResponse:
    """The record or override form for one member: in its row with HTMX, or as a page."""
    context = {"target": target, "member": member, "form": form, "kind": kind}
    status = 422 if form.is_bound else 200
    if not request.htmx:
        return render(request, "whip/member_form.html", context, status=status)
    return render(request, "whip/member_form.html#member-form", context, status=status)


def _after_write(request: HttpRequest, target: VoteTarget, message: str) -> HttpResponse:
    url = reverse("tracker-whip-board", args=[target.pk])
    if not request.htmx:
        messages.success(request, message)
        return redirect(url)
    # The board comes back whole (as of today, unfiltered) so every count moves at once; the
    # member keeps the focus in their new place, and the confirmation is announced.
    board = build_board(target)
    member_pk = int(request.resolver_match.kwargs["member_pk"])
    context = _board_context(request, target, board) | {"flash": message, "focus_member": member_pk}
    context |= live.poll_context(request, live.current_stamp())
    context["live_url"] = reverse("tracker-whip-board", args=[target.pk]) + "?live=1"
    return render(request, "whip/board.html#board", context)


@permission_needed("tracker.change_votetarget", "link a roll call to a whip count")
@require_http_methods(["GET", "POST"])
def whip_target_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the target's roll call by hand, where the feeds found none or several that could
    be it; predicted vs actual follows at once."""
    target = _get_target(pk)
    candidates = candidate_votes(target, days=3)
    error = ""
    if request.method == "POST":
        chosen = next((v for v in candidates if str(v.pk) == request.POST.get("vote")), None)
        if chosen is not None:
            settle(target, chosen, by=request.user)
            messages.success(request, f"Linked roll call {chosen.roll_number or ''} to the count.")
            return redirect("tracker-whip-results", pk=target.pk)
        error = "Choose one of the roll calls listed."
    context = {
        "target": target,
        "candidates": candidates,
        "matching": matching_votes(target),
        "error": error,
    }
    return render(request, "whip/link.html", context, status=422 if error else 200)


@login_required
@require_GET
def whip_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Predicted vs actual: the board the day before the roll call, against the casts."""
    target = _get_target(pk)
    scorecard = predicted_vs_actual(target)
    return render(request, "whip/results.html", {"target": target, "scorecard": scorecard})

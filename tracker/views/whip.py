"""The whip board for a vote target, its as-of view and CSV, recording positions and overrides
from the board, and the projection checked against the roll call."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from tracker import page_cache
from tracker.charts import count_over_time
from tracker.exports import WHIP_HEADER, csv_response, whip_board_rows
from tracker.forms import PositionForm
from tracker.models import Position, SeenMarker, Stakeholder, Stance, attach_derived_votes
from tracker.models.validators import validate_recorded_date
from tracker.models.whip import VoteTarget, VoteTargetLink
from tracker.views import live
from tracker.views.access import permission_needed
from tracker.whip import (
    MemberCall,
    Threshold,
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


def _get_target(pk: int, *, links: bool = True) -> VoteTarget:
    targets = VoteTarget.objects.select_related("negotiation", "vote")
    if links:
        targets = targets.prefetch_related(_LINKS)
    return get_object_or_404(targets, pk=pk)


# The links come with their items in one query (not one per relation); the board reuses them.
# Pages kept per change read them only when they draw afresh.
_LINKS = Prefetch("links", queryset=VoteTargetLink.objects.select_related("provision", "demand"))


def _with_links(target: VoteTarget) -> VoteTarget:
    prefetch_related_objects([target], _LINKS)
    return target


def _get_member(target: VoteTarget, member_pk: int) -> Stakeholder:
    return get_object_or_404(
        Stakeholder.objects.in_chamber(target.chamber).serving_on(timezone.localdate()),
        pk=member_pk,
    )


def _board_filters(request: HttpRequest, target: VoteTarget) -> tuple[dict | None, forms.Form]:
    """The day and filters the board is asked for (None when the form is invalid)."""
    form = BoardFilterForm(request.GET)
    if not form.is_valid():
        return None, form
    # A vote already taken opens as of its day: the board as it stood when the Senate voted.
    default_day = target.vote.voted_on if target.vote_id else timezone.localdate()
    filters = {
        "day": form.cleaned_data["as_of"] or default_day,
        "party": form.cleaned_data["party"],
        "state": form.cleaned_data["state"].upper(),
    }
    return filters, form


# The member tables are the bulk of the page (a hundred senators, four hundred and thirty-five
# representatives). Walking each call through a dozen template lookups and filters made
# rendering most of the page's time, so every row's values are written once here, escaped by
# format_html, and the template only places them. What is the same for everyone (the count,
# the rows' text, the chart) is kept once per change of the data (BoardSnapshot); a viewer's
# own parts (new since their last visit, the Editor's links, the focus after a write) are added
# to the kept rows on each request.


def _day(on: date) -> str:
    return f"{on:%b} {on.day}, {on.year}"  # as the |date:"M j, Y" filter writes it


class MemberRow(NamedTuple):
    """A member as everyone sees them, written once. A tuple, as it is kept: a hundred or four
    hundred and thirty-five of them are read back on every view."""

    pk: int
    label: str
    group: str
    group_label: str
    last_day: SafeString
    source: SafeString
    # The board's row: the opening of its <li>, its summary line (name, party-state and short
    # marks: override, read off a roll call, stale; each explained once, above), and why the
    # member is counted so.
    opening: str
    summary: str
    marks: str
    why: str
    # When the call last changed (a position recorded, an override set): "new" for a viewer
    # whose last visit was before it.
    changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class BoardFigures:
    """The board's count and filter choices, as its template reads them off a Board."""

    day: date
    party: str
    state: str
    parties: list[str]
    states: list[str]
    threshold: Threshold
    counts: dict[str, int]
    yes: int
    no: int
    still_needed: int
    is_past: bool


@dataclass(frozen=True, slots=True)
class DerivedVote:
    roll_number: int | None
    question: str


@dataclass(frozen=True)
class BoardSnapshot:
    """What a board shows every viewer alike, drawn once per change of the data."""

    board: BoardFigures
    # What the vote is about (its linked provisions and demands), for the page's heading.
    about: str
    derived_votes: list[DerivedVote]
    columns: list[tuple[str, str, list[MemberRow]]]
    # The chart and the persuadable table, as the template drew them.
    chart_and_persuadable: str


DERIVED_MARK = (
    '<span class="mark-sym">†<span class="visually-hidden"> read off a roll call</span></span>'
)
NEW_MARK = '<span class="badge new">new</span>'


def _changed_at(call: MemberCall) -> datetime | None:
    times = []
    if call.override is not None:
        times.append(call.override.set_at)
    if call.position is not None:
        times.append(call.position.recorded_at)
    return max(times, default=None)


def _marks(call: MemberCall) -> str:
    marks = []
    if call.override is not None:
        marks.append('<span class="mark">override</span>')
    elif call.position is not None and call.position.derived_from_vote_id:
        marks.append(DERIVED_MARK)
    if call.is_stale:
        marks.append('<span class="mark stale">stale</span>')
    # Fixed markup only: no value from staff or a feed goes in.
    return " ".join(marks)


def _member_row(call: MemberCall) -> MemberRow:
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
    party_state = "-".join(part for part in (member.party, member.state) if part)
    return MemberRow(
        pk=member.pk,
        label=str(member),
        group=call.group,
        group_label=call.group_label,
        last_day=day or mark_safe("—"),
        source=source,
        opening=format_html(
            '<li id="member-{}" data-member="{}" data-group="{}"',
            member.pk,
            member.name,
            call.group,
        ),
        summary=format_html('{} <span class="pst">{}</span>', member.name, party_state),
        marks=_marks(call),
        why=format_html(
            '<div class="member-why" hx-disable>{}'
            '<br><span class="muted small">{}{}{}</span></div>',
            why,
            format_html("{} · ", day) if day else "",
            source,
            format_html(" · {}", call.recorded_by) if call.recorded_by else "",
        ),
        changed_at=_changed_at(call),
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


def _board_snapshot(target: VoteTarget, *, day: date, party: str, state: str) -> BoardSnapshot:
    board = build_board(_with_links(target), day=day, party=party, state=state)
    shown = board.shown
    attach_derived_votes(call.position for call in shown)  # issue 14: one query, labels
    rows = {call.member.pk: _member_row(call) for call in shown}
    points = [(point.day, point.yes, point.no) for point in board.history]
    if points and points[-1][0] != board.day:
        points.append((board.day, board.yes, board.no))
    # The roll calls stances were read off, each with its question: said once, above the board.
    derived = {
        call.position.derived_from_vote_id: call.position.derived_from_vote
        for call in shown
        if call.position is not None and call.position.derived_from_vote_id
    }
    return BoardSnapshot(
        board=BoardFigures(
            day=board.day,
            party=board.party,
            state=board.state,
            parties=board.parties,
            states=board.states,
            threshold=board.threshold,
            counts=board.counts,
            yes=board.yes,
            no=board.no,
            still_needed=board.still_needed,
            is_past=board.is_past,
        ),
        derived_votes=[
            DerivedVote(vote.roll_number, vote.question)
            for vote in sorted(derived.values(), key=lambda vote: vote.roll_number or 0)
        ],
        columns=[
            (key, label, [rows[call.member.pk] for call in calls])
            for key, label, calls in board.columns
        ],
        about=render_to_string("whip/board.html#about", {"target": target}),
        chart_and_persuadable=render_to_string(
            "whip/board.html#chart-and-persuadable",
            {
                "chart": count_over_time(points, board.threshold.needed, board.threshold.seats),
                "persuadable": [rows[call.member.pk] for call in board.persuadable],
            },
        ),
    )


def _kept_board(
    target: VoteTarget, stamp: page_cache.Stamp, *, day: date, party: str, state: str
) -> BoardSnapshot:
    """The board's shared part, drawn once per change: every write that moves a count (a
    position, an override, a roll call linked, a vacancy or the target edited in the admin, a
    feed run) moves the stamp."""
    return page_cache.kept(
        "whip-board",
        target.pk,
        day,
        party,
        state,
        stamp=stamp,
        build=lambda: _board_snapshot(target, day=day, party=party, state=state),
    )


class _MemberItems:
    """Each member's <li> for one viewer: the kept row with their own parts added (new since
    their last visit, the Editor's links, the focus after a write). One reverse() per board,
    not two per member."""

    def __init__(
        self,
        request: HttpRequest,
        target: VoteTarget,
        *,
        seen_at: datetime | None,
        focus_member: int | None,
        polled: bool,
    ) -> None:
        self.seen_at = seen_at
        self.focus_member = focus_member
        self.preserve = ' hx-preserve="true"' if polled else ""
        self.record = self._url(request, "tracker-whip-position-record", "add_position", target)
        self.override = self._url(
            request, "tracker-whip-override-set", "add_stanceoverride", target
        )
        self.changed = 0

    @staticmethod
    def _url(
        request: HttpRequest, name: str, permission: str, target: VoteTarget
    ) -> tuple[str, str] | None:
        if not request.user.has_perm(f"tracker.{permission}"):
            return None
        start, end = reverse(name, args=[target.pk, 0]).rsplit("/0/", 1)
        return f"{start}/", f"/{end}"

    def _link(self, url: tuple[str, str] | None, pk: int, text: str) -> str:
        if url is None:
            return ""
        href = f"{url[0]}{pk}{url[1]}"
        return (
            f'<a href="{href}" hx-get="{href}" hx-target="#slot-{pk}" hx-swap="innerHTML">'
            f"{text}</a>"
        )

    def item(self, row: MemberRow) -> str:
        pk = row.pk
        changed = (
            self.seen_at is not None
            and row.changed_at is not None
            and row.changed_at > self.seen_at
        )
        self.changed += changed
        focused = pk == self.focus_member
        classes = ""
        if changed or focused:
            classes = f' class="{"changed" if changed else ""}{" just-updated" if focused else ""}"'
        marks = [NEW_MARK] if changed else []
        if row.marks:
            marks.append(row.marks)
        actions = ""
        if self.record or self.override:
            actions = (
                f'<p class="whip-actions">{self._link(self.record, pk, "Record position")}\n'
                f"            {self._link(self.override, pk, 'Override')}</p>"
            )
        return (
            f"\n      {row.opening}{classes}>\n"
            f"        <details><summary{' autofocus' if focused else ''}>{row.summary}"
            f"{' ' + ' '.join(marks) if marks else ''}</summary>\n"
            f"          {row.why}\n"
            f"          {actions}\n"
            "        </details>\n"
            f'        <div class="member-slot" id="slot-{pk}"{self.preserve}></div>\n'
            "      </li>\n    "
        )

    def column(self, rows: list[MemberRow]) -> SafeString:
        if not rows:
            return mark_safe('<li class="muted">Nobody.</li>\n    ')
        # Kept rows are escaped already (format_html); only fixed markup and numbers are added.
        return mark_safe("".join([self.item(row) for row in rows]))  # noqa: S308


def _seen_page(target: VoteTarget) -> str:
    return f"whip-{target.pk}"


def _board_context(
    request: HttpRequest,
    target: VoteTarget,
    snapshot: BoardSnapshot,
    *,
    polled: bool = False,
    focus_member: int | None = None,
) -> dict:
    marker = SeenMarker.objects.for_page(request.user, _seen_page(target))
    items = _MemberItems(
        request,
        target,
        seen_at=marker.seen_at if marker is not None else None,
        focus_member=focus_member,
        polled=polled,
    )
    columns = [(key, label, len(rows), items.column(rows)) for key, label, rows in snapshot.columns]
    return {
        "target": target,
        "board": snapshot.board,
        "about": mark_safe(snapshot.about),  # noqa: S308  (drawn by the template)
        "query": request.GET.urlencode(),
        "marker": marker,
        "changed_count": items.changed,
        "seen_page": _seen_page(target),
        "derived_votes": snapshot.derived_votes,
        "columns": columns,
        # Drawn by the template when kept; nothing in it comes unescaped.
        "chart_and_persuadable": mark_safe(snapshot.chart_and_persuadable),  # noqa: S308
    }


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
    target = _get_target(pk, links=False)
    filters, form = _board_filters(request, target)
    if filters is None:
        template = "whip/board.html#filter-errors" if request.htmx else "whip/board.html"
        context = {"target": _with_links(target), "form": form}
        return render(request, template, context, status=400)
    if polled:
        template = "whip/board.html#live-parts"
    else:
        template = "whip/board.html#board" if request.htmx else "whip/board.html"
    snapshot = _kept_board(target, stamp, **filters)
    context = _board_context(request, target, snapshot, polled=polled) | {"form": form}
    context |= live.poll_context(request, stamp)
    return live.stamped(render(request, template, context), stamp)


@login_required
@require_GET
def whip_board_csv(request: HttpRequest, pk: int) -> HttpResponse:
    target = _get_target(pk, links=False)
    filters, form = _board_filters(request, target)
    if filters is None:
        context = {"target": _with_links(target), "form": form}
        return render(request, "whip/board.html", context, status=400)
    # The rows are kept per change of the data, as the board's are.
    rows = page_cache.kept(
        "whip-board-csv",
        target.pk,
        *filters.values(),
        stamp=page_cache.current_stamp(),
        build=lambda: whip_board_rows(build_board(target, **filters)),
    )
    return csv_response(f"whip-{target.pk}-{filters['day'].isoformat()}.csv", WHIP_HEADER, rows)


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
    stamp = live.current_stamp()
    snapshot = _kept_board(target, stamp, day=timezone.localdate(), party="", state="")
    member_pk = int(request.resolver_match.kwargs["member_pk"])
    context = _board_context(request, target, snapshot, focus_member=member_pk)
    context |= {"flash": message, "focus_member": member_pk}
    context |= live.poll_context(request, stamp)
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
    target = _get_target(pk, links=False)
    scorecard_html = ""
    if target.vote_id:
        # Drawn once per change: a position, an override, the roll call or its casts.
        scorecard_html = page_cache.kept(
            "whip-results",
            target.pk,
            stamp=page_cache.current_stamp(),
            build=lambda: render_to_string(
                "whip/results.html#scorecard",
                {"target": target, "scorecard": predicted_vs_actual(target)},
            ),
        )
    return render(
        request,
        "whip/results.html",
        # Nothing in it comes unescaped: the template drew it.
        {"target": target, "scorecard_html": mark_safe(scorecard_html)},  # noqa: S308
    )

"""The dashboard: where the negotiation stands, at a glance."""

import re

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import link_to_target, make_demand, make_provision, make_vote_target
from tests.feed_events import BECAME_LAW, PASSED_SENATE, add_actions, make_package
from tracker.feed_effects import follow_bill
from tracker.funding import version_totals
from tracker.models import (
    Activity,
    Demand,
    Negotiation,
    PackageVersion,
    Provision,
    SeenMarker,
    Stakeholder,
    StatusProposal,
    Vote,
    VoteTarget,
)
from tracker.money import format_dollars
from tracker.page_cache import FRAGMENTS, current_stamp
from tracker.views import dashboard
from tracker.views.live import etag

pytestmark = pytest.mark.django_db


def test_staff_see_the_negotiation_at_a_glance(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    page = client.get(reverse("tracker-home")).content.decode()
    assert demo.name in page
    assert "$95.34B" in page  # the enacted topline
    assert "Senate bipartisan deal" in page
    assert "Enacted</a> <strong>12</strong>" in page  # provisions counted by status
    assert "US-Mexico cooperation" in page  # the one demand still open
    assert "roll 154" in page  # recent votes


def test_an_empty_install_says_how_to_load_the_demo(client: Client, viewer, demo) -> None:
    Negotiation.objects.all().delete()
    client.force_login(viewer)
    response = client.get(reverse("tracker-home"))
    assert response.status_code == 404
    assert "load_demo" in response.content.decode()


def test_the_health_check_needs_no_login(client: Client) -> None:
    response = client.get(reverse("tracker-health"))
    assert response.status_code == 200 and response.content == b"ok"


# Drawn once per change ---------------------------------------------------------------------------
# What every viewer sees alike (the floor, the whip count, the activity, the totals) is kept per
# data stamp; the last visit and the forms are each viewer's own.

HTMX = {"HX-Request": "true"}


def _home(client: Client) -> str:
    """The page, its CSRF tokens (masked afresh for every response) left out."""
    response = client.get(reverse("tracker-home"))
    assert response.status_code == 200
    page = response.content.decode()
    return re.sub(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"', r"\1", page)


def test_a_second_view_is_the_page_drawn_afresh(client: Client, viewer, demo, monkeypatch):
    totals = []
    monkeypatch.setattr(
        dashboard, "version_totals", lambda pk: totals.append(pk) or version_totals(pk)
    )
    client.force_login(viewer)
    first = _home(client)
    second = _home(client)
    assert totals == [demo.pk]  # the versions' totals, like the other kept parts, read once
    caches[FRAGMENTS].clear()
    assert first == second == _home(client)


def test_a_change_by_a_colleague_shows_on_the_next_view(client: Client, viewer, editor, demo):
    client.force_login(viewer)
    _home(client)
    provision = make_provision(demo, title="Added in conference")
    version = PackageVersion.objects.get(negotiation=demo, stage="enacted")
    moving = next(p for p in Provision.objects.filter(negotiation=demo) if p.next_statuses)
    status, label = moving.next_statuses[0]
    counted = Provision.objects.filter(negotiation=demo, status=status).count()

    note = Activity.add_note(provision, "Leader: the deal holds", by=editor)
    provision.set_amount(version, 1_000_000_000_000, by=editor)
    moving.change_status(status, by=editor)

    page = _home(client)
    assert note.summary in page.split('id="latest-activity"', 1)[1].split("</ol>", 1)[0]
    assert f"{label}</a> <strong>{counted + 1}</strong>" in page
    law = page.split(f"<td>{version.name}</td>", 1)[1].split("</tr>", 1)[0]
    lines_total = version_totals(demo.pk)[-1].lines_total.amount
    assert lines_total > 1_000_000_000_000 and format_dollars(lines_total) in law


def test_the_whip_count_moves_with_a_position(client: Client, viewer, demo, demo_targets):
    target = make_vote_target(demo, motion="Cloture on the next package", expected_on=None)
    provision = make_provision(demo)
    link_to_target(target, provision=provision)
    VoteTarget.objects.filter(negotiation=demo).exclude(pk=target.pk).update(
        vote=Vote.objects.filter(chamber="senate").first()
    )
    client.force_login(viewer)
    assert "<strong>0</strong> yes of" in _home(client)

    murkowski = Stakeholder.objects.get(slug="lisa-murkowski")
    murkowski.record_position(
        stance="firm_support", as_of=timezone.localdate(), provision=provision
    )

    assert "<strong>1</strong> yes of" in _home(client)


def test_since_your_last_visit_is_each_users_own(client: Client, viewer, editor, demo) -> None:
    SeenMarker.mark(editor, "dashboard", activity_id=Activity.objects.order_by("id")[5].pk)
    client.force_login(editor)
    assert "first visit" not in _home(client)
    client.force_login(viewer)
    assert "first visit" in _home(client)
    client.force_login(editor)
    assert "first visit" not in _home(client)


@pytest.fixture
def proposal(settings) -> StatusProposal:
    package = make_package()
    settings.CURRENT_NEGOTIATION = package["bill"].negotiation.slug
    add_actions(package["bill"], PASSED_SENATE, BECAME_LAW)
    follow_bill(package["bill"])
    return StatusProposal.objects.get(provision=package["red_sea"])


def test_only_an_editor_gets_the_proposals_buttons(client: Client, viewer, editor, proposal):
    decide = f"/provisions/proposals/{proposal.pk}/decide"
    client.force_login(editor)
    assert decide in _home(client)
    client.force_login(viewer)
    page = _home(client)
    assert f'id="proposal-{proposal.pk}"' in page and decide not in page
    client.force_login(editor)
    assert decide in _home(client)


def test_a_poll_brings_the_moved_parts_and_the_page_stays_whole(
    client: Client, editor, demo
) -> None:
    client.force_login(editor)
    stamp = current_stamp()
    _home(client)
    note = Activity.add_note(
        Provision.objects.filter(negotiation=demo).first(), "Vote at 5", by=editor
    )

    polled = client.get("/?live=1", headers={**HTMX, "If-None-Match": etag(stamp)})
    body = polled.content.decode()
    assert '<ol class="timeline" id="latest-activity" hx-swap-oob="true">' in body
    assert note.summary in body and "Package versions" not in body

    page = _home(client)
    assert '<ol class="timeline" id="latest-activity">' in page and note.summary in page


def test_a_long_list_of_open_demands_shows_the_first_ten(client: Client, viewer, demo) -> None:
    for n in range(11):
        make_demand(demo, title=f"Zz demand {n:02}", status="raised")
    open_count = Demand.objects.filter(negotiation=demo).open().count()
    client.force_login(viewer)
    page = _home(client)
    demands = page.split('id="demands-heading"', 1)[1].split("</section>", 1)[0]
    assert demands.count("<li>") == 10 and "Zz demand 10" not in demands
    assert f'<a href="/demands/">All demands</a> <span class="muted">({open_count} open)' in demands

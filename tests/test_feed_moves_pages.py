"""What staff see of what the feeds moved: where the negotiation stands on the dashboard, the
Senate floor on a bill's page, proposals to accept or dismiss, and a feed's move undone."""

import pytest
from django.test import Client

from tests.feed_events import BECAME_LAW, PASSED_SENATE, add_actions, make_package
from tracker.demo import replay
from tracker.feed_effects import follow_bill
from tracker.feeds import sync
from tracker.models import Activity, ActivityKind, Bill, Provision, StatusProposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_815_refreshed(demo) -> Bill:
    """The demo after a refresh of H.R. 815 from its recorded actions."""
    with replay.serving():
        sync.refresh_bills(["118-hr-815"])
    return Bill.objects.by_key("118-hr-815")


def test_the_dashboard_says_where_the_negotiation_stands(client: Client, viewer, hr_815_refreshed):
    client.force_login(viewer)

    page = client.get("/").content.decode()

    assert "Where it stands" in page
    assert "<strong>became Public Law 118-50</strong> on Apr 24, 2024" in page
    assert hr_815_refreshed.actions_url in page
    assert "<strong>Failed</strong> on Feb 7, 2024" in page  # the Senate deal's cloture
    assert "<strong>Passed the Senate</strong> on Feb 13, 2024" in page


def test_a_bill_page_shows_its_senate_floor_procedure(client: Client, viewer, hr_815_refreshed):
    client.force_login(viewer)

    page = client.get(f"/bills/{hr_815_refreshed.pk}/").content.decode()

    assert "Senate floor" in page
    assert "Cloture on the motion to proceed not invoked" in page
    assert "number not in the record" in page  # the Feb 9 motion to proceed
    assert ">No. 48</a>" in page  # linked to the stored roll call


@pytest.fixture
def package() -> dict:
    return make_package()


@pytest.fixture
def proposal(package) -> StatusProposal:
    add_actions(package["bill"], PASSED_SENATE, BECAME_LAW)
    follow_bill(package["bill"])
    return StatusProposal.objects.get(provision=package["red_sea"])


def test_an_editor_accepts_a_proposal_in_place(client: Client, editor, proposal) -> None:
    client.force_login(editor)
    provision = proposal.provision

    response = client.post(
        f"/provisions/proposals/{proposal.pk}/decide",
        {"decision": "accept", "revision": provision.revision},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert f'id="proposal-{proposal.pk}"' in body and "is now Dropped" in body
    provision.refresh_from_db()
    assert provision.status == "dropped"
    change = Activity.objects.filter(provision=provision, actor=editor).get()
    assert change.kind == ActivityKind.STATUS_CHANGE


def test_a_proposal_on_a_provision_changed_since_is_refused(
    client: Client, editor, proposal
) -> None:
    client.force_login(editor)
    stale = proposal.provision.revision - 1

    response = client.post(
        f"/provisions/proposals/{proposal.pk}/decide",
        {"decision": "accept", "revision": stale},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 409 and "Not changed" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.state == "open"


def test_dismissing_without_javascript_returns_to_the_page(client: Client, editor, proposal):
    client.force_login(editor)

    response = client.post(
        f"/provisions/proposals/{proposal.pk}/decide", {"decision": "dismiss", "next": "/"}
    )

    assert response.status_code == 302 and response.url == "/"
    proposal.refresh_from_db()
    assert proposal.state == "dismissed" and proposal.decided_by == editor


def test_a_viewer_cannot_decide(client: Client, viewer, proposal) -> None:
    client.force_login(viewer)
    response = client.post(f"/provisions/proposals/{proposal.pk}/decide", {"decision": "dismiss"})
    assert response.status_code == 403


def test_staff_can_undo_a_feeds_move_even_out_of_enacted(client: Client, editor, package):
    add_actions(package["bill"], PASSED_SENATE, BECAME_LAW)
    follow_bill(package["bill"])
    ukraine = Provision.objects.get(pk=package["ukraine"].pk)
    assert ukraine.status == "enacted"
    client.force_login(editor)
    page = client.get(f"/provisions/{ukraine.pk}/").content.decode()
    assert "Undo the feed&#x27;s move" in page or "Undo the feed's move" in page

    response = client.post(
        f"/provisions/{ukraine.pk}/status",
        {"status": "passed_senate", "revision": ukraine.revision, "shown_in": "detail"},
    )

    assert response.status_code == 302
    ukraine.refresh_from_db()
    assert ukraine.status == "passed_senate"
    # Staff undoing a staff change is still the workflow's business: Enacted stays final.
    assert ukraine.feed_move_to_undo() == ""

"""Editors add demands, edit them without overwriting a colleague, and move them along."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_user
from tracker import roles
from tracker.models import Activity, ActivityKind, Demand, Provision, Stakeholder

pytestmark = pytest.mark.django_db


def _demand_data(**changes) -> dict:
    gonzales = Stakeholder.objects.get(slug="tony-gonzales")
    judges = Provision.objects.get(slug="immigration-judges-surge")
    return {
        "title": "Hire 100 more immigration judges",
        "demanded_by": gonzales.pk,
        "asks": "Fund 100 judge teams at the border",
        "in_exchange_for": "Votes for the supplemental",
        "raised_on": "2024-01-10",
        "source_url": "https://example.org/gonzales",
        "provisions": [judges.pk],
        "notes": "",
    } | changes


def test_an_editor_adds_a_demand_and_it_reaches_the_timeline(client: Client, editor, demo) -> None:
    client.force_login(editor)
    response = client.post(reverse("tracker-demand-create"), _demand_data())
    demand = Demand.objects.get(title="Hire 100 more immigration judges")
    assert response["Location"] == demand.get_absolute_url()
    assert demand.slug == "hire-100-more-immigration-judges"
    assert list(demand.provisions.values_list("slug", flat=True)) == ["immigration-judges-surge"]
    assert Activity.objects.filter(demand=demand, kind=ActivityKind.DEMAND_CHANGE).exists()
    page = client.get(demand.get_absolute_url()).content.decode()
    assert "Votes for the supplemental" in page and "Tony Gonzales" in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"title": ""}, "This field is required."),
        ({"source_url": "javascript:alert(1)"}, "Enter a valid URL."),
        ({"raised_on": "2999-01-01"}, "cannot be in the future"),
        ({"provisions": [999999]}, "Select a valid choice."),
    ],
)
def test_a_bad_demand_form_is_shown_again_and_saves_nothing(
    client: Client, editor, demo, changes: dict, error: str
) -> None:
    client.force_login(editor)
    before = Demand.objects.count()
    response = client.post(reverse("tracker-demand-create"), _demand_data(**changes))
    assert response.status_code == 422
    assert error in response.content.decode()
    assert (
        'value="Fund 100 judge teams at the border"' in response.content.decode()
        or "Fund 100 judge teams at the border" in response.content.decode()
    )
    assert Demand.objects.count() == before


def test_an_edit_based_on_an_old_revision_keeps_both_versions_visible(
    client: Client, editor, demo
) -> None:
    demand = Demand.objects.get(slug="link-border-to-aid")
    colleague = make_user("bob", role=roles.EDITOR)
    demand.change_status("raised", by=colleague, based_on_revision=demand.revision)
    client.force_login(editor)
    data = {name: getattr(demand, name) or "" for name in ("title", "asks", "in_exchange_for")}
    data |= {
        "demanded_by": demand.demanded_by_id,
        "revision": 1,
        "source_url": demand.source_url,
        "provisions": list(demand.provisions.values_list("pk", flat=True)),
        "asks": "My rewording of the ask",
    }

    response = client.post(reverse("tracker-demand-edit", args=[demand.pk]), data)

    body = response.content.decode()
    assert response.status_code == 409
    assert "Not saved: bob changed this demand" in body
    assert "My rewording of the ask" in body
    demand.refresh_from_db()
    assert demand.asks != "My rewording of the ask"
    data["revision"] = demand.revision
    assert client.post(reverse("tracker-demand-edit", args=[demand.pk]), data).status_code == 302
    demand.refresh_from_db()
    assert demand.asks == "My rewording of the ask"


def test_a_demand_status_changes_inline(client: Client, editor, demo) -> None:
    demand = Demand.objects.get(slug="link-border-to-aid")
    client.force_login(editor)
    response = client.post(
        reverse("tracker-demand-status", args=[demand.pk]),
        {"status": "raised", "revision": demand.revision},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="demand-status"' in body and 'hx-swap-oob="innerHTML:#demand-history"' in body
    demand.refresh_from_db()
    assert demand.status == "raised"


def test_a_forged_demand_transition_is_refused(client: Client, editor, demo) -> None:
    demand = Demand.objects.get(slug="link-border-to-aid")  # withdrawn: only "raised" is next
    client.force_login(editor)
    response = client.post(
        reverse("tracker-demand-status", args=[demand.pk]),
        {"status": "accepted", "revision": demand.revision},
    )
    assert response.status_code == 422
    assert "cannot move from Withdrawn to Accepted" in response.content.decode()

"""Editors add demands, edit them without overwriting a colleague, and move them along."""

import re

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from tests.factories import make_demand, make_user
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


# Drawn once per change ----------------------------------------------------------------------

TOKENS = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')


def _page(client: Client, url: str, **query: str) -> str:
    response = client.get(url, query)
    assert response.status_code == 200
    return TOKENS.sub(r"\1…", response.content.decode())


def test_the_demand_list_shows_a_page_at_a_time_with_its_filters_kept(
    client: Client, viewer, demo
) -> None:
    for n in range(60):
        make_demand(demo, title=f"Border ask {n:02}", status="raised")
    client.force_login(viewer)
    url = reverse("tracker-demand-list")

    first = _page(client, url, q="border ask", status="raised", other="x")
    second = client.get(
        url, {"q": "border ask", "status": "raised", "page": 2}, headers={"HX-Request": "true"}
    )

    assert first.count("Border ask ") == 50 and "Border ask 00" in first
    assert 'href="?q=border+ask&amp;status=raised&amp;page=2"' in first
    assert "other=" not in first.split('id="demand-results"')[1]
    fragment = second.content.decode()
    assert "<html" not in fragment and 'id="demand-results"' in fragment
    assert fragment.count("Border ask ") == 10 and "Border ask 59" in fragment


def test_the_demand_list_is_drawn_once_then_again_after_a_change(
    client: Client, viewer, editor, demo
) -> None:
    client.force_login(viewer)
    url = reverse("tracker-demand-list")
    first = _page(client, url)
    assert _page(client, url) == first
    caches["template_fragments"].clear()
    assert _page(client, url) == first
    # Each filter has its own list.
    judges = _page(client, url, q="judges")
    assert "migrant shelter costs" in first and "migrant shelter costs" not in judges

    demand = Demand.objects.get(slug="link-border-to-aid")
    client.force_login(editor)
    client.post(
        reverse("tracker-demand-status", args=[demand.pk]),
        {"status": "raised", "revision": demand.revision},
    )
    client.force_login(viewer)
    row = re.compile(rf'href="/demands/{demand.pk}/".*?</tr>', re.S)
    assert "demand-withdrawn" in row.search(first.split("<tbody")[1]).group(0)
    assert "demand-raised" in row.search(_page(client, url).split("<tbody")[1]).group(0)


def test_a_demand_page_is_drawn_once_and_its_forms_are_the_viewers_own(
    client: Client, viewer, editor, demo
) -> None:
    demand = Demand.objects.get(slug="link-border-to-aid")
    client.force_login(viewer)
    first = _page(client, demand.get_absolute_url())
    assert _page(client, demand.get_absolute_url()) == first
    caches["template_fragments"].clear()
    assert _page(client, demand.get_absolute_url()) == first

    client.force_login(editor)
    as_editor = _page(client, demand.get_absolute_url())
    assert 'id="demand-new-status"' in as_editor and 'id="demand-new-status"' not in first

    murkowski = Stakeholder.objects.get(slug="lisa-murkowski")
    client.post(
        reverse("tracker-position-create", args=[murkowski.pk]),
        {
            "target": f"demand:{demand.pk}",
            "stance": "firm_oppose",
            "as_of": "2024-05-20",
            "source_url": "https://example.org/murkowski",
            "statement_kind": "paraphrase",
        },
    )
    client.force_login(viewer)
    after = _page(client, demand.get_absolute_url())
    assert "Lisa Murkowski" not in first and "Lisa Murkowski" in after
    assert 'id="demand-new-status"' not in after

"""Every page: anonymous visitors log in first, Viewers read, only Editors write."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_provision
from tracker.models import Demand, Provision, Stakeholder

pytestmark = pytest.mark.django_db


def _read_urls() -> list[str]:
    provision = Provision.objects.get(slug="senate-deal-package")
    demand = Demand.objects.get(slug="link-border-to-aid")
    senator = Stakeholder.objects.get(slug="james-lankford")
    return [
        reverse("tracker-home"),
        reverse("tracker-provision-list"),
        reverse("tracker-provision-list") + "?q=border&status=dropped&sort=-updated_at",
        reverse("tracker-provision-detail", args=[provision.pk]),
        reverse("tracker-demand-list"),
        reverse("tracker-demand-detail", args=[demand.pk]),
        reverse("tracker-stakeholder-list") + "?chamber=senate&party=R",
        reverse("tracker-stakeholder-detail", args=[senator.pk]),
        reverse("tracker-position-grid"),
        reverse("tracker-position-grid") + "?show=all",
        reverse("tracker-timeline"),
        reverse("tracker-timeline") + f"?kind=vote&provision={provision.pk}",
    ]


def _write_urls() -> list[str]:
    provision = Provision.objects.get(slug="senate-deal-package")
    demand = Demand.objects.get(slug="link-border-to-aid")
    senator = Stakeholder.objects.get(slug="james-lankford")
    return [
        reverse("tracker-provision-status", args=[provision.pk]),
        reverse("tracker-provision-note", args=[provision.pk]),
        reverse("tracker-provision-amounts", args=[provision.pk]),
        reverse("tracker-demand-create"),
        reverse("tracker-demand-edit", args=[demand.pk]),
        reverse("tracker-demand-status", args=[demand.pk]),
        reverse("tracker-demand-note", args=[demand.pk]),
        reverse("tracker-position-create", args=[senator.pk]),
        reverse("tracker-stakeholder-note", args=[senator.pk]),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client: Client, demo) -> None:
    for url in _read_urls() + _write_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_an_htmx_request_without_a_session_gets_a_full_page_redirect(client: Client, demo) -> None:
    response = client.get(reverse("tracker-provision-list"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login"))
    assert b"<form" not in response.content


def test_a_viewer_reads_every_page(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    for url in _read_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"<html" in response.content, url


def test_a_viewer_is_refused_every_write_with_a_reason(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    for url in _write_urls():
        response = client.post(url, {"status": "dropped", "revision": 1, "text": "hi"})
        assert response.status_code == 403, url
        assert b"Your role can read but not" in response.content, url


def test_a_viewer_sees_no_edit_controls(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    for url in _read_urls():
        page = client.get(url).content.decode()
        assert 'name="revision"' not in page, url
        assert "Record a position" not in page, url
        assert "Add note" not in page, url


def test_an_editor_sees_the_controls(client: Client, editor, demo) -> None:
    client.force_login(editor)
    provision = Provision.objects.get(slug="aid-without-border")
    in_text = make_provision(demo, title="A line still in the text", status="in_text")
    assert "Final: no further status." in client.get(provision.get_absolute_url()).content.decode()
    detail = client.get(in_text.get_absolute_url()).content.decode()
    assert 'name="revision"' in detail and "Add note" in detail
    senator = Stakeholder.objects.get(slug="james-lankford")
    assert "Record a position" in client.get(senator.get_absolute_url()).content.decode()


@pytest.mark.parametrize("method", ["put", "delete"])
def test_writes_accept_only_post(client: Client, editor, demo, method: str) -> None:
    client.force_login(editor)
    url = reverse("tracker-provision-status", args=[Provision.objects.first().pk])
    assert getattr(client, method)(url).status_code == 405


def test_htmx_requests_get_fragments_of_the_list_pages(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    for name, fragment_id in [
        ("tracker-provision-list", 'id="provision-results"'),
        ("tracker-demand-list", 'id="demand-results"'),
        ("tracker-stakeholder-list", 'id="stakeholder-results"'),
        ("tracker-position-grid", 'id="position-grid"'),
    ]:
        response = client.get(reverse(name), headers={"HX-Request": "true"})
        body = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in body, name
        assert fragment_id in body, name

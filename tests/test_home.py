import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    response = client.get(reverse("tracker-home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_see_the_negotiation_at_a_glance(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    page = client.get(reverse("tracker-home")).content.decode()
    assert demo.name in page
    assert "$95.34B" in page  # the enacted topline
    assert "Senate bipartisan" in page or "Senate deal" in page


def test_an_empty_install_says_how_to_load_the_demo(client: Client, viewer) -> None:
    client.force_login(viewer)
    assert "load_demo" in client.get(reverse("tracker-home")).content.decode()

"""The dashboard: where the negotiation stands, at a glance."""

import pytest
from django.test import Client
from django.urls import reverse

from tracker.models import Negotiation

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

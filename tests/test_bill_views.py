"""A bill's page is drawn once per change and shared by every viewer: a feed run that brings
the bill's new actions shows on it at once."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tracker.demo import replay
from tracker.feeds import sync
from tracker.models import Bill

pytestmark = pytest.mark.django_db


def test_the_page_is_drawn_once_and_then_served_as_it_was(client: Client, viewer, demo) -> None:
    bill = Bill.objects.by_key("118-hr-815")
    client.force_login(viewer)
    url = reverse("tracker-bill-detail", args=[bill.pk])

    first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url).content.decode()

    assert _without_tokens(again) == _without_tokens(first)
    assert bill.title in first
    assert not [query for query in captured if "tracker_billaction" in query["sql"]]


def test_a_feed_refresh_of_the_bill_shows_at_once(client: Client, viewer, editor, demo) -> None:
    bill = Bill.objects.by_key("118-hr-815")
    url = reverse("tracker-bill-detail", args=[bill.pk])
    client.force_login(viewer)
    before = client.get(url).content.decode()

    with replay.serving():
        sync.refresh_bills(["118-hr-815"])
    client.force_login(editor)
    after = client.get(url).content.decode()

    assert ">No. 48</a>" not in before
    assert ">No. 48</a>" in after  # the Senate floor, from the recorded actions


def test_an_unknown_bill_is_not_found(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    assert client.get(reverse("tracker-bill-detail", args=[99999])).status_code == 404


def _without_tokens(page: str) -> str:
    """The page as it reads: CSRF tokens are masked afresh on every response."""
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", page)

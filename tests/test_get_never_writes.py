"""A GET never writes: opening any page, fragment, form or export changes nothing stored (the
session aside), even for a new user whose digest defaults were never saved."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.pages import staff_pages
from tracker import digests
from tracker.models import DigestPreference, Watch

pytestmark = pytest.mark.django_db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# Logging in and moving about writes the session; that is the only table a GET may touch.
SESSION = re.compile(r'"?django_session"?', re.IGNORECASE)


def test_no_page_writes_anything_for_a_new_user(client: Client, editor, demo) -> None:
    client.force_login(editor)
    assert not DigestPreference.objects.filter(user=editor).exists()
    unsubscribe = f"/digests/unsubscribe/{digests.unsubscribe_token(editor)}/"
    urls = [*staff_pages(demo), unsubscribe]

    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        writes = [
            q["sql"] for q in queries if WRITE.match(q["sql"]) and not SESSION.search(q["sql"])
        ]
        assert writes == [], url

    assert not DigestPreference.objects.filter(user=editor).exists()
    assert not Watch.objects.filter(user=editor).exists()


def test_the_defaults_are_shown_before_they_are_stored(client: Client, editor, demo) -> None:
    client.force_login(editor)

    watches = client.get("/digests/watches/").content.decode()
    preferences = client.get("/digests/preferences/").content.decode()

    assert demo.name in watches  # the current negotiation, watched by default
    assert 'value="daily" selected' in preferences or "selected>Daily" in preferences


def test_the_first_save_stores_the_defaults_with_the_users_choice(
    client: Client, editor, demo
) -> None:
    client.force_login(editor)
    response = client.post(
        "/digests/preferences/",
        {"frequency": "weekly", "hour": 8, "weekday": 0, "time_zone": "America/New_York"},
    )
    assert response.status_code == 302
    assert DigestPreference.objects.get(user=editor).frequency == "weekly"
    assert Watch.objects.filter(user=editor, negotiation=demo).exists()

"""A GET never writes: opening any page, fragment, form or export changes nothing stored (the
session aside), even for a new user whose digest defaults were never saved."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tracker import digests
from tracker.models import (
    Bill,
    Demand,
    DigestPreference,
    Provision,
    Stakeholder,
    Vote,
    Watch,
)
from tracker.models.whip import VoteTarget

pytestmark = pytest.mark.django_db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# Logging in and moving about writes the session; that is the only table a GET may touch.
SESSION = re.compile(r'"?django_session"?', re.IGNORECASE)


def _every_page(demo) -> list[str]:
    provision = Provision.objects.filter(negotiation=demo).first()
    demand = Demand.objects.filter(negotiation=demo).first()
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    target = VoteTarget.objects.filter(links__provision__slug="senate-deal-package").first()
    bill = Bill.objects.filter(negotiation=demo).first()
    vote = Vote.objects.filter(casts__isnull=False).first()
    return [
        "/",
        "/provisions/",
        f"/provisions/{provision.pk}/",
        "/demands/",
        f"/demands/{demand.pk}/",
        f"/demands/{demand.pk}/edit",
        "/demands/new",
        "/stakeholders/",
        f"/stakeholders/{senator.pk}/",
        "/positions/",
        "/positions/grid.csv",
        "/timeline/",
        "/bills/",
        f"/bills/{bill.pk}/",
        "/votes/",
        f"/votes/{vote.pk}/",
        "/whip/",
        f"/whip/{target.pk}/",
        f"/whip/{target.pk}/board.csv",
        f"/whip/{target.pk}/results/",
        f"/whip/{target.pk}/members/{senator.pk}/position/",
        f"/whip/{target.pk}/members/{senator.pk}/override/",
        "/funding/",
        "/funding/comparison.csv",
        "/feeds/",
        "/digests/watches/",
        "/digests/preferences/",
        "/digests/preview",
        "/digests/preview/email.html",
    ]


def test_no_page_writes_anything_for_a_new_user(client: Client, editor, demo) -> None:
    client.force_login(editor)
    assert not DigestPreference.objects.filter(user=editor).exists()
    unsubscribe = f"/digests/unsubscribe/{digests.unsubscribe_token(editor)}/"
    urls = [*_every_page(demo), unsubscribe]

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

"""`manage.py send_digests`: the operator's way to run, inspect or replay the digest run."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command

from tests.factories import make_provision, make_user
from tracker import roles
from tracker.models import Activity, DigestDelivery, DigestPreference, Watch

SEND_TIME = datetime(2024, 2, 7, 7, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture
def subscribers(groups: dict) -> list:
    provision = make_provision()
    users = []
    with time_machine.travel(SEND_TIME - timedelta(days=7), tick=False):
        for name in ("sam", "tess"):
            user = make_user(name, role=roles.VIEWER)
            DigestPreference.objects.create(user=user)
            Watch.objects.create(user=user, provision=provision)
            users.append(user)
    an_hour_before = SEND_TIME - timedelta(hours=1)
    Activity.objects.create(
        negotiation=provision.negotiation,
        provision=provision,
        kind="note",
        occurred_at=an_hour_before,
        recorded_at=an_hour_before,
        summary="Something happened",
    )
    return users


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_digests", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_dry_run_lists_who_is_due_and_sends_nothing(subscribers: list) -> None:
    output = run("--dry-run", "--now", "2024-02-07T07:05:00-05:00")

    assert "sam daily:2024-02-07: due" in output
    assert "tess daily:2024-02-07: due" in output
    assert mail.outbox == []
    assert not DigestDelivery.objects.exists()


@pytest.mark.django_db
def test_it_sends_to_one_user_when_asked(subscribers: list) -> None:
    output = run("--user", "sam", "--now", "2024-02-07T07:05:00-05:00")

    assert "sam daily:2024-02-07: sent (1 changes)" in output
    assert [m.to for m in mail.outbox] == [["sam@example.com"]]

    again = run("--now", "2024-02-07T07:10:00-05:00")
    assert "tess daily:2024-02-07: sent" in again
    assert "sam" not in again
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_bare_now_is_read_in_new_york_time(subscribers: list) -> None:
    assert "sam daily:2024-02-06: due" in run("--dry-run", "--now", "2024-02-07T06:59")
    assert "sam daily:2024-02-07: due" in run("--dry-run", "--now", "2024-02-07T07:00")


@pytest.mark.django_db
def test_a_bad_now_is_refused_clearly(subscribers: list) -> None:
    with pytest.raises(CommandError, match="ISO date-time"):
        run("--now", "yesterday")


@pytest.mark.django_db
def test_processes_must_be_one_or_more(subscribers: list) -> None:
    with pytest.raises(CommandError, match="--processes"):
        run("--processes", "0", "--now", "2024-02-07T07:05:00-05:00")
    assert mail.outbox == []

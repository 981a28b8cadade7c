"""Digests sent in batches: the same emails as one at a time, one each, few statements."""

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    make_demand,
    make_negotiation,
    make_provision,
    make_stakeholder,
    make_user,
)
from tracker import digests, emails, roles, tasks
from tracker.models import Activity, DeliveryStatus, DigestDelivery, DigestPreference, Watch

NEW_YORK = ZoneInfo("America/New_York")
SEND_TIME = datetime(2024, 2, 7, 7, tzinfo=NEW_YORK)
RUN_AT = SEND_TIME + timedelta(minutes=5)
# The digest templates as they were before sections and entries were rendered once per batch.
BEFORE = Path(__file__).parent / "fixtures" / "digest-emails-before"


def subscriber(username: str, **preference: object):
    with time_machine.travel(SEND_TIME - timedelta(days=7), tick=False):
        user = make_user(username, role=roles.VIEWER)
        DigestPreference.objects.create(user=user, **preference)
    return user


def change(hours_before: float, summary: str, **fields: object) -> Activity:
    at = SEND_TIME - timedelta(hours=hours_before)
    target = fields.get("provision") or fields.get("demand")
    return Activity.objects.create(
        negotiation=fields.pop("negotiation", None) or target.negotiation,
        kind=fields.pop("kind", "note"),
        occurred_at=at,
        recorded_at=at,
        source="public record",
        summary=summary,
        **fields,
    )


def readers_of_one_provision(count: int, prefix: str = "reader") -> list:
    provision = make_provision()
    change(1, "Something moved", provision=provision)
    readers = [subscriber(f"{prefix}{n}") for n in range(count)]
    Watch.objects.bulk_create(Watch(user=user, provision=provision) for user in readers)
    return readers


def statements_to_send(count: int) -> int:
    readers = readers_of_one_provision(count, prefix=f"of{count}-")
    with CaptureQueriesContext(connection) as run:
        outcomes = digests.send_due_digests(RUN_AT)
    assert [outcome.status for outcome in outcomes] == ["sent"] * count
    for user in readers:  # so the next count starts from no one due
        user.delete()
    return len(run)


# --- The same emails --------------------------------------------------------------------------


def _render_before(digest: digests.Digest, message) -> tuple[str, str, str]:
    """Subject, text and HTML as the templates before batching render `digest`."""
    context = {
        "digest": digest,
        "unsubscribe_url": message.extra_headers["List-Unsubscribe"][1:-1],
        "preferences_url": digests.absolute_url("/digests/preferences/"),
        "site_url": "unused",
    }
    engine = engines["django"]
    subject, text, html = (
        engine.from_string((BEFORE / f"digest-{part}").read_text()).render(context)
        for part in ("subject.txt", "body.txt", "body.html")
    )
    return " ".join(subject.split()), text, html


@pytest.mark.django_db
def test_batched_digests_are_the_emails_the_templates_made_before(groups, settings) -> None:
    settings.SITE_URL = "https://tracker.example.org"
    border = make_negotiation(name="Border & <asylum> talks")
    aid = make_negotiation(name="Security supplemental")
    officers = make_provision(border, title="Asylum <officers>")
    ukraine = make_provision(aid, title="Ukraine “aid” & more")
    parole = make_demand(border, title="End parole")
    schumer = make_stakeholder(name="Charles Schumer")
    for minute in range(digests.SECTION_CAP + 4):  # a capped section with more on the timeline
        change(30 - minute / 60, f"Note {minute} <b>bold</b>", provision=officers)
    change(
        2,
        "Moved",
        provision=ukraine,
        kind="status_change",
        from_value="proposed",
        to_value="in_text",
    )
    change(3, "Unconfirmed report", provision=ukraine, is_confirmed=False, detail="“Quoted” " * 40)
    change(4, "Parole narrowed", demand=parole, kind="demand_change", to_value="accepted")
    change(5, "Leaders met", negotiation=border)
    change(
        6,
        "Schumer moves",
        provision=officers,
        stakeholder=schumer,
        kind="position_change",
        from_value="",
        to_value="lean_support",
    )
    change(
        7,
        "Schumer on aid",
        provision=ukraine,
        stakeholder=schumer,
        kind="position_change",
        from_value="lean_oppose",
        to_value="firm_support",
    )
    readers = [
        subscriber("east"),
        subscriber("west", time_zone="America/Los_Angeles"),
        subscriber("paris", time_zone="Europe/Paris"),  # its 7:00 came six hours earlier
        subscriber("quiet", send_empty=True),
        subscriber("weekly", frequency="weekly", weekday=SEND_TIME.weekday(), hour=7),
    ]
    for user in readers[:3] + readers[4:]:
        Watch.objects.create(user=user, provision=officers)
        Watch.objects.create(user=user, stakeholder=schumer)
        Watch.objects.create(user=user, negotiation=border)
        Watch.objects.create(user=user, demand=parole)
    Watch.objects.create(user=readers[1], provision=ukraine)
    Watch.objects.create(user=readers[3], provision=make_provision(aid))

    with time_machine.travel(RUN_AT, tick=False):
        outcomes = digests.send_due_digests(RUN_AT)
        assert sorted(o.status for o in outcomes) == ["sent"] * 5
        for message in mail.outbox:
            (user,) = [u for u in readers if [u.email] == message.to]
            delivery = DigestDelivery.objects.get(user=user)
            alone = digests.build_digest(
                user, since=delivery.covers_from, until=delivery.covers_until
            )
            html = message.alternatives[0][0]
            assert (message.subject, message.body, html) == _render_before(alone, message), user


@pytest.mark.django_db
def test_an_entry_is_rendered_in_each_readers_time_zone(groups) -> None:
    provision = make_provision()
    change(1, "At six in New York", provision=provision)
    for name, zone in (("east", "America/New_York"), ("west", "America/Los_Angeles")):
        Watch.objects.create(user=subscriber(name, time_zone=zone), provision=provision)

    digests.send_due_digests(RUN_AT)
    digests.send_due_digests(RUN_AT + timedelta(hours=3))  # 7:00 in Los Angeles

    east, west = sorted(mail.outbox, key=lambda message: message.to[0])
    assert "Feb 7, 6:00 AM" in east.body and "Feb 7, 3:00 AM" in west.body
    assert "6:00 AM" in east.alternatives[0][0] and "3:00 AM" in west.alternatives[0][0]


# --- One message each -------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_user_of_every_batch_gets_one_message_however_often_it_runs(
    groups, monkeypatch
) -> None:
    monkeypatch.setattr(digests, "BATCH_SIZE", 3)
    monkeypatch.setattr(digests, "CLAIMED_TOGETHER", 2)
    readers = readers_of_one_provision(8)

    first = digests.send_due_digests(RUN_AT)
    again = digests.send_digests(
        [digests.DueDigest(user.pk, "daily:2024-02-07", SEND_TIME) for user in readers]
    )
    digests.send_due_digests(RUN_AT + timedelta(minutes=5))

    assert [outcome.status for outcome in first] == ["sent"] * 8
    assert [outcome.status for outcome in again] == ["already sent"] * 8
    assert Counter(message.to[0] for message in mail.outbox) == {u.email: 1 for u in readers}
    assert set(DigestDelivery.objects.values_list("status", "attempts")) == {("sent", 1)}


@pytest.mark.django_db
def test_the_beat_task_queues_a_task_per_batch_and_each_runs_twice_safely(
    groups, monkeypatch
) -> None:
    monkeypatch.setattr(digests, "BATCH_SIZE", 2)
    readers = readers_of_one_provision(5)
    queued = []
    monkeypatch.setattr(tasks.send_digests, "delay", queued.append)

    with time_machine.travel(RUN_AT, tick=False):
        assert tasks.send_due_digests.apply().get() == 5
    for batch in queued + queued:  # as a second beat, or a redelivery, would
        tasks.send_digests.apply(args=[batch]).get()

    assert [len(batch) for batch in queued] == [2, 2, 1]
    user_id, period, until = queued[0][0]
    assert (user_id, period, datetime.fromisoformat(until)) == (
        readers[0].pk,
        "daily:2024-02-07",
        SEND_TIME,
    )
    assert sorted(message.to[0] for message in mail.outbox) == sorted(u.email for u in readers)


@pytest.mark.django_db
def test_one_digest_failing_to_render_fails_alone(groups, monkeypatch) -> None:
    readers = readers_of_one_provision(3)
    real = emails.digest

    def digest_or_fault(digest, **kwargs):
        if digest.user == readers[1]:
            raise ValueError("a bug")
        return real(digest, **kwargs)

    monkeypatch.setattr(emails, "digest", digest_or_fault)

    outcomes = {o.username: o for o in digests.send_due_digests(RUN_AT)}

    assert outcomes["reader1"].status == DeliveryStatus.FAILED
    assert outcomes["reader1"].error == "ValueError: a bug"
    assert [outcomes[name].status for name in ("reader0", "reader2")] == ["sent", "sent"]
    assert len(mail.outbox) == 2
    assert DigestDelivery.objects.get(user=readers[1]).status == DeliveryStatus.FAILED


# --- Few statements ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_statements_per_user_stay_the_same_as_users_grow(groups) -> None:
    # Claims and results go CLAIMED_TOGETHER at a time, so whole chunks are compared.
    chunk = digests.CLAIMED_TOGETHER
    ten, twenty, forty = (statements_to_send(n * chunk) for n in (1, 2, 4))

    assert forty - twenty == 2 * (twenty - ten)  # linear: a fixed cost per user
    assert (forty - ten) / (3 * chunk) <= 0.5  # was 16 statements per user one at a time


# --- Exactly once, for real: two workers with the same batch ----------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_batch_at_once_send_one_message_each(groups) -> None:
    readers = readers_of_one_provision(12)
    due = [digests.DueDigest(user.pk, "daily:2024-02-07", SEND_TIME) for user in readers]
    start = threading.Barrier(2)
    outcomes: list[list[digests.DeliveryOutcome]] = []

    def worker() -> None:
        try:
            start.wait()
            outcomes.append(digests.send_digests(due))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for first, second in zip(*outcomes, strict=True):
        assert sorted([first.status, second.status])[1] == "sent", (first, second)
        assert sorted([first.status, second.status])[0].startswith("already")
    assert Counter(message.to[0] for message in mail.outbox) == {u.email: 1 for u in readers}
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {"sent"}

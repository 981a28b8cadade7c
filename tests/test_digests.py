"""Digests as a staff member lives them: watch things, get one digest per period, miss nothing."""

import smtplib
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from tests.factories import make_negotiation, make_provision, make_user
from tracker import digests, roles
from tracker.models import (
    Activity,
    ActivityKind,
    DeliveryStatus,
    DigestDelivery,
    DigestPreference,
    Provision,
    Stakeholder,
    Watch,
)
from tracker.tasks import send_digest as send_digest_task
from tracker.tasks import send_due_digests as send_due_digests_task

NEW_YORK = ZoneInfo("America/New_York")
# A Wednesday in February 2024: 7:00 in New York is 12:00 UTC.
SEND_TIME = datetime(2024, 2, 7, 7, tzinfo=NEW_YORK)


class RefusingBackend(EmailBackend):
    """An SMTP server that is down: every send raises, like smtplib would."""

    def send_messages(self, messages: list) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def subscriber(username: str = "sam", *, created: datetime | None = None, **preference: object):
    """A staff member with a daily 7:00 New York digest, set up a week before SEND_TIME."""
    with time_machine.travel(created or SEND_TIME - timedelta(days=7), tick=False):
        user = make_user(username, role=roles.VIEWER)
        DigestPreference.objects.create(user=user, **preference)
    return user


def note(
    at: datetime, summary: str = "A note", *, recorded: datetime | None = None, **subject: object
) -> Activity:
    """A change that occurred `at` and reached the tracker `recorded` (by default, then too)."""
    negotiation = subject.pop("negotiation", None)
    target = next(iter(subject.values()), None)
    return Activity.objects.create(
        negotiation=negotiation or getattr(target, "negotiation", None),
        kind=ActivityKind.NOTE,
        occurred_at=at,
        recorded_at=recorded or at,
        source="public record",
        summary=summary,
        **subject,
    )


def digest_for(user, *, since: datetime | None = None, until: datetime = SEND_TIME):
    return digests.build_digest(user, since=since, until=until)


def all_summaries(digest: digests.Digest) -> list[str]:
    return [
        entry.summary
        for group in digest.groups
        for section in group.sections
        for entry in section.entries
    ]


# --- Building, on the demo negotiation ------------------------------------------------------


@pytest.mark.django_db
def test_it_groups_changes_by_negotiation_and_item_newest_first(demo, groups) -> None:
    sam = subscriber()
    # Every demo provision reached its end state; this one is still moving.
    ukraine = make_provision(demo, title="Ukraine money still in the text", status="in_text")
    schumer = Stakeholder.objects.get(slug="charles-e-schumer")
    digests.set_watch(sam, ukraine, watching=True)
    digests.set_watch(sam, schumer, watching=True)
    digests.set_watch(sam, demo, watching=False)  # only the two items
    day_before = SEND_TIME - timedelta(days=1)
    with time_machine.travel(day_before + timedelta(hours=2), tick=False):
        ukraine.change_status("dropped", by=None)
    with time_machine.travel(day_before + timedelta(hours=5), tick=False):
        schumer.record_position(stance="lean_oppose", as_of=date(2024, 2, 6), provision=ukraine)
    with time_machine.travel(day_before + timedelta(hours=9), tick=False):
        schumer.record_position(stance="firm_support", as_of=date(2024, 2, 6), provision=ukraine)

    digest = digest_for(sam)

    assert [group.name for group in digest.groups] == [demo.name]
    sections = digest.groups[0].sections
    # Positions on a watched provision go under the provision, the most specific watch.
    assert [section.title for section in sections] == [ukraine.title]
    entries = sections[0].entries
    assert [entry.kind for entry in entries] == [
        "position_change",
        "position_change",
        "status_change",
    ]
    assert entries[0].change == "Lean oppose → Firm support"
    assert entries[2].change.endswith("→ Dropped")
    assert all(entry.url.startswith("http://") for entry in entries)
    assert digest.change_count == 3


@pytest.mark.django_db
def test_a_stakeholder_watch_gathers_their_positions_on_unwatched_items(demo, groups) -> None:
    sam = subscriber()
    schumer = Stakeholder.objects.get(slug="charles-e-schumer")
    provision = Provision.objects.filter(negotiation=demo).order_by("pk")[3]
    digests.set_watch(sam, demo, watching=False)
    digests.set_watch(sam, schumer, watching=True)
    with time_machine.travel(SEND_TIME - timedelta(hours=3), tick=False):
        schumer.record_position(stance="undecided", as_of=date(2024, 2, 6), provision=provision)

    (section,) = digest_for(sam).groups[0].sections

    assert section.kind == "stakeholder"
    assert section.title == str(schumer)
    assert section.entries[0].change.endswith("→ Undecided")


@pytest.mark.django_db
def test_a_negotiation_watch_lists_every_change_under_its_own_item(groups) -> None:
    sam = subscriber()
    negotiation = make_negotiation(name="Border talks")
    provision = make_provision(negotiation, title="Asylum officers")
    Watch.objects.create(user=sam, negotiation=negotiation)
    note(SEND_TIME - timedelta(hours=2), "Note on asylum officers", provision=provision)
    note(SEND_TIME - timedelta(hours=1), "Leaders met", negotiation=negotiation)

    digest = digest_for(sam)

    assert [(s.kind, s.title) for s in digest.groups[0].sections] == [
        ("negotiation", "Across the negotiation"),
        ("provision", "Asylum officers"),
    ]


@pytest.mark.django_db
def test_long_sections_are_capped_with_a_link_to_the_rest(groups) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    for minute in range(digests.SECTION_CAP + 3):
        note(
            SEND_TIME - timedelta(hours=3) + timedelta(minutes=minute),
            f"n{minute}",
            provision=provision,
        )

    (section,) = digest_for(sam).groups[0].sections

    assert len(section.entries) == digests.SECTION_CAP
    assert section.total == digests.SECTION_CAP + 3
    assert section.hidden_count == 3
    assert section.entries[0].summary == f"n{digests.SECTION_CAP + 2}"  # newest first
    assert section.more_url.startswith("http://")


# --- Periods ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_change_a_second_before_the_send_time_is_in_and_a_second_after_waits(groups) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(seconds=1), "just before", provision=provision)
    note(SEND_TIME + timedelta(seconds=1), "just after", provision=provision)

    today = digest_for(sam)
    tomorrow = digest_for(sam, since=SEND_TIME, until=SEND_TIME + timedelta(days=1))

    assert all_summaries(today) == ["just before"]
    assert all_summaries(tomorrow) == ["just after"]


@pytest.mark.django_db
def test_the_next_digest_starts_where_the_last_sent_one_ended(groups) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(seconds=1), "in the first", provision=provision)
    note(SEND_TIME + timedelta(seconds=1), "in the second", provision=provision)
    assert digests.send_digest(sam.pk, period="daily:2024-02-07", until=SEND_TIME).status == "sent"

    second = digests.send_digest(
        sam.pk, period="daily:2024-02-08", until=SEND_TIME + timedelta(days=1)
    )

    assert second.status == "sent"
    assert "in the second" in mail.outbox[1].body
    assert "in the first" not in mail.outbox[1].body


@pytest.mark.django_db
def test_a_change_recorded_late_but_dated_before_the_last_digest_comes_in_the_next_one_once(
    groups,
) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(hours=1), "on time", provision=provision)
    assert digests.send_digest(sam.pk, period="daily:2024-02-07", until=SEND_TIME).status == "sent"
    # A feed brings in, two hours after that digest went out, a vote from the evening before.
    note(
        SEND_TIME - timedelta(hours=12),
        "Cloture vote from last night",
        recorded=SEND_TIME + timedelta(hours=2),
        provision=provision,
    )

    tomorrow = SEND_TIME + timedelta(days=1)
    second = digests.send_digest(sam.pk, period="daily:2024-02-08", until=tomorrow)
    third = digests.send_digest(
        sam.pk, period="daily:2024-02-09", until=tomorrow + timedelta(days=1)
    )

    assert "Cloture vote from last night" not in mail.outbox[0].body
    assert second.status == "sent"
    assert second.change_count == 1
    assert mail.outbox[1].body.count("Cloture vote from last night") == 1
    assert "on time" not in mail.outbox[1].body
    assert (third.status, third.error) == ("skipped", "No changes.")
    assert len(mail.outbox) == 2


def _period(user, now: datetime) -> digests.Period:
    return digests.current_period(DigestPreference.objects.get(user=user), now)


@pytest.mark.django_db
def test_daily_send_time_follows_new_york_across_the_spring_change(groups) -> None:
    sam = subscriber()
    # DST starts Sunday March 10, 2024 at 2:00: 7:00 is 12:00 UTC on the 9th, 11:00 UTC on the 10th.
    assert _period(sam, datetime(2024, 3, 10, 10, 59, tzinfo=UTC)).key == "daily:2024-03-09"
    period = _period(sam, datetime(2024, 3, 10, 11, 0, tzinfo=UTC))
    assert period.key == "daily:2024-03-10"
    assert period.ends_at == datetime(2024, 3, 10, 11, tzinfo=UTC)
    preference = DigestPreference.objects.get(user=sam)
    # The period that ends then is 23 hours long, starting at 7:00 EST the day before.
    assert digests.digest_start(sam, preference, period.ends_at) == datetime(
        2024, 3, 9, 12, tzinfo=UTC
    )


@pytest.mark.django_db
def test_an_hour_that_does_not_exist_sends_an_hour_later_once(groups) -> None:
    sam = subscriber(hour=2)
    # 2:00 does not exist on March 10, 2024: the digest goes at 3:00 EDT (07:00 UTC).
    assert _period(sam, datetime(2024, 3, 10, 6, 59, tzinfo=UTC)).key == "daily:2024-03-09"
    assert _period(sam, datetime(2024, 3, 10, 7, 0, tzinfo=UTC)).key == "daily:2024-03-10"


@pytest.mark.django_db
def test_an_hour_that_happens_twice_in_november_sends_once(groups) -> None:
    sam = subscriber(hour=1)
    Watch.objects.create(user=sam, provision=make_provision())
    DigestPreference.objects.filter(user=sam).update(send_empty=True)
    # November 3, 2024: 1:00-2:00 happens at 05:00 UTC (EDT) and again at 06:00 UTC (EST).
    first = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    second = datetime(2024, 11, 3, 6, 30, tzinfo=UTC)
    assert _period(sam, first) == _period(sam, second)
    assert _period(sam, first).ends_at == datetime(2024, 11, 3, 5, tzinfo=UTC)

    digests.send_due_digests(first)
    digests.send_due_digests(second)

    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_weekly_digests_go_on_the_chosen_weekday_and_hour(groups) -> None:
    sam = subscriber(frequency="weekly", weekday=4, hour=16)  # Fridays, 4 PM
    thursday = datetime(2024, 2, 8, 23, tzinfo=NEW_YORK)
    friday_before = datetime(2024, 2, 9, 15, 59, tzinfo=NEW_YORK)
    friday_after = datetime(2024, 2, 9, 16, 0, tzinfo=NEW_YORK)
    assert _period(sam, thursday).key == _period(sam, friday_before).key == "weekly:2024-W05"
    assert _period(sam, friday_after).key == "weekly:2024-W06"
    assert _period(sam, friday_after).ends_at == friday_after


# --- Watching ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_watching_and_unwatching_decide_what_the_digest_holds(groups) -> None:
    sam = subscriber()
    watched, other = make_provision(), make_provision()
    assert digests.set_watch(sam, watched, watching=True)
    digests.set_watch(sam, watched, watching=True)  # a second click changes nothing
    assert Watch.objects.filter(user=sam, provision=watched).count() == 1
    note(SEND_TIME - timedelta(hours=1), "on watched", provision=watched)
    note(SEND_TIME - timedelta(hours=1), "on other", provision=other)
    assert all_summaries(digest_for(sam)) == ["on watched"]

    digests.set_watch(sam, watched, watching=False)

    assert digest_for(sam).is_empty


@pytest.mark.django_db
def test_new_users_watch_the_current_negotiation_until_they_stop(groups) -> None:
    negotiation = make_negotiation()
    newcomer = make_user("nell")

    assert digests.apply_defaults_to_new_users() == 1
    assert Watch.objects.filter(user=newcomer, negotiation=negotiation).exists()
    assert DigestPreference.objects.get(user=newcomer).frequency == "daily"

    digests.set_watch(newcomer, negotiation, watching=False)
    digests.apply_defaults_to_new_users()
    assert not Watch.objects.filter(user=newcomer).exists()


@pytest.mark.django_db
def test_a_watch_on_a_deleted_item_disappears(groups) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(hours=1), "before deletion", provision=provision)

    provision.delete()

    assert not Watch.objects.filter(user=sam).exists()
    assert digest_for(sam).is_empty
    assert digests.send_digest(sam.pk, period="daily:2024-02-07", until=SEND_TIME).status == (
        "skipped"
    )


# --- Sending ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_empty_digest_is_skipped_unless_asked_for(groups) -> None:
    quiet = subscriber("quiet")
    keen = subscriber("keen", send_empty=True)
    for user in (quiet, keen):
        Watch.objects.create(user=user, provision=make_provision())

    outcomes = {o.username: o for o in digests.send_due_digests(SEND_TIME + timedelta(minutes=3))}

    assert outcomes["quiet"].status == "skipped"
    assert outcomes["keen"].status == "sent"
    (message,) = mail.outbox
    assert message.to == ["keen@example.com"]
    assert message.subject.startswith("No changes on what you watch")


@pytest.mark.django_db
def test_only_users_whose_time_has_come_are_due(groups) -> None:
    # Set up at 5:00 today: a newcomer's first digest is the next one, not yesterday's.
    joined = SEND_TIME - timedelta(hours=2)
    early = subscriber("early", hour=6, created=joined)
    late = subscriber("late", hour=9, created=joined)
    subscriber("off", frequency="off", created=joined)

    due = digests.due_digests(SEND_TIME + timedelta(minutes=3))

    assert [(d.username, d.period) for d in due] == [("early", "daily:2024-02-07")]
    assert due[0].until == datetime(2024, 2, 7, 6, tzinfo=NEW_YORK)
    assert early and late


@pytest.mark.django_db
def test_running_the_send_twice_sends_one_message(groups) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(hours=1), "once", provision=provision)

    first = digests.send_digest(sam.pk, period="daily:2024-02-07", until=SEND_TIME)
    again = digests.send_digest(sam.pk, period="daily:2024-02-07", until=SEND_TIME)
    digests.send_due_digests(SEND_TIME + timedelta(minutes=5))

    assert (first.status, again.status) == ("sent", "already sent")
    assert len(mail.outbox) == 1
    delivery = DigestDelivery.objects.get(user=sam)
    assert delivery.message_id == mail.outbox[0].extra_headers["Message-ID"]
    assert delivery.change_count == 1


@pytest.mark.django_db
def test_an_smtp_failure_is_retried_with_backoff_then_sent_once(groups, settings) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(hours=1), "worth retrying", provision=provision)
    settings.EMAIL_BACKEND = "tests.test_digests.RefusingBackend"
    run_at = SEND_TIME + timedelta(minutes=5)

    (outcome,) = digests.send_due_digests(run_at)
    delivery = DigestDelivery.objects.get(user=sam)
    assert outcome.status == "retry"
    assert delivery.retry_at == run_at + digests.RETRY_BASE_DELAY
    assert "SMTPServerDisconnected" in delivery.error
    assert digests.due_digests(run_at + timedelta(seconds=30)) == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    (outcome,) = digests.send_due_digests(run_at + timedelta(minutes=5))
    digests.send_due_digests(run_at + timedelta(minutes=10))

    assert outcome.status == "sent"
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.get(user=sam).attempts == 2


@pytest.mark.django_db
def test_a_failed_digests_changes_come_in_the_next_one(groups, settings) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(hours=1), "missed by the failed digest", provision=provision)
    settings.EMAIL_BACKEND = "tests.test_digests.RefusingBackend"
    moment = SEND_TIME + timedelta(minutes=5)
    for _ in range(digests.MAX_ATTEMPTS):
        digests.send_due_digests(moment)
        moment += timedelta(hours=1)
    failed = DigestDelivery.objects.get(user=sam)
    assert failed.status == DeliveryStatus.FAILED
    assert failed.attempts == digests.MAX_ATTEMPTS

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    note(SEND_TIME + timedelta(hours=20), "new today", provision=provision)
    (outcome,) = digests.send_due_digests(SEND_TIME + timedelta(days=1, minutes=5))

    assert outcome.status == "sent"
    assert "missed by the failed digest" in mail.outbox[0].body
    assert "new today" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_retry_still_waiting_when_the_next_period_starts_is_superseded(groups) -> None:
    sam = subscriber()
    DigestDelivery.objects.create(
        user=sam,
        period="daily:2024-02-06",
        covers_until=SEND_TIME - timedelta(days=1),
        status=DeliveryStatus.RETRY,
        retry_at=SEND_TIME - timedelta(hours=1),
    )

    due = digests.due_digests(SEND_TIME + timedelta(minutes=1))

    assert [d.period for d in due] == ["daily:2024-02-07"]
    old = DigestDelivery.objects.get(period="daily:2024-02-06")
    assert old.status == DeliveryStatus.FAILED
    assert "Superseded" in old.error


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_never_resent(groups) -> None:
    sam = subscriber()
    DigestDelivery.objects.create(
        user=sam,
        period="daily:2024-02-07",
        covers_until=SEND_TIME,
        status=DeliveryStatus.SENDING,
        claimed_at=SEND_TIME,
        attempts=1,
    )

    assert digests.send_due_digests(SEND_TIME + timedelta(hours=1)) == []
    assert DigestDelivery.objects.get(user=sam).status == DeliveryStatus.FAILED
    assert mail.outbox == []


@pytest.mark.django_db
def test_users_without_a_valid_address_are_skipped_and_reported(groups) -> None:
    nobody = subscriber("nobody")
    typo = subscriber("typo")
    fine = subscriber("fine")
    get_model = type(nobody)
    get_model.objects.filter(pk=nobody.pk).update(email="")
    get_model.objects.filter(pk=typo.pk).update(email="typo@@example")
    provision = make_provision()
    for user in (nobody, typo, fine):
        Watch.objects.create(user=user, provision=provision)
    note(SEND_TIME - timedelta(hours=1), "for everyone", provision=provision)

    outcomes = {o.username: o for o in digests.send_due_digests(SEND_TIME + timedelta(minutes=1))}

    assert outcomes["nobody"].status == "skipped"
    assert outcomes["nobody"].error == "No email address."
    assert outcomes["typo"].error.startswith("Invalid email address")
    assert outcomes["fine"].status == "sent"
    assert [m.to for m in mail.outbox] == [["fine@example.com"]]


@pytest.mark.django_db
def test_the_beat_task_sends_the_due_digests(groups) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(hours=1), "via celery", provision=provision)

    with time_machine.travel(SEND_TIME + timedelta(minutes=2), tick=False):
        queued = send_due_digests_task.apply().get()
        repeat = send_digest_task.apply(
            args=[sam.pk, "daily:2024-02-07", SEND_TIME.isoformat()]
        ).get()

    assert queued == 1
    assert repeat.endswith("already sent")
    assert len(mail.outbox) == 1


# --- Unsubscribe tokens -----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unsubscribe_token_names_its_user_and_is_refused_when_tampered_or_old(groups) -> None:
    from django.core import signing

    sam = subscriber()
    token = digests.unsubscribe_token(sam)
    assert digests.user_for_unsubscribe_token(token) == sam

    with pytest.raises(signing.BadSignature):
        digests.user_for_unsubscribe_token(
            token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
        )
    with (
        time_machine.travel(
            datetime.now(tz=UTC) + digests.UNSUBSCRIBE_MAX_AGE + timedelta(minutes=1)
        ),
        pytest.raises(signing.SignatureExpired),
    ):
        digests.user_for_unsubscribe_token(token)


# --- Exactly once, for real: two workers at the same moment ----------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_digest_at_once_send_one_message(groups) -> None:
    sam = subscriber()
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    note(SEND_TIME - timedelta(hours=1), "only once", provision=provision)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            start.wait()
            outcome = digests.send_digest(sam.pk, period="daily:2024-02-07", until=SEND_TIME)
            outcomes.append(outcome.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already sending", "sent"] or sorted(outcomes) == [
        "already sent",
        "sent",
    ]
    assert len(mail.outbox) == 1
    assert DigestDelivery.objects.get(user=sam).status == DeliveryStatus.SENT

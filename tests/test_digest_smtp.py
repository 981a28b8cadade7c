"""The digest over real SMTP: an aiosmtpd server on loopback receives it and we read it back."""

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller

from tests.factories import make_provision, make_user
from tracker import digests, roles
from tracker.models import Activity, DeliveryStatus, DigestDelivery, DigestPreference, Watch

SEND_TIME = datetime(2024, 2, 7, 7, tzinfo=ZoneInfo("America/New_York"))


class MailCatcher:
    """Keeps every message it accepts and counts the connections (their EHLO); can refuse the
    first N, or those to some addresses, with a temporary error."""

    def __init__(self, refuse_first: int = 0) -> None:
        self.refuse_first = refuse_first
        self.refuse_to: set[str] = set()
        self.attempts = 0
        self.connections = 0
        self.messages: list[EmailMessage] = []

    async def handle_EHLO(  # noqa: N802
        self, server: object, session: object, envelope: object, hostname: str, responses: list
    ) -> list:
        self.connections += 1
        session.host_name = hostname  # type: ignore[attr-defined]  # as aiosmtpd does without a hook
        return responses

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.attempts += 1
        if self.attempts <= self.refuse_first or self.refuse_to & set(envelope.rcpt_tos):  # type: ignore[attr-defined]
            return "451 4.3.0 Try again later"
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[attr-defined]
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings: pytest.FixtureRequest, request: pytest.FixtureRequest) -> Iterator:
    catcher = MailCatcher(refuse_first=getattr(request, "param", 0))
    controller = Controller(catcher, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "https://tracker.example.org"
    yield catcher
    controller.stop()


def _subscriber_with_changes():
    with time_machine.travel(SEND_TIME - timedelta(days=7), tick=False):
        sam = make_user("sam", role=roles.VIEWER)
        DigestPreference.objects.create(user=sam)
    provision = make_provision(title="Ukraine <aid> & more")
    Watch.objects.create(user=sam, provision=provision)
    Activity.objects.create(
        negotiation=provision.negotiation,
        provision=provision,
        kind="note",
        occurred_at=SEND_TIME - timedelta(hours=2),
        recorded_at=SEND_TIME - timedelta(hours=2),
        source="senate.gov",
        summary="Leader said <b>yes</b>",
        detail='"We will pass it" <script>alert(1)</script>',
    )
    return sam, provision


@pytest.mark.django_db
def test_the_digest_arrives_over_smtp_as_html_and_text_with_one_click_unsubscribe(
    groups: dict, smtp_server: MailCatcher
) -> None:
    sam, provision = _subscriber_with_changes()

    (outcome,) = digests.send_due_digests(SEND_TIME + timedelta(minutes=5))

    assert outcome.status == "sent"
    (message,) = smtp_server.messages
    assert message["To"] == "sam@example.com"
    assert provision.negotiation.name in message["Subject"]
    assert "1 change" in message["Subject"]
    assert message.get_content_type() == "multipart/alternative"
    unsubscribe = str(message["List-Unsubscribe"]).strip()  # folded: it is a long line
    assert re.fullmatch(r"<https://tracker\.example\.org/digests/unsubscribe/[^>]+/>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == DigestDelivery.objects.get(user=sam).message_id

    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Leader said <b>yes</b>" in text
    assert "Leader said &lt;b&gt;yes&lt;/b&gt;" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith("https://tracker.example.org/") for link in links)
    assert unsubscribe.strip("<>") in links
    assert "https://tracker.example.org/digests/preferences/" in text


@pytest.mark.django_db
@pytest.mark.parametrize("smtp_server", [1], indirect=True)
def test_a_server_that_refuses_the_first_attempt_gets_one_message_after_the_retry(
    groups: dict, smtp_server: MailCatcher
) -> None:
    sam, _ = _subscriber_with_changes()
    first_run = SEND_TIME + timedelta(minutes=5)

    (first,) = digests.send_due_digests(first_run)
    assert first.status == DeliveryStatus.RETRY
    assert "451" in first.error
    assert smtp_server.messages == []

    (retried,) = digests.send_due_digests(first_run + timedelta(minutes=5))
    digests.send_due_digests(first_run + timedelta(minutes=10))

    assert retried.status == DeliveryStatus.SENT
    assert smtp_server.attempts == 2
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_a_batch_shares_one_connection_and_a_refused_message_waits_for_its_own_retry(
    groups: dict, smtp_server: MailCatcher
) -> None:
    provision = make_provision()
    readers = []
    for name in ("ann", "ben", "cat", "dan", "eve"):
        with time_machine.travel(SEND_TIME - timedelta(days=7), tick=False):
            readers.append(make_user(name, role=roles.VIEWER))
            DigestPreference.objects.create(user=readers[-1])
        Watch.objects.create(user=readers[-1], provision=provision)
    Activity.objects.create(
        negotiation=provision.negotiation,
        provision=provision,
        kind="note",
        occurred_at=SEND_TIME - timedelta(hours=1),
        recorded_at=SEND_TIME - timedelta(hours=1),
        summary="For everyone",
    )
    smtp_server.refuse_to = {"cat@example.com"}
    first_run = SEND_TIME + timedelta(minutes=5)

    outcomes = {o.username: o.status for o in digests.send_due_digests(first_run)}

    assert outcomes == {"ann": "sent", "ben": "sent", "cat": "retry", "dan": "sent", "eve": "sent"}
    # One connection for the batch, and one more after the refusal closed it.
    assert smtp_server.connections == 2
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "ann@example.com",
        "ben@example.com",
        "dan@example.com",
        "eve@example.com",
    ]

    smtp_server.refuse_to = set()
    (retried,) = digests.send_due_digests(first_run + timedelta(minutes=1))
    assert (retried.username, retried.status) == ("cat", "sent")
    assert len(smtp_server.messages) == 5


@pytest.mark.django_db
def test_when_the_server_cannot_be_reached_each_digest_waits_for_its_retry(
    groups: dict, settings: pytest.FixtureRequest
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _free_port(), 2
    sam, _ = _subscriber_with_changes()
    with time_machine.travel(SEND_TIME - timedelta(days=7), tick=False):
        tess = make_user("tess", role=roles.VIEWER)
        DigestPreference.objects.create(user=tess, send_empty=True)

    outcomes = digests.send_due_digests(SEND_TIME + timedelta(minutes=5))

    assert [o.status for o in outcomes] == ["retry", "retry"]
    assert all("ConnectionRefusedError" in o.error for o in outcomes)
    assert set(DigestDelivery.objects.values_list("status", "attempts")) == {("retry", 1)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_shared_out_between_processes_send_one_message_each_in_order(
    groups: dict, smtp_server: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "BATCH_SIZE", 2)  # the forked processes inherit it
    provision = make_provision()
    readers = []
    for n in range(7):
        with time_machine.travel(SEND_TIME - timedelta(days=7), tick=False):
            readers.append(make_user(f"reader{n}", role=roles.VIEWER))
            DigestPreference.objects.create(user=readers[-1])
        Watch.objects.create(user=readers[-1], provision=provision)
    Activity.objects.create(
        negotiation=provision.negotiation,
        provision=provision,
        kind="note",
        occurred_at=SEND_TIME - timedelta(hours=1),
        recorded_at=SEND_TIME - timedelta(hours=1),
        summary="For everyone",
    )
    run_at = SEND_TIME + timedelta(minutes=5)

    outcomes = digests.send_due_digests(run_at, processes=2)
    again = digests.send_digests(
        [digests.DueDigest(user.pk, "daily:2024-02-07", SEND_TIME) for user in readers],
        processes=2,
    )

    assert [(o.username, o.status) for o in outcomes] == [(u.username, "sent") for u in readers]
    assert [o.status for o in again] == ["already sent"] * 7
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(u.email for u in readers)
    assert smtp_server.connections == 4  # one per batch of two
    assert set(DigestDelivery.objects.values_list("status", "attempts")) == {("sent", 1)}


@pytest.mark.django_db
def test_lines_starting_with_a_period_arrive_as_written(
    groups: dict, smtp_server: MailCatcher
) -> None:
    sam, provision = _subscriber_with_changes()
    Activity.objects.create(
        negotiation=provision.negotiation,
        provision=provision,
        kind="note",
        occurred_at=SEND_TIME - timedelta(hours=1),
        recorded_at=SEND_TIME - timedelta(hours=1),
        summary="Dots",
        detail="first\n.a period\n..two\n.",
    )

    (outcome,) = digests.send_due_digests(SEND_TIME + timedelta(minutes=5))

    assert outcome.status == "sent"
    (message,) = smtp_server.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "first\r\n.a period\r\n..two\r\n." in text

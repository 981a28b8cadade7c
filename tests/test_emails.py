"""The digest email itself: subject, parts, headers, links and escaping."""

import email
import email.policy
import random
import re
from datetime import datetime, timedelta
from email.generator import BytesGenerator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives as DjangoEmailMultiAlternatives

from tests.factories import make_negotiation, make_provision, make_user
from tracker import digests, emails, roles
from tracker.emails import EmailMultiAlternatives
from tracker.models import Activity, DigestPreference, Watch

SEND_TIME = datetime(2024, 2, 7, 7, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture
def sam(groups: dict):
    with time_machine.travel(SEND_TIME - timedelta(days=7), tick=False):
        user = make_user("sam", role=roles.VIEWER)
        DigestPreference.objects.create(user=user)
    return user


def _change(provision, summary: str, *, hours_before: int = 1, **fields: object) -> Activity:
    return Activity.objects.create(
        negotiation=provision.negotiation,
        provision=provision,
        kind=fields.pop("kind", "note"),
        occurred_at=SEND_TIME - timedelta(hours=hours_before),
        recorded_at=SEND_TIME - timedelta(hours=hours_before),
        summary=summary,
        **fields,
    )


@pytest.mark.django_db
def test_the_subject_names_the_negotiation_and_counts_the_changes(sam, settings) -> None:
    settings.SITE_URL = "https://tracker.example.org"
    provision = make_provision(make_negotiation(name="Security supplemental"))
    Watch.objects.create(user=sam, provision=provision)
    _change(provision, "one")
    _change(provision, "two", kind="status_change", from_value="proposed", to_value="in_text")

    message = digests.digest_message(digests.build_digest(sam, until=SEND_TIME))

    assert message.subject == "Security supplemental: 2 changes — Daily digest, Feb 7"
    assert message.to == ["sam@example.com"]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    for part in (message.body, html):
        assert "one" in part and "two" in part
        assert "Proposed → In text" in part
        assert f"https://tracker.example.org{provision.get_absolute_url()}" in part
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith(
        "<https://tracker.example.org/digests/unsubscribe/"
    )
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


@pytest.mark.django_db
def test_times_are_shown_in_the_users_time_zone(sam) -> None:
    DigestPreference.objects.filter(user=sam).update(time_zone="America/Los_Angeles")
    provision = make_provision()
    Watch.objects.create(user=sam, provision=provision)
    _change(provision, "west coast", hours_before=1)  # 6:00 AM New York is 3:00 AM Pacific

    message = digests.digest_message(digests.build_digest(sam, until=SEND_TIME))

    assert "Feb 7, 3:00 AM" in message.body
    assert "4:00 AM PST" in message.body  # the period ends at 7:00 New York time


@pytest.mark.django_db
def test_html_in_notes_and_quotes_is_escaped_in_the_html_part_only(sam) -> None:
    provision = make_provision(title="Aid <em>now</em>")
    Watch.objects.create(user=sam, provision=provision)
    _change(provision, "<img src=x onerror=alert(1)>", detail='He said "<b>no</b>" & left')

    message = digests.digest_message(digests.build_digest(sam, until=SEND_TIME))
    html = message.alternatives[0][0]

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;no&lt;/b&gt;" in html and "&amp; left" in html
    assert "Aid &lt;em&gt;now&lt;/em&gt;" in html
    assert "<img src=x onerror=alert(1)>" in message.body  # plain text shows it as written
    assert "&lt;" not in message.body


@pytest.mark.django_db
def test_an_empty_digest_says_nothing_changed(sam) -> None:
    Watch.objects.create(user=sam, provision=make_provision())

    message = digests.digest_message(digests.build_digest(sam, until=SEND_TIME))

    assert message.subject == "No changes on what you watch — Daily digest, Feb 7"
    assert "Nothing changed on the 1 item you watch." in message.body


# --- The MIME bytes: the quick way writes what Django's own would --------------------------


def _mime_bytes(message: EmailMultiAlternatives, *, djangos: bool, linesep: str) -> bytes:
    random.seed(7)  # the same boundary both ways
    mime = DjangoEmailMultiAlternatives.message(message) if djangos else message.message()
    return mime.as_bytes(linesep=linesep)


def _assert_same_bytes(message: EmailMultiAlternatives) -> None:
    with time_machine.travel(SEND_TIME, tick=False):  # the same Date header
        for linesep in ("\r\n", "\n"):
            ours = _mime_bytes(message, djangos=False, linesep=linesep)
            assert ours == _mime_bytes(message, djangos=True, linesep=linesep)
        # Read as the email package reads it, too.
        ours, djangos = message.message(), DjangoEmailMultiAlternatives.message(message)
        assert [part.get_payload() for part in ours.get_payload()] == [
            part.get_payload() for part in djangos.get_payload()
        ]
        random.seed(7)
        as_string = ours.as_string()
        random.seed(7)
        assert as_string == djangos.as_string()


@pytest.mark.django_db
def test_a_digest_is_the_same_mime_bytes_as_django_makes_the_slow_way(sam, settings) -> None:
    settings.SITE_URL = "https://tracker.example.org"
    provision = make_provision(make_negotiation(name="Grenzschutz “Ü” talks"), title="Aid <now>")
    Watch.objects.create(user=sam, provision=provision)
    for hours in range(1, 15):
        _change(provision, f"Note {hours} — “quoted” & <b>bold</b>", hours_before=hours)
    _change(provision, "moved", kind="status_change", from_value="proposed", to_value="in_text")

    message = digests.digest_message(digests.build_digest(sam, until=SEND_TIME))

    assert isinstance(message.message(), emails._MIMEMultipart)  # the quick way was taken
    _assert_same_bytes(message)
    parsed = email.message_from_bytes(
        message.message().as_bytes(linesep="\r\n"), policy=email.policy.default
    )
    for kind, sent in (("plain", message.body), ("html", message.alternatives[0][0])):
        received = parsed.get_body(preferencelist=(kind,)).get_content()
        assert received.replace("\r\n", "\n") == sent


def _boundary_at_seed_7() -> str:
    random.seed(7)
    return BytesGenerator._make_boundary()


@pytest.mark.parametrize(
    ("subject", "body", "html", "to"),
    [
        ("Plain ASCII", "text only\nin ASCII\n", "<p>html</p>\n", "ann@example.org"),
        (
            "A subject long enough — with a dash — that it has to be folded over two lines "
            "or even three, as “this” one is",
            "Zoë’s note — über\n",
            "<p>“Ü”</p>",
            "Zoë Ünder <zoe@example.org>",
        ),
        ("Line breaks", "CRLF\r\nlone CR\rLF\n\nend without one", "a\r\nb", "ann@example.org"),
        ("No text part", "", "<p>only html</p>\n", "ann@example.org"),
        ("Empty html", "text\n", "", "ann@example.org"),
        ("A long line", "short\n", "<p>" + "é" * 600 + "</p>\n", "ann@example.org"),
        ("A long ASCII line", "x" * 999 + "\n", "<p>ok</p>", "ann@example.org"),
        ("Not quite too long", "é" * 499 + "\n", "<p>ok</p>", "ann@example.org"),
        ("Mail-like text", "From here\n.\n..dots\n", "<p>\n.\n</p>", "ann@example.org"),
        (
            "The boundary in a part",
            f"before\n--{_boundary_at_seed_7()}\nafter\n--{_boundary_at_seed_7()}--\n",
            "<p>x</p>",
            "ann@example.org",
        ),
    ],
)
def test_any_text_message_is_the_same_mime_bytes_as_django_makes_the_slow_way(
    subject: str, body: str, html: str, to: str
) -> None:
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email="Negotiation Tracker <tracker@example.org>",
        to=[to],
        headers={"Message-ID": "<1.2@tracker.example.org>", "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")

    _assert_same_bytes(message)


@pytest.mark.parametrize(
    "data",
    [b"", b".", b"..", b"a\r\n.b\r\n", b".start\r\n", b"x\n.\n.\n", b"\r.\r\n..\r\n.", b"none"],
)
def test_dot_stuffing_doubles_a_period_starting_a_line_as_smtplib_does(data: bytes) -> None:
    assert emails.dot_stuffed(data) == re.sub(rb"(?m)^\.", b"..", data)

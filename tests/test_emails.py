"""The digest email itself: subject, parts, headers, links and escaping."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import make_negotiation, make_provision, make_user
from tracker import digests, roles
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

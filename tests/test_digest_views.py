"""The digest pages as staff use them: watch toggles, My watches, preferences, preview, and
unsubscribing from the email without logging in."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, make_provision, make_stakeholder, make_user
from tracker import digests
from tracker.models import DigestPreference, Watch


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def toggle_url(kind: str, pk: int) -> str:
    return reverse("tracker-watch-toggle", args=[kind, pk])


# --- The watch toggle -------------------------------------------------------------------------


@pytest.mark.django_db
def test_htmx_toggle_watches_and_returns_the_fragment(viewer) -> None:
    provision = make_provision()
    client = logged_in(viewer)

    response = client.post(
        toggle_url("provision", provision.pk), {"watch": "1"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert f'id="watch-provision-{provision.pk}"' in body
    assert 'hx-swap="outerHTML"' in body
    assert "Stop watching" in body
    assert Watch.objects.filter(user=viewer, provision=provision).exists()

    response = client.post(
        toggle_url("provision", provision.pk), {"watch": "0"}, headers={"HX-Request": "true"}
    )
    assert ">Watch<" in response.content.decode()
    assert not Watch.objects.filter(user=viewer, provision=provision).exists()


@pytest.mark.django_db
def test_toggle_without_javascript_redirects_back(viewer) -> None:
    stakeholder = make_stakeholder()

    response = logged_in(viewer).post(
        toggle_url("stakeholder", stakeholder.pk), {"watch": "1", "next": "/somewhere/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/somewhere/"
    assert Watch.objects.filter(user=viewer, stakeholder=stakeholder).exists()


@pytest.mark.django_db
def test_toggle_refuses_an_outside_next_url(viewer) -> None:
    response = logged_in(viewer).post(
        toggle_url("provision", make_provision().pk),
        {"watch": "1", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("tracker-my-watches")


@pytest.mark.django_db
def test_toggle_rejects_wrong_method_unknown_kinds_and_bad_values(viewer) -> None:
    client = logged_in(viewer)
    provision = make_provision()
    assert client.get(toggle_url("provision", provision.pk)).status_code == 405
    assert client.post(toggle_url("vote", 1), {"watch": "1"}).status_code == 404
    assert client.post(toggle_url("provision", 999999), {"watch": "1"}).status_code == 404
    assert client.post(toggle_url("provision", provision.pk), {"watch": "yes"}).status_code == 400


@pytest.mark.django_db
def test_toggle_refuses_a_user_without_a_role(groups) -> None:
    outsider = make_user("otto", role="Viewer")
    outsider.groups.clear()
    response = logged_in(outsider).post(
        toggle_url("provision", make_provision().pk), {"watch": "1"}
    )
    assert response.status_code == 403
    assert not Watch.objects.exists()


@pytest.mark.django_db
def test_toggle_needs_a_login(groups) -> None:
    response = Client().post(toggle_url("provision", make_provision().pk), {"watch": "1"})
    assert response.status_code == 302
    assert not Watch.objects.exists()


@pytest.mark.django_db
def test_the_fragment_reads_the_watches_once_for_many_toggles(
    viewer, django_assert_max_num_queries
) -> None:
    provisions = [make_provision() for _ in range(5)]
    for provision in provisions[:2]:
        digests.set_watch(viewer, provision, watching=True)
    client = logged_in(viewer)
    client.get(reverse("tracker-my-watches"))  # defaults applied, session warmed

    with django_assert_max_num_queries(12):
        response = client.get(reverse("tracker-my-watches"))

    # The two provisions, and the current negotiation every newcomer watches by default.
    assert response.content.decode().count("Stop watching") == 3


# --- My watches and preferences ---------------------------------------------------------------


@pytest.mark.django_db
def test_my_watches_lists_each_watch_with_a_toggle(viewer) -> None:
    provision = make_provision(title="Asylum officers")
    digests.set_watch(viewer, provision, watching=True)

    response = logged_in(viewer).get(reverse("tracker-my-watches"))

    assert response.status_code == 200
    assert "Asylum officers" in response.content.decode()
    assert f'id="watch-provision-{provision.pk}"' in response.content.decode()


@pytest.mark.django_db
def test_preferences_are_saved_and_validated(viewer) -> None:
    client = logged_in(viewer)
    url = reverse("tracker-digest-preferences")
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {"frequency": "weekly", "hour": "16", "weekday": "4", "time_zone": "America/Chicago"},
    )

    assert response.status_code == 302
    preference = DigestPreference.objects.get(user=viewer)
    assert (preference.frequency, preference.hour, preference.weekday) == ("weekly", 16, 4)
    assert preference.time_zone == "America/Chicago"
    assert preference.send_empty is False

    bad = client.post(
        url, {"frequency": "hourly", "hour": "25", "weekday": "0", "time_zone": "Mars/Base"}
    )
    assert bad.status_code == 400
    assert DigestPreference.objects.get(user=viewer).frequency == "weekly"


# --- Preview ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_preview_shows_my_digest_as_html_and_text(viewer) -> None:
    client = logged_in(viewer)
    response = client.get("/digests/preview")
    assert response.status_code == 200
    body = response.content.decode()
    assert "List-Unsubscribe" in body
    assert reverse("tracker-digest-preview-html") in body

    frame = client.get(reverse("tracker-digest-preview-html"))
    assert frame.status_code == 200
    assert "<table" in frame.content.decode()
    assert "'unsafe-inline'" in frame["Content-Security-Policy"]
    assert frame["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.django_db
def test_admins_preview_anyone_but_others_only_themselves(viewer, admin_user, editor) -> None:
    url = f"/digests/preview?user={viewer.get_username()}"
    response = logged_in(admin_user).get(url)
    assert response.status_code == 200
    assert f"for {viewer.get_username()}" in response.content.decode()

    refused = logged_in(editor).get(url)
    assert refused.status_code == 403
    assert b"Only Admins" in refused.content
    assert (
        logged_in(editor).get(f"{reverse('tracker-digest-preview-html')}?user=vera").status_code
        == 403
    )


# --- Unsubscribe ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_click_unsubscribe_needs_no_login_or_csrf(viewer) -> None:
    url = reverse("tracker-digest-unsubscribe", args=[digests.unsubscribe_token(viewer)])
    client = Client(enforce_csrf_checks=True)

    response = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert DigestPreference.objects.get(user=viewer).frequency == "off"


@pytest.mark.django_db
def test_the_unsubscribe_link_asks_before_it_acts(viewer) -> None:
    url = reverse("tracker-digest-unsubscribe", args=[digests.unsubscribe_token(viewer)])
    client = Client()

    page = client.get(url)
    assert page.status_code == 200
    assert b"Unsubscribe</button>" in page.content
    assert not DigestPreference.objects.filter(user=viewer, frequency="off").exists()

    response = client.post(url, {"confirm": "1"})
    assert response.status_code == 302
    done = client.get(response["Location"])
    assert b"will get no more digests" in done.content


@pytest.mark.django_db
def test_a_tampered_unsubscribe_link_is_refused(viewer) -> None:
    token = digests.unsubscribe_token(viewer)
    forged = token.replace(token.split(":")[0], "eyJ1Ijo5OTl9")  # another user id, old signature
    response = Client().post(reverse("tracker-digest-unsubscribe", args=[forged]))
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert not DigestPreference.objects.filter(frequency="off").exists()


@pytest.mark.django_db
def test_an_expired_unsubscribe_link_says_so(viewer) -> None:
    token = digests.unsubscribe_token(viewer)
    later = datetime.now(tz=UTC) + digests.UNSUBSCRIBE_MAX_AGE + timedelta(days=1)
    with time_machine.travel(later):
        response = Client().post(reverse("tracker-digest-unsubscribe", args=[token]))
    assert response.status_code == 400
    assert b"expired" in response.content
    assert PASSWORD  # personas log in with the shared test password elsewhere

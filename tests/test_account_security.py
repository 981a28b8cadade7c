"""Staff accounts hold up against a stolen session, password guessing, a promotion mid-session,
a browser left open, and a crash: each test is one way in that used to work."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, hotp_value
from django.contrib.auth.models import Group
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from tests.factories import PASSWORD, TOTP_SECRET, make_user
from tracker import roles

pytestmark = pytest.mark.django_db

MONDAY_9AM = datetime(2024, 2, 5, 14, 0, tzinfo=UTC)


def _login(client: Client, login: str, password: str = PASSWORD, **request: str):
    return client.post(reverse("account_login"), {"login": login, "password": password}, **request)


def _code() -> str:
    """The authenticator app's code right now (tests travel in time between two codes)."""
    return f"{hotp_value(TOTP_SECRET, int(time.time()) // 30):06d}"


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _reset_links_sent_to(mailoutbox: list, address: str) -> list:
    return [m for m in mailoutbox if address in m.to and "/password/reset/key/" in m.body]


# 8. A stolen session cannot take the account over.


def test_a_stolen_session_cannot_add_an_address_and_reset_the_password_to_it(
    client: Client, groups, mailoutbox
) -> None:
    make_user("eddie", role=roles.EDITOR)
    _login(client, "eddie")  # the thief's copy of eddie's session cookie

    added = client.post(reverse("account_email"), {"email": "thief@evil.example", "action_add": ""})

    assert added["Location"].startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email="thief@evil.example").exists()
    Client().post(reverse("account_reset_password"), {"email": "thief@evil.example"})
    assert _reset_links_sent_to(mailoutbox, "thief@evil.example") == []


@pytest.mark.parametrize("action", ["action_primary", "action_remove"])
def test_a_stolen_session_cannot_switch_or_remove_an_address(
    client: Client, groups, action: str
) -> None:
    eddie = make_user("eddie", role=roles.EDITOR)
    primary = EmailAddress.objects.create(
        user=eddie, email=eddie.email, verified=True, primary=True
    )
    EmailAddress.objects.create(user=eddie, email="eddie@home.example", verified=True)
    _login(client, "eddie")  # the thief's copy of eddie's session cookie

    response = client.post(reverse("account_email"), {"email": "eddie@home.example", action: ""})

    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert EmailAddress.objects.get(pk=primary.pk).primary
    assert EmailAddress.objects.filter(user=eddie, email="eddie@home.example").exists()
    eddie.refresh_from_db()
    assert eddie.email == primary.email


def test_an_added_address_logs_in_and_resets_only_once_its_code_is_entered(
    client: Client, groups, mailoutbox
) -> None:
    eddie = make_user("eddie", role=roles.EDITOR)
    _login(client, "eddie")
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    added = client.post(reverse("account_email"), {"email": "eddie@home.example", "action_add": ""})

    assert added["Location"] == reverse("account_email_verification_sent")
    assert "code" in client.get(added["Location"]).content.decode()
    code = client.session["account_email_verification_code"]["code"]
    assert code in mailoutbox[-1].body
    assert mailoutbox[-1].to == ["eddie@home.example"]
    stranger = Client()
    _login(stranger, "eddie@home.example")
    assert not _logged_in(stranger)
    stranger.post(reverse("account_reset_password"), {"email": "eddie@home.example"})
    assert _reset_links_sent_to(mailoutbox, "eddie@home.example") == []

    client.post(reverse("account_email_verification_sent"), {"code": code})

    assert EmailAddress.objects.get(email="eddie@home.example").verified
    _login(stranger, "eddie@home.example")
    assert _logged_in(stranger)
    # The address the Admin gave stays the account's own (digests go there) and still works.
    eddie.refresh_from_db()
    assert eddie.email == "eddie@example.com"
    assert _login(Client(), "eddie@example.com")["Location"] == "/"


def test_an_unverified_address_on_record_neither_logs_in_nor_gets_a_reset(
    client: Client, groups, mailoutbox
) -> None:
    eddie = make_user("eddie", role=roles.EDITOR)
    # Attached before verification was required, or typed into the admin without its tick.
    EmailAddress.objects.create(user=eddie, email="unproven@example.org", verified=False)

    _login(client, "unproven@example.org")
    client.post(reverse("account_reset_password"), {"email": "unproven@example.org"})

    assert not _logged_in(client)
    assert _reset_links_sent_to(mailoutbox, "unproven@example.org") == []


def test_staff_made_by_an_admin_log_in_by_username_or_address_with_nothing_to_verify(
    client: Client, groups, mailoutbox
) -> None:
    # Admins (and load_demo) make a user with an email field and no verified address record.
    make_user("eddie", role=roles.EDITOR)
    assert _login(client, "eddie")["Location"] == "/"
    client.post(reverse("account_logout"))
    assert _login(client, "Eddie@Example.com")["Location"] == "/"
    Client().post(reverse("account_reset_password"), {"email": "eddie@example.com"})
    assert len(_reset_links_sent_to(mailoutbox, "eddie@example.com")) == 1


@pytest.mark.parametrize("typed", ["vera@example.com", "Vera@Example.COM"])
def test_an_address_of_another_account_is_refused_whatever_its_case(
    client: Client, groups, mailoutbox, typed: str
) -> None:
    make_user("vera", role=roles.VIEWER)
    make_user("eddie", role=roles.EDITOR)
    _login(client, "eddie")
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    refused = client.post(reverse("account_email"), {"email": typed, "action_add": ""})

    assert refused.status_code == 200
    assert "already registered with this email" in refused.content.decode()
    assert mailoutbox == []
    assert "account_email_verification_code" not in client.session


def test_changing_the_password_asks_to_reauthenticate_first(client: Client, groups) -> None:
    eddie = make_user("eddie", role=roles.EDITOR)
    _login(client, "eddie")
    change = {"oldpassword": PASSWORD, "password1": "a new long passphrase", "password2": ""}
    change["password2"] = change["password1"]

    asked = client.post(reverse("account_change_password"), change)

    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    eddie.refresh_from_db()
    assert eddie.check_password(PASSWORD)
    # The settings page itself opens without asking.
    assert client.get(reverse("account_change_password")).status_code == 200


def test_removing_the_authenticator_app_needs_a_code_from_it_not_the_password(
    client: Client, groups
) -> None:
    make_user("eddie", role=roles.EDITOR, with_totp=True)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        _login(client, "eddie")
        client.post(reverse("mfa_authenticate"), {"code": _code()})

        asked = client.post(reverse("mfa_deactivate_totp"))
        assert asked["Location"].startswith(reverse("mfa_reauthenticate"))
        # A stolen session plus a phished password is not enough.
        by_password = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
        assert by_password["Location"].startswith(reverse("mfa_reauthenticate"))
        client.post(reverse("mfa_deactivate_totp"))
        assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).exists()

        clock.shift(60)
        client.post(reverse("mfa_reauthenticate"), {"code": _code()})
        client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(type=Authenticator.Type.TOTP).exists()


# 9. Lockout counts the account, whichever of its names was typed.


def test_five_wrong_passwords_by_email_lock_out_login_by_username(client: Client, groups) -> None:
    make_user("eddie", role=roles.EDITOR)
    for _ in range(5):
        _login(client, "eddie@example.com", "wrong")

    _login(client, "eddie")

    assert not _logged_in(client)


def test_five_wrong_passwords_by_username_lock_out_login_by_email(client: Client, groups) -> None:
    make_user("eddie", role=roles.EDITOR)
    for _ in range(5):
        _login(client, "EDDIE", "wrong")

    _login(client, "Eddie@Example.com")

    assert not _logged_in(client)


def test_a_lockout_outlives_a_cache_holding_more_than_its_default_300_entries(
    client: Client, groups
) -> None:
    make_user("eddie", role=roles.EDITOR)
    for _ in range(5):
        _login(client, "eddie", "wrong")

    # Every failed login for another name adds an entry like these; 400 of them used to evict
    # eddie's counter (the database cache culls a third of its entries past MAX_ENTRIES).
    for attempt in range(400):
        cache.set(f"login-failures-for-another-name-{attempt}", [time.time()], 300)

    _login(client, "eddie")
    assert not _logged_in(client)


def test_clients_behind_the_trusted_proxy_are_counted_by_their_own_address(
    client: Client, groups, settings
) -> None:
    # What TRUSTED_PROXY_COUNT=1 sets (see test_settings): the proxy appends the client's address.
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    make_user("eddie", role=roles.EDITOR)
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for attempt in range(10):
        _login(client, f"guess-{attempt}", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)

    colleague = Client()
    _login(colleague, "eddie", HTTP_X_FORWARDED_FOR="forged, 198.51.100.7", **proxy)

    assert _logged_in(colleague)
    _login(client, "eddie", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    assert not _logged_in(client)


def test_without_a_trusted_proxy_a_forged_forwarded_for_header_dodges_nothing(
    client: Client, groups
) -> None:
    make_user("eddie", role=roles.EDITOR)
    for attempt in range(10):
        _login(client, f"guess-{attempt}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")

    _login(client, "eddie", HTTP_X_FORWARDED_FOR="192.0.2.200")

    assert not _logged_in(client)


# 10. A promotion to Admin takes effect on the next request, second factor included.


def _promote_to_admin(user) -> None:
    user.groups.set([Group.objects.get(name=roles.ADMIN)])
    user.is_staff = True
    user.save(update_fields=["is_staff"])


def test_an_editor_promoted_mid_session_must_set_up_the_app_before_using_the_admin(
    client: Client, groups
) -> None:
    eddie = make_user("eddie", role=roles.EDITOR)
    _login(client, "eddie")
    assert client.get(reverse("tracker-my-watches")).status_code == 200

    _promote_to_admin(eddie)

    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_activate_totp")


def test_a_session_signed_in_by_password_alone_must_use_the_app_once_its_user_is_an_admin(
    client: Client, groups
) -> None:
    eddie = make_user("eddie", role=roles.EDITOR)
    with time_machine.travel(MONDAY_9AM, tick=False):
        _login(client, "eddie")
        assert client.get(reverse("tracker-my-watches")).status_code == 200
        # Elsewhere, eddie sets up an app and is made an Admin; this session never used it.
        TOTP.activate(eddie, TOTP_SECRET)
        _promote_to_admin(eddie)

        asked = client.get(reverse("admin:index"))
        assert asked["Location"].startswith(reverse("mfa_reauthenticate"))
        client.post(asked["Location"], {"code": _code()})

        assert client.get(reverse("admin:index")).status_code == 200


# 11. Sessions end when left idle and after a working day, whatever happens.


def test_a_session_left_idle_for_two_hours_is_signed_out(client: Client, groups) -> None:
    make_user("eddie", role=roles.EDITOR)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        _login(client, "eddie")
        assert client.get(reverse("tracker-my-watches")).status_code == 200

        clock.shift(timedelta(hours=1, minutes=59))
        assert client.get(reverse("tracker-my-watches")).status_code == 200
        clock.shift(timedelta(hours=2, minutes=1))
        response = client.get(reverse("tracker-my-watches"))

    assert response["Location"].startswith(reverse("account_login"))
    assert not _logged_in(client)


def test_a_session_in_steady_use_still_ends_twelve_hours_after_login(
    client: Client, groups
) -> None:
    make_user("eddie", role=roles.EDITOR)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        _login(client, "eddie")
        for _ in range(11):
            clock.shift(timedelta(hours=1))
            assert client.get(reverse("tracker-my-watches")).status_code == 200

        clock.shift(timedelta(hours=1, minutes=1))
        response = client.get(reverse("tracker-my-watches"))

    assert response["Location"].startswith(reverse("account_login"))


def test_keeping_a_session_alive_does_not_write_it_on_every_request(client: Client, groups) -> None:
    make_user("eddie", role=roles.EDITOR)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        _login(client, "eddie")
        client.get(reverse("tracker-my-watches"))
        clock.shift(20)
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("tracker-my-watches"))

    writes = [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"] and q["sql"].startswith(("UPDATE", "INSERT"))
    ]
    assert writes == []


def test_a_client_cannot_claim_https_with_a_forwarded_proto_header() -> None:
    # Without TRUSTED_PROXY_COUNT nobody in front of the app vouches for the header.
    request = RequestFactory().get("/", headers={"X-Forwarded-Proto": "https"})
    assert not request.is_secure()


# 15. Error pages carry the same security headers as every other page.


def _fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view broke")


urlpatterns = [path("fails", _fails)]


def _assert_security_headers(response: HttpResponse) -> None:
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "base-uri 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_500_raised_in_a_middleware_carries_the_security_headers(settings, monkeypatch) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000

    def database_down(self, request: HttpRequest) -> None:
        raise DatabaseError("the database went away")

    monkeypatch.setattr(SessionMiddleware, "process_request", database_down)

    response = Client(raise_request_exception=False).get("/", secure=True)

    assert response.status_code == 500
    _assert_security_headers(response)
    assert "went wrong" in response.content.decode()


def test_a_500_raised_in_a_view_carries_the_security_headers(settings) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.ROOT_URLCONF = __name__

    response = Client(raise_request_exception=False).get("/fails", secure=True)

    assert response.status_code == 500
    _assert_security_headers(response)


def test_pages_may_not_set_a_base_url(client: Client) -> None:
    policy = client.get(reverse("account_login"))["Content-Security-Policy"]
    assert "base-uri 'none'" in policy

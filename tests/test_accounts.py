"""Staff log in by username or email, Admins with an authenticator app; no public sign-up."""

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import hotp_value
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, TOTP_SECRET, make_user
from tracker import roles

pytestmark = pytest.mark.django_db


def _login(client: Client, login: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def test_staff_log_in_by_username_or_email(client: Client, groups) -> None:
    make_user("eddie", role=roles.EDITOR)
    assert _login(client, "eddie")["Location"] == "/"
    client.post(reverse("account_logout"))
    assert _login(client, "eddie@example.com")["Location"] == "/"


def test_the_login_page_is_in_the_apps_own_look(client: Client) -> None:
    page = client.get(reverse("account_login")).content.decode()
    assert "tracker/app.css" in page
    assert "Negotiation tracker" in page


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_account(
    client: Client, groups
) -> None:
    make_user("eddie", role=roles.EDITOR)
    for _ in range(5):
        assert _login(client, "eddie", "wrong").status_code == 200
    locked = _login(client, "eddie")  # even the right password, for now
    assert locked.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


def test_there_is_no_public_sign_up(client: Client) -> None:
    response = client.get(reverse("account_signup"))
    assert "Sign Up Closed" in response.content.decode() or response.status_code in (403, 404)


def test_logout_needs_a_post(client: Client, groups) -> None:
    user = make_user("eddie", role=roles.EDITOR)
    client.force_login(user)
    client.get(reverse("account_logout"))
    assert "_auth_user_id" in client.session
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_an_admin_without_an_authenticator_app_must_set_one_up(client: Client, groups) -> None:
    make_user("ada", role=roles.ADMIN, with_totp=False)
    _login(client, "ada")
    response = client.get(reverse("tracker-home"))
    assert response["Location"] == reverse("mfa_activate_totp")
    # Setting up a second factor asks for the password once more (allauth's reauthentication).
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(
        reverse("account_reauthenticate")
    )
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 200
    assert "authenticator" in setup.content.decode().lower()
    htmx = client.get(reverse("tracker-provision-list"), headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"] == reverse("mfa_activate_totp")


def test_others_may_skip_the_authenticator_app(client: Client, groups) -> None:
    client.force_login(make_user("vera", role=roles.VIEWER))
    assert client.get(reverse("tracker-home")).status_code in (200, 404)


def test_an_admin_logs_in_with_a_code_and_reaches_the_admin(client: Client, groups) -> None:
    make_user("ada", role=roles.ADMIN)
    assert _login(client, "ada")["Location"] == reverse("mfa_authenticate")
    code = hotp_value(TOTP_SECRET, int(time.time()) // 30)
    response = client.post(reverse("mfa_authenticate"), {"code": f"{code:06d}"})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_login_goes_through_the_staff_login(client: Client) -> None:
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_password_reset_sends_an_email(client: Client, groups, mailoutbox) -> None:
    make_user("eddie", role=roles.EDITOR)
    client.post(reverse("account_reset_password"), {"email": "eddie@example.com"})
    assert len(mailoutbox) == 1
    assert "eddie@example.com" in mailoutbox[0].to


def test_setting_up_the_app_shows_the_whole_secret_then_a_way_on(client: Client, groups) -> None:
    """Before: the secret sat in a narrow disabled input that cut it off, and the recovery
    codes page that follows had no link back into the tracker."""
    make_user("eddie", role=roles.EDITOR)
    _login(client, "eddie")
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    setup = client.get(reverse("mfa_activate_totp")).content.decode()

    shown = re.search(
        r'<code class="totp-secret" id="authenticator_secret"[^>]*>([A-Z2-7]+)<', setup
    )
    assert shown and len(shown.group(1)) == 32  # every character of the base32 secret, as text
    code = hotp_value(shown.group(1), int(time.time()) // 30)
    activated = client.post(reverse("mfa_activate_totp"), {"code": f"{code:06d}"})
    assert activated["Location"] == reverse("mfa_view_recovery_codes")

    codes = client.get(activated["Location"]).content.decode()

    assert re.search(r'<a class="button" href="/">Continue</a>', codes)
    assert len(re.findall(r"<li><code>\d+</code></li>", codes)) == 10
    assert reverse("mfa_download_recovery_codes") in codes

"""In a real browser: an administrator logs in, moves provisions in bulk, and sees it on the
dashboard's timeline."""

import time

import pytest
from allauth.mfa.totp.internal.auth import hotp_value

from tests.factories import PASSWORD, TOTP_SECRET, make_user
from tests.pages import ARTIFACTS
from tracker import roles
from tracker.demo import load_demo
from tracker.models import Activity, ActivityKind, Provision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser):
    return browser.new_page(viewport={"width": 1280, "height": 900})


def test_an_admin_moves_provisions_and_sees_it_on_the_dashboard(live_server, page) -> None:
    roles.ensure_roles()
    load_demo()
    make_user("ada", role=roles.ADMIN)
    dropped = list(Provision.objects.filter(status="dropped").order_by("title")[:2])

    # The admin logs in through the staff login, then with a code from the authenticator app.
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=login]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.fill("input[name=code]", f"{hotp_value(TOTP_SECRET, int(time.time()) // 30):06d}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.locator("#content-main").get_by_role("link", name="Provisions").first.click()
    for provision in dropped:
        page.check(f"input[name=_selected_action][value='{provision.pk}']")
    page.select_option("select[name=action]", "mark_in_negotiation")
    page.click("button[name=index]")

    assert page.locator(".messagelist").inner_text() == "2 provision(s) moved to In negotiation."
    changes = Activity.objects.filter(kind=ActivityKind.STATUS_CHANGE, actor__username="ada")
    assert {change.provision_id for change in changes} == {p.pk for p in dropped}

    page.goto(f"{live_server.url}/")
    timeline = page.locator(".timeline").inner_text()
    for provision in dropped:
        assert f"{provision.title}: Dropped → In negotiation" in timeline
    page.screenshot(path=str(ARTIFACTS / "dashboard-after-bulk-change.png"), full_page=True)

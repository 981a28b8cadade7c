"""In a real browser: an editor records a senator's position on the whip board and watches the
count move without a page load."""

from datetime import date

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import make_negotiation, make_provision, make_stakeholder, make_user
from tests.pages import ARTIFACTS
from tracker import roles
from tracker.models import Position
from tracker.models.whip import VoteTarget, VoteTargetLink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context(browser):
    return browser.new_context(viewport={"width": 1280, "height": 1000})


def _log_in(context, live_server, user) -> None:
    """Hand the browser a session, so this test is about the board, not the login page."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )


def test_an_editor_records_a_position_and_the_count_moves(live_server, browser_context) -> None:
    from playwright.sync_api import expect

    roles.ensure_roles()
    editor = make_user("eddie", role=roles.EDITOR)
    negotiation = make_negotiation()
    target = VoteTarget.objects.create(
        negotiation=negotiation, motion="Cloture on the motion to proceed", stale_after_days=30
    )
    deal = make_provision(negotiation, title="Senate border deal", kind="package")
    VoteTargetLink.objects.create(target=target, provision=deal)
    lankford = make_stakeholder(name="James Lankford", party="R", state="OK")
    murphy = make_stakeholder(name="Christopher Murphy", party="D", state="CT")
    murphy.record_position(stance="firm_support", as_of=date.today(), provision=deal)
    _log_in(browser_context, live_server, editor)
    page = browser_context.new_page()

    page.goto(f"{live_server.url}/whip/{target.pk}/")
    assert page.locator("#yes-count").inner_text() == "1"
    assert page.locator("#still-needed").inner_text() == "59"

    row = page.locator(f"#member-{lankford.pk}")
    row.locator("summary").click()  # the member's line opens: why, and the actions
    row.get_by_text("Record position").click()  # the form opens under the member
    row.locator(f"select[name='m{lankford.pk}-target']").select_option(f"provision:{deal.pk}")
    row.locator(f"input[name='m{lankford.pk}-stance'][value=lean_support]").check()
    row.locator(f"input[name='m{lankford.pk}-source_url']").fill("https://example.org/floor")
    row.get_by_role("button", name="Record").click()

    expect(page.locator("#yes-count")).to_have_text("2")
    assert page.locator("#still-needed").inner_text() == "58"
    assert "Recorded James Lankford's position" in page.locator("#board").inner_text()
    assert page.locator(f"#member-{lankford.pk}").get_attribute("data-group") == "lean_yes"
    # The swap happened in place: the page never navigated away from the board.
    assert page.url == f"{live_server.url}/whip/{target.pk}/"
    position = Position.objects.get(stakeholder=lankford)
    assert (position.stance, position.recorded_by_id) == ("lean_support", editor.pk)

    page.screenshot(path=str(ARTIFACTS / "whip-board-after-recording.png"), full_page=True)

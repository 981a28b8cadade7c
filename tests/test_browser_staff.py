"""A new staff member in a real browser: log in, find a provision, change its status without a
page reload, record a senator's position; a Viewer finds no edit controls."""

import pytest

from tests.factories import PASSWORD, make_provision, make_user
from tests.pages import ARTIFACTS
from tracker import roles
from tracker.demo import load_demo
from tracker.models import Activity, ActivityKind, Position, Provision, Stakeholder, Stance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff(live_server) -> str:
    roles.ensure_roles()
    load_demo()
    make_user("eddie", role=roles.EDITOR)
    make_user("vera", role=roles.VIEWER)
    return live_server.url


def _log_in(browser, base: str, username: str, width: int = 1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            message.type == "error" and errors.append(f"{message.text} at {message.location}")
        ),
    )
    page.goto(f"{base}/provisions/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/provisions/")
    page.console_errors = errors
    return page


def test_an_editor_finds_a_provision_and_changes_its_status_in_place(browser, staff) -> None:
    page = _log_in(browser, staff, "eddie")
    page.screenshot(path=str(ARTIFACTS / "provisions-list.png"), full_page=True)

    page.fill("form.filters input[name=q]", "emergency authority")
    page.wait_for_url("**q=emergency*")
    rows = page.locator("#provision-results tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1
    target = Provision.objects.get(slug="border-emergency-authority")
    assert target.title in rows.first.inner_text()

    page.click(f"text={target.title}")
    page.wait_for_url(f"**/provisions/{target.pk}/")
    page.screenshot(path=str(ARTIFACTS / "provision-detail.png"), full_page=True)
    page.evaluate("window.loadMarker = 'still the same page'")
    page.select_option("#status-" + str(target.pk) + "-detail", "proposed")
    page.fill("#note-" + str(target.pk), "Revived for the May re-vote")
    page.click("#provision-status button[type=submit]")

    page.locator("#status-history").get_by_text("Dropped → Proposed").wait_for()
    assert page.evaluate("window.loadMarker") == "still the same page"  # no reload
    assert "Proposed" in page.locator("#provision-status .current-status").inner_text()
    page.screenshot(path=str(ARTIFACTS / "provision-after-status-change.png"), full_page=True)
    change = Activity.objects.get(provision=target, kind=ActivityKind.STATUS_CHANGE)
    assert change.actor.username == "eddie" and change.detail == "Revived for the May re-vote"
    assert page.console_errors == [], page.console_errors


def _wait_out_a_reload(page) -> None:
    """Give a list reload time to happen (the filter form waits 300 ms, then the server)."""
    page.wait_for_timeout(1200)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("how", ["mouse", "keyboard"])
def test_the_status_chosen_on_a_list_row_is_the_one_saved(browser, staff, how: str) -> None:
    dropped = Provision.objects.filter(status="dropped").order_by("title").first()
    page = _log_in(browser, staff, "eddie")
    page.goto(f"{staff}/provisions/?sort=title")
    page.evaluate("window.loadMarker = 'the list as loaded'")
    row = page.locator(f"#provision-row-{dropped.pk}")
    row.get_by_role("link", name="Change status").click()  # the form opens on demand
    select = row.locator("select[name=status]")
    select.wait_for()

    if how == "mouse":
        select.select_option("in_negotiation")
    else:
        select.focus()
        page.keyboard.press("ArrowDown")  # Choose… → Proposed
        page.keyboard.press("ArrowDown")  # → In negotiation
    _wait_out_a_reload(page)

    assert select.input_value() == "in_negotiation"  # the list did not reload under it
    row.locator("button[type=submit]").click()
    confirmation = row.get_by_role("status")
    confirmation.get_by_text("is now In negotiation").wait_for()
    assert confirmation.get_by_role("button", name="Undo").count() == 1
    # Focus stays on the row that changed, so the keyboard user is where they were.
    # (The focus moves once htmx has settled the swap, just after the message shows.)
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.closest('tr')?.id === id",
        arg=f"provision-row-{dropped.pk}",
    )
    dropped.refresh_from_db()
    assert dropped.status == "in_negotiation"
    change = Activity.objects.get(provision=dropped, kind=ActivityKind.STATUS_CHANGE)
    assert (change.from_value, change.to_value) == ("dropped", "in_negotiation")
    assert change.actor.username == "eddie"
    assert page.evaluate("window.loadMarker") == "the list as loaded"
    assert page.console_errors == [], page.console_errors


def _choose_target(page, typed: str, provision: Provision) -> None:
    """The "On" list is long: type part of the title and pick it from the type-ahead."""
    # The text box the type-ahead puts over the select (once htmx has settled a swapped form).
    page.get_by_role("combobox", name="On").and_(page.locator("input")).fill(typed)
    page.get_by_role("option", name=provision.title).click()
    assert page.locator("select[name=target]").input_value() == f"provision:{provision.pk}"


def test_an_editor_records_a_senators_position(browser, staff) -> None:
    page = _log_in(browser, staff, "eddie")
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    deal = Provision.objects.get(slug="senate-deal-package")
    page.goto(f"{staff}/stakeholders/{senator.pk}/")
    _choose_target(page, "Senate bipartisan deal", deal)
    page.check("input[name=stance][value=lean_oppose]")
    page.fill("input[name=as_of]", "2024-05-20")
    page.fill("input[name=source_url]", "https://example.org/murkowski-may")
    page.fill("textarea[name=statement]", "Now doubts the border title")
    page.click("#stakeholder-positions button[type=submit]")

    page.locator("text=Recorded: Lean oppose").wait_for()
    page.screenshot(path=str(ARTIFACTS / "stakeholder-after-position.png"), full_page=True)
    current = Position.objects.filter(stakeholder=senator, provision=deal).current().get()
    assert current.stance == "lean_oppose"
    assert "Lean oppose" in page.locator("#stakeholder-positions table").first.inner_text()

    page.goto(f"{staff}/timeline/")
    assert "Lisa Murkowski on" in page.locator("#timeline-entries").inner_text()
    page.screenshot(path=str(ARTIFACTS / "timeline.png"), full_page=True)
    page.goto(f"{staff}/positions/")
    page.screenshot(path=str(ARTIFACTS / "position-grid.png"), full_page=True)
    page.goto(f"{staff}/")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


def test_recording_positions_twice_keeps_one_history_table(browser, staff) -> None:
    page = _log_in(browser, staff, "eddie")
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    deal = Provision.objects.get(slug="senate-deal-package")
    page.goto(f"{staff}/stakeholders/{senator.pk}/")

    for stance, day in [("lean_oppose", "2024-05-20"), ("undecided", "2024-05-21")]:
        _choose_target(page, "Senate bipartisan deal", deal)
        page.check(f"input[name=stance][value={stance}]")
        page.fill("input[name=as_of]", day)
        page.click("#stakeholder-positions button[type=submit]")
        page.locator(f"text=Recorded: {dict(Stance.choices)[stance]}").wait_for()

    assert page.get_by_role("heading", name="Every position, newest first").count() == 1
    assert page.locator("#position-history").count() == 1
    history = page.locator("#position-history tbody").inner_text()
    assert history.index("Undecided") < history.index("Lean oppose")  # newest first


def test_a_viewer_finds_no_edit_controls(browser, staff) -> None:
    page = _log_in(browser, staff, "vera", width=390)  # a phone's width
    page.screenshot(path=str(ARTIFACTS / "provisions-list-phone-viewer.png"), full_page=True)
    assert page.locator("form.status-form").count() == 0
    provision = make_provision(
        Provision.objects.first().negotiation, title="A line still in the text", status="in_text"
    )
    page.goto(f"{staff}/provisions/{provision.pk}/")
    assert page.locator("form.status-form").count() == 0
    assert page.locator("text=Add note").count() == 0
    senator = Stakeholder.objects.get(slug="james-lankford")
    page.goto(f"{staff}/stakeholders/{senator.pk}/")
    assert page.locator("text=Record a position").count() == 0
    page.screenshot(path=str(ARTIFACTS / "stakeholder-phone-viewer.png"), full_page=True)

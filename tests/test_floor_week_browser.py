"""Floor week in a real browser (Chromium): pages fit a phone and a laptop, search as you type,
the whip board updates a member in place with focus kept, a colleague's change shows up within
10 seconds, and axe-core finds no serious or critical problem on the staff pages."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import make_user
from tests.pages import ARTIFACTS
from tracker import roles
from tracker.demo import load_demo
from tracker.models import Position, Provision, SeenMarker, Stakeholder
from tracker.models.whip import VoteTarget

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.14, MPL-2.0
WIDTHS = {"phone": (390, 844), "wide": (1440, 900)}


@pytest.fixture
def floor(live_server, settings):
    settings.LIVE_POLL_SECONDS = 1
    roles.ensure_roles()
    negotiation, _ = load_demo()
    editor = make_user("eddie", role=roles.EDITOR)
    admin = make_user("ada", role=roles.ADMIN)
    target = VoteTarget.objects.filter(negotiation=negotiation).order_by("expected_on").first()
    return {"base": live_server.url, "editor": editor, "admin": admin, "target": target}


def _context(browser, floor, user, width: int = 1440, height: int = 900, **options):
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": floor["base"]}]
    )
    return context


def _pages(floor) -> dict[str, str]:
    provision = Provision.objects.get(slug="ukraine")
    return {
        "dashboard": "/",
        "provisions": "/provisions/",
        "provision": f"/provisions/{provision.pk}/",
        "whip": f"/whip/{floor['target'].pk}/",
        "grid": "/positions/",
        "funding": "/funding/",
        "timeline": "/timeline/",
        "search": "/search/?q=Ukraine+aid",
        "stakeholders": "/stakeholders/",
    }


@pytest.mark.parametrize("size", ["phone", "wide"])
def test_no_page_runs_wider_than_the_screen(browser, floor, size: str) -> None:
    width, height = WIDTHS[size]
    context = _context(browser, floor, floor["admin"], width, height)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    for name, path in _pages(floor).items():
        page.goto(floor["base"] + path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.screenshot(path=str(ARTIFACTS / f"floor-{name}-{size}.png"), full_page=True)
        assert overflow <= 0, (name, size, overflow)
        header = page.locator(".site-header").bounding_box()
        # A compact header: one line on a laptop, and at most two short ones on a phone.
        assert header["height"] <= (60 if size == "wide" else 100), (name, header)
    assert errors == [], errors


def test_the_funding_table_shows_the_newest_version_at_1280(browser, floor) -> None:
    context = _context(browser, floor, floor["editor"], 1280, 900)
    page = context.new_page()
    page.goto(floor["base"] + "/funding/")
    box = page.locator(".funding-scroll").bounding_box()
    last = page.locator("#funding-table thead th").last.bounding_box()
    assert last["x"] + last["width"] <= box["x"] + box["width"] + 1
    # The header stays in view while the table scrolls.
    page.locator(".funding-scroll").evaluate("box => box.scrollTop = 600")
    header = page.locator("#funding-table thead th").first.bounding_box()
    assert abs(header["y"] - box["y"]) < 3


def test_search_as_you_type_and_the_slash_key(browser, floor) -> None:
    context = _context(browser, floor, floor["editor"])
    page = context.new_page()
    page.goto(floor["base"] + "/provisions/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-q"
    page.keyboard.type("H.R. 8035", delay=30)
    panel = page.locator("#search-panel")
    panel.get_by_text("H.R. 8035: Ukraine Security Supplemental").first.wait_for()
    assert page.url.endswith("/provisions/")  # results came under the box, no page load
    page.fill("#site-q", "Ukraine aid")
    panel.get_by_role("link", name="Ukraine (military, economic and related aid)").wait_for()
    page.keyboard.press("Escape")
    assert panel.inner_text() == ""
    page.fill("#site-q", "Ukraine aid")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=Ukraine+aid")
    page.screenshot(path=str(ARTIFACTS / "floor-search-typed.png"), full_page=True)


def test_the_whip_board_updates_a_member_in_place_with_focus_kept(browser, floor) -> None:
    from playwright.sync_api import expect

    target = floor["target"]
    VoteTarget.objects.filter(pk=target.pk).update(vote=None)  # an open count, as of today
    mcconnell = Stakeholder.objects.get(slug="mitch-mcconnell")
    context = _context(browser, floor, floor["editor"])
    page = context.new_page()
    page.goto(f"{floor['base']}/whip/{target.pk}/")
    page.evaluate("window.loadMarker = 'the board as loaded'")
    member = page.locator(f"#member-{mcconnell.pk}")
    member.locator("summary").click()
    member.get_by_role("link", name="Record position").click()
    prefix = f"m{mcconnell.pk}"
    form = member.locator(".member-slot form")
    link = target.links.filter(provision__isnull=False).first()
    form.locator(f"select[name='{prefix}-target']").select_option(f"provision:{link.provision_id}")
    form.locator(f"input[name='{prefix}-stance'][value=firm_oppose]").check()
    form.locator(f"input[name='{prefix}-as_of']").fill(date.today().isoformat())
    form.get_by_role("button", name="Record").click()

    expect(page.get_by_role("status").first).to_contain_text("Recorded Mitch McConnell's position")
    moved = page.locator(f"#member-{mcconnell.pk}")
    expect(moved).to_have_attribute("data-group", "firm_no")
    assert page.locator(f"#group-firm_no #member-{mcconnell.pk}").count() == 1
    # Focus is on the member, in their new column; the page never reloaded.
    assert page.evaluate("document.activeElement.closest('li').id") == f"member-{mcconnell.pk}"
    assert page.evaluate("window.loadMarker") == "the board as loaded"
    assert Position.objects.filter(stakeholder=mcconnell, recorded_by=floor["editor"]).exists()
    page.screenshot(path=str(ARTIFACTS / "floor-whip-after-recording.png"), full_page=True)


def test_a_colleagues_change_shows_up_within_10_seconds(browser, floor) -> None:
    from playwright.sync_api import expect

    provision = Provision.objects.filter(status="dropped").order_by("title").first()
    context = _context(browser, floor, floor["editor"])
    page = context.new_page()
    page.goto(f"{floor['base']}/provisions/{provision.pk}/")
    page.evaluate("window.loadMarker = 'the page as loaded'")
    note = page.locator(f"#note-{provision.pk}")
    note.fill("Half-typed reason")
    note.focus()

    colleague = make_user("colleague", role=roles.EDITOR)
    provision.change_status("proposed", by=colleague, note="From the floor")

    expect(page.locator("#current-status")).to_contain_text("Proposed", timeout=10_000)
    expect(page.locator("#status-history")).to_contain_text("Dropped → Proposed")
    assert note.input_value() == "Half-typed reason"  # what the user was typing is still there
    assert page.evaluate("document.activeElement.id") == f"note-{provision.pk}"
    assert page.evaluate("window.loadMarker") == "the page as loaded"

    dashboard = context.new_page()
    dashboard.goto(floor["base"] + "/")
    dashboard.wait_for_load_state("networkidle")  # the page has posted its "seen" marker
    assert SeenMarker.objects.filter(user=floor["editor"], page="dashboard").exists()
    Provision.objects.get(pk=provision.pk).change_status("in_negotiation", by=colleague)
    expect(dashboard.locator("#latest-activity")).to_contain_text(
        "Proposed → In negotiation", timeout=10_000
    )
    expect(dashboard.locator("#status-strip")).to_contain_text("1 change", timeout=10_000)


def _axe(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text())
    results = page.evaluate("async () => await axe.run(document)")
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_or_critical_problem(browser, floor) -> None:
    provision = Provision.objects.get(slug="ukraine")
    pages = [
        *_pages(floor).values(),
        f"/whip/{floor['target'].pk}/results/",
        "/demands/",
        "/bills/",
        "/votes/",
        "/feeds/",
        "/digests/preferences/",
        "/digests/preview",
        f"/admin/tracker/provision/{provision.pk}/change/",
        "/admin/",
    ]
    found = {}
    for size in ("wide", "phone"):
        width, height = WIDTHS[size]
        # The script is injected into the page, which the CSP would refuse.
        context = _context(browser, floor, floor["admin"], width, height, bypass_csp=True)
        page = context.new_page()
        for path in pages:
            page.goto(floor["base"] + path)
            page.wait_for_load_state("networkidle")
            problems = _axe(page)
            if problems:
                found[(size, path)] = [
                    (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in problems
                ]
        context.close()
    assert found == {}, found

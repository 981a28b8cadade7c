"""Forms that don't mislead, and the small things, in a real browser (Chromium): type-ahead over
the long selects (type, arrow down, Enter; the form sends the chosen value; without JavaScript
the plain select), amounts typed as staff write them, the feed card after Refresh now, the
two-factor set-up, the digest preview, the funding comparison's empty columns and the error
pages, each fitting 390 and 1440 px with no serious or critical axe-core finding."""

import pytest

from tests.factories import PASSWORD, make_provision
from tests.pages import ARTIFACTS
from tests.test_floor_week_browser import WIDTHS, _axe, _context
from tracker.demo import load_demo
from tracker.feeds import queue, sync
from tracker.models import Demand, FeedRun, Position, Provision, Stakeholder
from tracker.models.whip import VoteTarget, VoteTargetLink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, viewer, editor, admin_user):
    negotiation, _ = load_demo()
    return {
        "base": live_server.url,
        "viewer": viewer,
        "editor": editor,
        "admin": admin_user,
        "demo": negotiation,
    }


def _page(browser, site, user, size: str = "wide", **options):
    width, height = WIDTHS[size]
    context = _context(browser, site, user, width, height, **options)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    return page


def _fits(page, name: str, size: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / f"forms-{name}-{size}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, (name, size, overflow)


def _choose(page, combobox: str, typed: str, expected: str, shot: str = "") -> None:
    """Type into a combobox, arrow down to the first option, Enter; the option was `expected`.
    With `shot`, a screenshot of the page with the list open."""
    from playwright.sync_api import expect

    box = page.locator(f"#{combobox}")
    box.click()
    box.press_sequentially(typed, delay=40)
    listbox = page.locator(f"#{combobox}-listbox")
    expect(listbox.get_by_role("option").first).to_contain_text(expected)
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active and expected in page.locator(f"#{active}").inner_text()
    if shot:
        page.screenshot(path=str(ARTIFACTS / f"forms-{shot}.png"), full_page=True)
    box.press("Enter")


# Type-ahead ------------------------------------------------------------------------------------


def test_the_demand_form_finds_a_stakeholder_and_provisions_as_you_type(browser, site) -> None:
    from playwright.sync_api import expect

    page = _page(browser, site, site["editor"])
    page.goto(site["base"] + "/demands/new")
    # The select is there, hidden, holding the value; the text box took its label.
    box = page.locator("#id_demanded_by")
    assert box.get_attribute("role") == "combobox"
    assert page.get_by_role("combobox", name="Demanded by").get_attribute("id") == "id_demanded_by"
    assert page.locator("#id_demanded_by-select").is_hidden()

    _choose(page, "id_demanded_by", "murk", "Lisa Murkowski (R-AK)")
    expect(box).to_have_value("Lisa Murkowski (R-AK)")
    expect(box).to_have_attribute("aria-expanded", "false")
    murkowski = Stakeholder.objects.get(slug="lisa-murkowski")
    assert page.locator("#id_demanded_by-select").input_value() == str(murkowski.pk)

    ukraine = Provision.objects.get(slug="ukraine")
    _choose(page, "id_provisions", "ukraine (mil", ukraine.title)
    chosen = page.get_by_role("list", name="Chosen: Provisions")
    expect(chosen).to_contain_text(ukraine.title)
    assert page.get_by_role("status").filter(has_text="Added").count() == 1
    # Escape closes the list; typed text that was not chosen is put back when focus leaves.
    page.locator("#id_provisions").press("Escape")
    expect(page.locator("#id_provisions")).to_have_attribute("aria-expanded", "false")
    box.fill("zzzz")
    expect(page.locator(".combobox-note").first).to_have_text("No match for “zzzz”.")
    page.locator("#id_title").click()
    expect(box).to_have_value("Lisa Murkowski (R-AK)")
    page.screenshot(path=str(ARTIFACTS / "forms-demand-typeahead-wide.png"), full_page=True)

    page.fill("#id_title", "Typed-ahead demand")
    page.fill("#id_asks", "Something specific")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/demands/*/")
    demand = Demand.objects.get(title="Typed-ahead demand")
    assert demand.demanded_by == murkowski
    assert list(demand.provisions.all()) == [ukraine]
    assert page.console_errors == []


def test_the_position_form_on_a_stakeholders_page_records_the_chosen_item(browser, site) -> None:
    from playwright.sync_api import expect

    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    deal = Provision.objects.get(slug="senate-deal-package")
    page = _page(browser, site, site["editor"])
    page.goto(f"{site['base']}/stakeholders/{senator.pk}/")

    _choose(page, "id_target", "senate bipartisan", deal.title)
    expect(page.locator("#id_target")).to_have_value(deal.title)
    page.locator("input[name=stance][value=lean_oppose]").check()
    page.get_by_role("button", name="Record").click()

    expect(page.get_by_role("status").filter(has_text="Recorded:")).to_contain_text(deal.title)
    position = Position.objects.filter(stakeholder=senator, recorded_by=site["editor"]).get()
    assert (position.provision, position.stance) == (deal, "lean_oppose")


def test_the_whip_boards_member_form_gets_type_ahead_when_it_opens(browser, site) -> None:
    """The form comes into the member's row by HTMX; a vote about many items lists them all."""
    from playwright.sync_api import expect

    target = VoteTarget.objects.filter(negotiation=site["demo"]).order_by("expected_on").first()
    VoteTarget.objects.filter(pk=target.pk).update(vote=None)  # an open count, as of today
    extra = [make_provision(site["demo"], title=f"Amendment {n:02d}") for n in range(20)]
    VoteTargetLink.objects.bulk_create([VoteTargetLink(target=target, provision=p) for p in extra])
    senator = Stakeholder.objects.get(slug="mitch-mcconnell")
    page = _page(browser, site, site["editor"])
    page.goto(f"{site['base']}/whip/{target.pk}/")
    member = page.locator(f"#member-{senator.pk}")
    member.locator("summary").click()
    member.get_by_role("link", name="Record position").click()

    combobox = f"id_m{senator.pk}-target"
    page.locator(f"input#{combobox}").wait_for()  # the type-ahead over the form's select
    _choose(page, combobox, "amendment 1", "Amendment 10", shot="whip-typeahead-open-wide")
    form = member.locator(".member-slot form")
    form.locator(f"input[name='m{senator.pk}-stance'][value=firm_oppose]").check()
    form.get_by_role("button", name="Record").click()

    expect(page.get_by_role("status").first).to_contain_text("Recorded Mitch McConnell's position")
    position = Position.objects.get(stakeholder=senator, recorded_by=site["editor"])
    assert position.provision.title == "Amendment 10"


def test_without_javascript_the_plain_selects_still_work(browser, site) -> None:
    page = _page(browser, site, site["editor"], java_script_enabled=False)
    page.goto(site["base"] + "/demands/new")
    select = page.locator("#id_demanded_by")
    assert select.evaluate("e => e.tagName") == "SELECT" and select.is_visible()
    senator = Stakeholder.objects.get(slug="james-lankford")
    select.select_option(str(senator.pk))
    page.locator("#id_provisions").select_option(str(Provision.objects.get(slug="ukraine").pk))
    page.fill("#id_title", "Chosen without JavaScript")
    page.fill("#id_asks", "Something")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/demands/*/")
    assert Demand.objects.get(title="Chosen without JavaScript").demanded_by == senator


def test_the_type_ahead_passes_axe_open_and_closed(browser, site) -> None:
    found = {}
    for size in ("wide", "phone"):
        page = _page(browser, site, site["editor"], size, bypass_csp=True)
        page.goto(site["base"] + "/demands/new")
        page.wait_for_load_state("networkidle")
        found[(size, "closed")] = _axe(page)
        page.locator("#id_demanded_by").click()
        page.locator("#id_demanded_by").press_sequentially("sen", delay=30)
        page.locator("#id_demanded_by-listbox [role=option]").first.wait_for()
        page.locator("#id_demanded_by").press("ArrowDown")
        _fits(page, "demand-typeahead-open", size)
        found[(size, "open")] = _axe(page)
    assert {key: value for key, value in found.items() if value} == {}


# Amounts -----------------------------------------------------------------------------------


def test_an_admin_types_an_amount_as_written_and_reads_it_back(browser, site) -> None:
    from playwright.sync_api import expect

    ukraine = Provision.objects.get(slug="ukraine")
    for size in ("phone", "wide"):
        page = _page(browser, site, site["admin"], size)
        page.goto(f"{site['base']}/provisions/{ukraine.pk}/")
        _fits(page, "provision-amounts", size)
    enacted = page.get_by_label("Amount in Public Law 118-50")
    expect(enacted).to_have_value("60,840,000,000")
    enacted.fill("$61.5B")
    page.get_by_role("button", name="Save amounts").click()
    expect(page.locator("#messages")).to_contain_text("Saved: Enacted $60.84B → $61.5B.")
    expect(page.get_by_label("Amount in Public Law 118-50")).to_have_value("61,500,000,000")
    _fits(page, "provision-amounts-saved", "wide")


# The feed card -------------------------------------------------------------------------------


def test_the_feed_card_after_refresh_now_shows_how_the_source_now_stands(
    browser, site, monkeypatch
) -> None:
    from playwright.sync_api import expect

    for _ in range(2):
        run = queue.queue_run("house", trigger="schedule")
        recorder = sync._begin("house", "", run_id=run.pk, trigger="schedule", progress=None)
        sync._finish(
            recorder,
            fatal="house-119-2-1: https://clerk.house.gov/evs/2026/roll001.xml/"
            "a-long-path-that-has-no-spaces-to-break-at unreachable (ConnectError)",
        )

    def refresh(source: str, *, user: object = None) -> FeedRun:
        run = queue.queue_run(source, user=user)
        recorder = sync._begin(source, "", run_id=run.pk, trigger="manual", progress=None)
        recorder.run.updated = 3
        return sync._finish(recorder)

    monkeypatch.setattr("tracker.views.feeds.enqueue_refresh", refresh)
    for size in ("phone", "wide"):
        page = _page(browser, site, site["editor"], size)
        page.goto(site["base"] + "/feeds/")
        card = page.locator("#feed-house")
        expect(card).to_contain_text("Error streak")
        _fits(page, "feeds-before-refresh", size)
    expect(card.locator("dd").nth(2)).to_have_text("2 runs")

    card.get_by_role("button", name="Refresh now").click()

    card = page.locator("#feed-house")
    expect(card.locator("dd").nth(2)).to_have_text("0")
    expect(card.locator("dd").first).not_to_have_text("never")
    expect(card).not_to_contain_text("stale")
    assert page.evaluate("document.activeElement.id") == "refresh-house"
    latest = FeedRun.objects.filter(source="house").first()
    expect(page.locator("#feed-runs tr").first).to_contain_text(str(latest.pk))
    _fits(page, "feeds-after-refresh", "wide")


# Two-factor set-up, the digest preview, the funding comparison ------------------------------


def test_the_totp_secret_is_shown_whole_and_the_codes_page_leads_on(browser, site) -> None:
    import time

    from allauth.mfa.totp.internal.auth import hotp_value

    for size in ("phone", "wide"):
        page = _page(browser, site, site["editor"], size)
        page.goto(site["base"] + "/accounts/2fa/totp/activate")
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        secret = page.locator("#authenticator_secret")
        secret.wait_for()
        # Every character in view: nothing cut off or scrolled away.
        assert secret.evaluate("e => e.scrollWidth <= e.clientWidth && e.textContent.length")
        _fits(page, "totp-activate", size)
    code = hotp_value(secret.inner_text(), int(time.time()) // 30)
    page.fill("input[name=code]", f"{code:06d}")
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/2fa/recovery-codes/")
    _fits(page, "recovery-codes", "wide")
    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(site["base"] + "/")


def test_the_digest_preview_and_the_funding_toggle_fit_a_phone(browser, site) -> None:
    from playwright.sync_api import expect

    for size in ("phone", "wide"):
        page = _page(browser, site, site["editor"], size)
        page.goto(site["base"] + "/digests/preview")
        _fits(page, "digest-preview", size)
        page.goto(site["base"] + "/funding/")
        page.get_by_role("link", name="Hide its column").click()
        page.wait_for_url("**/funding/?empty=hide")
        expect(page.locator("#funding-table thead th").nth(1)).to_contain_text("Request")
        _fits(page, "funding-hidden", size)
        page.get_by_role("link", name="Show every version").click()
        expect(page.locator("#funding-table thead th").nth(1)).to_contain_text("House text")


# Error pages and the icon ----------------------------------------------------------------------


def test_error_pages_look_like_the_site_and_no_page_misses_its_icon(
    browser, site, monkeypatch
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    target = VoteTarget.objects.filter(negotiation=site["demo"]).first()
    for size in ("phone", "wide"):
        viewer = _page(browser, site, site["viewer"], size)
        viewer.goto(f"{site['base']}/provisions/99999999/")
        _styled(viewer)
        _fits(viewer, "404", size)
        viewer.goto(f"{site['base']}/whip/{target.pk}/members/{senator.pk}/position/")
        _styled(viewer)
        _fits(viewer, "403", size)
        admin = _page(browser, site, site["admin"], size)
        admin.goto(f"{site['base']}/admin/")
        admin.wait_for_load_state("networkidle")
        assert admin.console_errors == [], admin.console_errors
    monkeypatch.setattr("tracker.views.favicon.static", broken)
    for size in ("phone", "wide"):
        page = _page(browser, site, site["editor"], size)
        page.goto(f"{site['base']}/favicon.ico")
        _styled(page)
        _fits(page, "500", size)


def _styled(page) -> None:
    """The site's stylesheet is applied: the header's rule and the page's width are its own."""
    page.wait_for_load_state("networkidle")
    header = page.locator(".site-header").evaluate("e => getComputedStyle(e).borderBottomStyle")
    width = page.locator("main").evaluate("e => getComputedStyle(e).maxWidth")
    assert (header, width) == ("solid", "1280px")


def test_the_changed_pages_pass_axe(browser, site) -> None:
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    ukraine = Provision.objects.get(slug="ukraine")
    editor_pages = [
        "/demands/new",
        f"/stakeholders/{senator.pk}/",
        "/digests/preferences/",
        "/digests/preview",
        "/feeds/",
        "/funding/?empty=hide",
        "/provisions/99999999/",
    ]
    found = {}
    for size in ("wide", "phone"):
        for user, paths in (
            (site["editor"], editor_pages),
            (site["admin"], [f"/provisions/{ukraine.pk}/"]),
        ):
            page = _page(browser, site, user, size, bypass_csp=True)
            for path in paths:
                page.goto(site["base"] + path)
                page.wait_for_load_state("networkidle")
                problems = _axe(page)
                if problems:
                    found[(size, path)] = [(v["id"], v["impact"]) for v in problems]
            page.context.close()
    assert found == {}, found

"""Editors change a provision's status inline; a stale submit never overwrites a newer change."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_provision, make_user
from tracker import roles
from tracker.models import Activity, ActivityKind, Provision, VersionLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_text(demo) -> Provision:
    # The demo's provisions all reached the record's end state; this one is still in the text.
    return make_provision(demo, title="Security grants for places of worship", status="in_text")


def _status_url(provision: Provision) -> str:
    return reverse("tracker-provision-status", args=[provision.pk])


def test_an_editor_changes_a_status_from_the_list_row(client: Client, editor, in_text) -> None:
    client.force_login(editor)

    response = client.post(
        _status_url(in_text),
        {"status": "passed_senate", "revision": in_text.revision, "shown_in": "row"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert f'id="provision-row-{in_text.pk}"' in body
    assert 'id="status-counts" class="status-counts" hx-swap-oob="true"' in body
    in_text.refresh_from_db()
    assert in_text.status == "passed_senate" and in_text.revision == 2
    change = Activity.objects.get(provision=in_text, kind=ActivityKind.STATUS_CHANGE)
    assert change.actor == editor


def test_on_the_detail_page_the_change_lands_in_the_history(
    client: Client, editor, in_text
) -> None:
    client.force_login(editor)
    response = client.post(
        _status_url(in_text),
        {"status": "in_negotiation", "revision": 1, "note": "Talks reopened", "shown_in": "detail"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert 'id="provision-status"' in body
    assert 'hx-swap-oob="afterbegin:#status-history"' in body
    assert "In text → In negotiation" in body


def test_without_javascript_the_form_posts_and_redirects(client: Client, editor, in_text) -> None:
    client.force_login(editor)
    response = client.post(_status_url(in_text), {"status": "passed_house", "revision": 1})
    assert response.status_code == 302
    assert response["Location"] == in_text.get_absolute_url()
    page = client.get(response["Location"]).content.decode()
    assert "is now Passed House" in page


def test_a_stale_submit_is_refused_and_keeps_the_users_choice(
    client: Client, editor, in_text
) -> None:
    colleague = make_user("bob", role=roles.EDITOR)
    in_text.change_status("passed_senate", by=colleague, based_on_revision=1)
    client.force_login(editor)

    response = client.post(
        _status_url(in_text),
        {"status": "dropped", "revision": 1, "note": "Collapsed", "shown_in": "detail"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 409
    assert "Not saved: bob changed this provision" in body
    assert "In text → Passed Senate" in body
    assert '<option value="dropped" selected>' in body  # the user's choice is kept
    assert 'value="Collapsed"' in body
    assert 'name="revision" value="2"' in body  # resubmitting applies it on top
    in_text.refresh_from_db()
    assert in_text.status == "passed_senate"
    assert Activity.objects.filter(provision=in_text, kind=ActivityKind.STATUS_CHANGE).count() == 1


def test_a_forged_transition_is_refused(client: Client, editor, demo) -> None:
    enacted = Provision.objects.get(negotiation=demo, slug="ukraine")
    client.force_login(editor)
    response = client.post(
        _status_url(enacted), {"status": "proposed", "revision": 1}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "cannot move from Enacted to Proposed" in response.content.decode()
    enacted.refresh_from_db()
    assert enacted.status == "enacted"


@pytest.mark.parametrize(
    "data",
    [
        {"status": "finished", "revision": 1},
        {"status": "dropped"},
        {"status": "dropped", "revision": "two"},
        {"status": "dropped", "revision": 1, "note": "x" * 501},
    ],
)
def test_a_bad_status_form_changes_nothing(client: Client, editor, in_text, data: dict) -> None:
    client.force_login(editor)
    response = client.post(_status_url(in_text), data)
    assert response.status_code == 422
    assert "The status was not changed" in response.content.decode()
    in_text.refresh_from_db()
    assert (in_text.status, in_text.revision) == ("in_text", 1)


def test_notes_are_escaped_wherever_they_are_shown(client: Client, editor, in_text) -> None:
    client.force_login(editor)
    client.post(
        reverse("tracker-provision-note", args=[in_text.pk]),
        {"text": "<script>alert('x')</script> watch this"},
    )
    for url in (in_text.get_absolute_url(), reverse("tracker-timeline"), reverse("tracker-home")):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page, url
        assert "&lt;script&gt;alert" in page, url


def test_an_admin_sets_amounts_in_whole_dollars(client: Client, admin_user, demo) -> None:
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    line = VersionLine.objects.get(provision=provision, version__slug="enacted")
    client.force_login(admin_user)
    prefix = f"v{line.version_id}-amount"
    fields = {f"v{v.version_id}-amount": v.amount or "" for v in provision.lines.all()}

    bad = client.post(
        reverse("tracker-provision-amounts", args=[provision.pk]), fields | {prefix: "-5"}
    )
    assert bad.status_code == 422
    assert "Enter whole dollars" in bad.content.decode()
    cents = client.post(
        reverse("tracker-provision-amounts", args=[provision.pk]),
        fields | {prefix: "60840000000.50"},
    )
    assert cents.status_code == 422
    line.refresh_from_db()
    assert line.amount == 60_840_000_000

    good = client.post(
        reverse("tracker-provision-amounts", args=[provision.pk]),
        fields | {prefix: "60,850,000,000"},
    )
    assert good.status_code == 302
    line.refresh_from_db()
    assert line.amount == 60_850_000_000
    change = Activity.objects.get(provision=provision, kind=ActivityKind.AMOUNT_CHANGE)
    assert change.summary.endswith("$60,840,000,000 → $60,850,000,000")


def test_search_and_filters_are_in_the_url_and_narrow_the_list(
    client: Client, viewer, demo
) -> None:
    client.force_login(viewer)
    response = client.get(
        reverse("tracker-provision-list"),
        {"q": "asylum", "kind": "policy"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    titles = list(
        Provision.objects.filter(negotiation=demo, kind="policy", title__icontains="asylum")
    )
    assert titles
    for provision in titles:
        assert provision.title in body
    assert "Ukraine (military" not in body


def test_the_list_is_paginated_and_sorted(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    response = client.get(reverse("tracker-provision-list"), {"sort": "title"})
    assert "Page 1 of 2" in response.content.decode()
    assert "sort=title&amp;page=2" in response.content.decode()
    first = response.context["page"]
    assert first.paginator.count == Provision.objects.filter(negotiation=demo).count()
    assert len(first.object_list) == 25
    titles = [p.title for p in first.object_list]
    assert titles == sorted(titles)
    second = client.get(reverse("tracker-provision-list"), {"sort": "title", "page": 2})
    assert second.context["page"].number == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_changes_from_the_same_revision_make_exactly_one(demo) -> None:
    roles.ensure_roles()
    alice = make_user("alice", role=roles.EDITOR)
    bob = make_user("bob", role=roles.EDITOR)
    provision = make_provision(demo, title="A line still in the text", status="in_text")
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def submit(user, status: str) -> None:
        client = Client()
        client.force_login(user)
        barrier.wait()
        try:
            response = client.post(_status_url(provision), {"status": status, "revision": 1})
            results[user.username] = response.status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=submit, args=(alice, "passed_senate")),
        threading.Thread(target=submit, args=(bob, "dropped")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results.values()) == [302, 409]
    provision.refresh_from_db()
    winner = "alice" if results["alice"] == 302 else "bob"
    assert provision.status == {"alice": "passed_senate", "bob": "dropped"}[winner]
    assert provision.revision == 2
    changes = Activity.objects.filter(provision=provision, kind=ActivityKind.STATUS_CHANGE)
    assert [change.actor.username for change in changes] == [winner]
    assert provision.history.count() == 2  # created by the demo load, then one change


def _amount_fields(provision: Provision) -> dict[str, str]:
    return {f"v{line.version_id}-amount": line.amount or "" for line in provision.lines.all()}


@pytest.mark.parametrize(
    "typed",
    [
        "6084000000²",  # a superscript two passes str.isdigit()
        "٦٠٨٤٠٠٠٠٠٠٠",  # Arabic-Indic digits pass it too, and int() reads them
        "123456789012345678901234567890",  # 30 digits: more than the column holds
        "1,23,456",  # commas that do not group thousands
        "$1.5",  # cents
    ],
)
def test_an_amount_that_is_not_whole_ascii_dollars_in_range_is_refused_with_a_message(
    client: Client, admin_user, demo, typed: str
) -> None:
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    enacted = VersionLine.objects.get(provision=provision, version__slug="enacted")
    client.force_login(admin_user)

    response = client.post(
        reverse("tracker-provision-amounts", args=[provision.pk]),
        _amount_fields(provision) | {f"v{enacted.version_id}-amount": typed},
    )

    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.content.decode()
    enacted.refresh_from_db()
    assert enacted.amount == 60_840_000_000
    assert not Activity.objects.filter(kind=ActivityKind.AMOUNT_CHANGE).exists()


def test_amounts_are_saved_all_together_or_not_at_all(client: Client, admin_user, demo) -> None:
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    lines = list(provision.lines.order_by("version__dated"))
    before = {line.pk: line.amount for line in lines}
    client.force_login(admin_user)
    fields = _amount_fields(provision)
    # The first two fields change; the third is bad.
    fields[f"v{lines[0].version_id}-amount"] = "1"
    fields[f"v{lines[1].version_id}-amount"] = "2"
    fields[f"v{lines[2].version_id}-amount"] = "3²"

    response = client.post(reverse("tracker-provision-amounts", args=[provision.pk]), fields)

    assert response.status_code == 422
    assert {line.pk: line.amount for line in provision.lines.all()} == before
    assert not Activity.objects.filter(kind=ActivityKind.AMOUNT_CHANGE).exists()


def test_amounts_can_be_typed_as_staff_write_them(client: Client, admin_user, demo) -> None:
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    enacted = VersionLine.objects.get(provision=provision, version__slug="enacted")
    client.force_login(admin_user)

    for typed, stored in [("$60.85B", 60_850_000_000), ("481M", 481_000_000), ("1,900", 1900)]:
        response = client.post(
            reverse("tracker-provision-amounts", args=[provision.pk]),
            _amount_fields(provision) | {f"v{enacted.version_id}-amount": typed},
        )
        assert response.status_code == 302, typed
        enacted.refresh_from_db()
        assert enacted.amount == stored


def _shown_amounts(page: str) -> dict[str, str]:
    """Each amount input's name and the value it shows."""
    return dict(
        re.findall(r'<input id="amount-\d+" name="(v\d+-amount)"[^>]*?value="([^"]*)"', page)
    )


def test_the_amounts_form_shows_every_digit_and_what_it_accepts(
    client: Client, admin_user, demo
) -> None:
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    request = VersionLine.objects.get(provision=provision, version__stage="request")
    client.force_login(admin_user)

    page = client.get(provision.get_absolute_url()).content.decode()

    # Grouped and exact, never rounded to "$61.4B" in the box; read short beside it.
    assert _shown_amounts(page)[f"v{request.version_id}-amount"] == "61,400,000,000"
    assert '<span class="amount-read">$61.4B</span>' in page
    assert "<kbd>$61.4B</kbd>" in page and 'aria-describedby="amounts-hint"' in page
    # A phone's number pad has no "$" or "B": the box takes text.
    assert 'inputmode="numeric"' not in page


def test_saving_the_form_as_shown_changes_nothing(client: Client, admin_user, demo) -> None:
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    client.force_login(admin_user)
    shown = _shown_amounts(client.get(provision.get_absolute_url()).content.decode())
    lines = {line.pk: line.amount for line in VersionLine.objects.filter(provision=provision)}

    response = client.post(
        reverse("tracker-provision-amounts", args=[provision.pk]), shown, follow=True
    )

    assert "No amount changed." in response.content.decode()
    assert {line.pk: line.amount for line in VersionLine.objects.filter(provision=provision)} == (
        lines
    )
    assert not Activity.objects.filter(kind=ActivityKind.AMOUNT_CHANGE).exists()


def test_after_saving_the_page_says_what_changed_as_staff_read_it(
    client: Client, admin_user, demo
) -> None:
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    enacted = VersionLine.objects.get(provision=provision, version__slug="enacted")
    client.force_login(admin_user)
    shown = _shown_amounts(client.get(provision.get_absolute_url()).content.decode())

    response = client.post(
        reverse("tracker-provision-amounts", args=[provision.pk]),
        shown | {f"v{enacted.version_id}-amount": "$61.5B"},
        follow=True,
    )

    page = response.content.decode()
    assert "Saved: Enacted $60.84B → $61.5B." in page
    assert _shown_amounts(page)[f"v{enacted.version_id}-amount"] == "61,500,000,000"
    assert '<span class="amount-read">$61.5B</span>' in page


def test_an_empty_amount_adds_no_line_to_a_version_without_one(
    client: Client, admin_user, demo
) -> None:
    """Reproduced before the fix: saving the form with H.R. 2's box left empty gave Ukraine a
    line in H.R. 2, and the page then said it was "Included" there instead of "not in the
    record"."""
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    assert not VersionLine.objects.filter(provision=provision, version__stage="house_text").exists()
    client.force_login(admin_user)
    shown = _shown_amounts(client.get(provision.get_absolute_url()).content.decode())
    assert "" in shown.values()  # H.R. 2's box, empty

    client.post(reverse("tracker-provision-amounts", args=[provision.pk]), shown)

    assert not VersionLine.objects.filter(provision=provision, version__stage="house_text").exists()
    page = client.get(provision.get_absolute_url()).content.decode()
    assert "not in the record" in page


# Kept parts: the list and the page are drawn once per change and shared by everyone with the
# same query and role; forms, tokens and watch buttons are drawn for each viewer.


def _without_tokens(page: str) -> str:
    """The page as it reads: CSRF tokens are masked afresh on every response."""
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", page)


def _provision_queries(client: Client, url: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        body = _without_tokens(client.get(url).content.decode())
    return body, [query["sql"] for query in captured if "tracker_provision" in query["sql"]]


def test_the_list_is_drawn_once_and_then_served_as_it_was(client: Client, viewer, demo) -> None:
    client.force_login(viewer)
    url = reverse("tracker-provision-list") + "?sort=title&page=2"

    first, first_queries = _provision_queries(client, url)
    again, again_queries = _provision_queries(client, url)

    assert again == first
    assert first_queries and not again_queries
    # Another filter is another list.
    other = client.get(reverse("tracker-provision-list") + "?sort=title").content.decode()
    assert other != first


def test_a_status_change_shows_in_the_list_at_once(client: Client, viewer, editor, in_text) -> None:
    url = reverse("tracker-provision-list") + f"?q={in_text.title}"
    client.force_login(viewer)
    assert "In text" in client.get(url).content.decode()

    client.force_login(editor)
    client.post(_status_url(in_text), {"status": "passed_senate", "revision": 1})
    client.force_login(viewer)
    row = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert "Passed Senate" in row and "eddie" in row


@pytest.mark.parametrize("first", ["viewer", "editor"])
def test_row_actions_are_only_for_editors_whoever_came_first(
    client: Client, viewer, editor, in_text, first
) -> None:
    users = {"viewer": viewer, "editor": editor}
    url = reverse("tracker-provision-list")
    pages = {}
    for name in [first, *(set(users) - {first})]:
        client.force_login(users[name])
        pages[name] = client.get(url).content.decode()

    assert f'href="{_status_url(in_text)}"' in pages["editor"]
    assert "Change status" not in pages["viewer"]
    assert "Change status" in pages["editor"]


def test_the_page_is_drawn_once_and_a_note_shows_at_once(
    client: Client, viewer, editor, in_text
) -> None:
    client.force_login(viewer)
    url = in_text.get_absolute_url()
    first = client.get(url)
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url)
    assert _without_tokens(again.content.decode()) == _without_tokens(first.content.decode())
    assert not [query for query in captured if "tracker_position" in query["sql"]]

    client.force_login(editor)
    client.post(reverse("tracker-provision-note", args=[in_text.pk]), {"text": "Whip count Tue"})
    client.force_login(viewer)
    page = client.get(url).content.decode()
    polled = client.get(
        url + "?live=1", headers={"HX-Request": "true", "If-None-Match": first["ETag"]}
    ).content.decode()

    assert "Whip count Tue" in page
    assert "Whip count Tue" in polled and 'id="provision-notes" hx-swap-oob="true"' in polled


def test_an_amount_saved_shows_on_the_page_at_once(client: Client, admin_user, demo) -> None:
    provision = Provision.objects.get(negotiation=demo, slug="ukraine")
    client.force_login(admin_user)
    url = provision.get_absolute_url()
    assert 'value="60,840,000,000"' in client.get(url).content.decode()
    fields = {f"v{line.version_id}-amount": line.amount or "" for line in provision.lines.all()}
    enacted = VersionLine.objects.get(provision=provision, version__slug="enacted")

    client.post(
        reverse("tracker-provision-amounts", args=[provision.pk]),
        fields | {f"v{enacted.version_id}-amount": "60,850,000,000"},
    )
    page = client.get(url).content.decode()

    assert 'value="60,850,000,000"' in page and 'value="60,840,000,000"' not in page


@pytest.mark.parametrize("first", ["viewer", "editor"])
def test_forms_on_the_page_are_the_viewers_own_whoever_came_first(
    client: Client, viewer, editor, in_text, first
) -> None:
    users = {"viewer": viewer, "editor": editor}
    pages = {}
    for name in [first, *(set(users) - {first})]:
        client.force_login(users[name])
        pages[name] = client.get(in_text.get_absolute_url()).content.decode()

    assert 'name="status"' in pages["editor"] and "Add note" in pages["editor"]
    assert 'name="status"' not in pages["viewer"] and "Add note" not in pages["viewer"]
    # Each gets the page with their own token (the watch button's form is everyone's).
    tokens = {
        name: set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))
        for name, page in pages.items()
    }
    assert tokens["viewer"] and tokens["editor"] and not tokens["viewer"] & tokens["editor"]

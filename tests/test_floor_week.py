"""Built for floor week: the dashboard's status strip and "since your last visit", the timeline's
times and date ranges, and live pages answered 304 while nothing changed."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from tests.factories import link_to_target, make_provision, make_vote_target
from tracker.models import Activity, Provision, SeenMarker, Stakeholder
from tracker.page_cache import current_stamp
from tracker.views.live import etag, latest_activity_id

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _note(demo, editor, text: str) -> Activity:
    provision = Provision.objects.filter(negotiation=demo).order_by("pk").first()
    return Activity.add_note(provision, text, by=editor)


# The status strip --------------------------------------------------------------------------------


def test_the_strip_comes_first_with_stage_floor_whip_and_changes(client: Client, editor, demo):
    client.force_login(editor)
    body = client.get("/").content.decode()
    strip = body.index('id="status-strip"')
    assert strip < body.index("Latest activity") < body.index(demo.summary[:40])
    for label in ("Stage", "Next on the floor", "Whip count", "Since your last visit"):
        assert label in body[strip : strip + 4000]
    assert "first visit" in body  # no marker yet


def test_the_strip_reads_the_floor_picture_and_the_open_count(client: Client, editor, demo):
    """Stage and next step come from where_it_stands; the open count from the whip board."""
    from tracker.models import Bill, VoteTarget

    bill = Bill.objects.get(bill_type="hr", number=815)
    Bill.objects.filter(pk=bill.pk).update(stage="passed_house", stage_on="2024-04-20")
    target = VoteTarget.objects.filter(negotiation=demo).order_by("expected_on").last()
    VoteTarget.objects.filter(pk=target.pk).update(vote=None)
    client.force_login(editor)
    body = client.get("/").content.decode()
    strip = body[body.index('id="status-strip"') :][:4000]
    assert "H.R. 815" in strip and "Apr 20, 2024" in strip
    assert "yes of <strong>" in strip and f"/whip/{target.pk}/" in strip


def test_changes_since_the_last_visit_are_counted_and_listed(client: Client, editor, demo):
    client.force_login(editor)
    SeenMarker.mark(editor, "dashboard", activity_id=latest_activity_id())
    first = _note(demo, editor, "Whip office hears Tillis may move")
    second = _note(demo, editor, "Leader files cloture tonight")
    body = client.get("/").content.decode()
    assert "<strong>2</strong> changes" in body
    marker = SeenMarker.objects.get(user=editor, page="dashboard")
    link = f"/timeline/?after={marker.activity_id}&amp;upto={second.pk}"
    assert link in body
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert first.summary in listed and second.summary in listed
    assert "What changed since your last visit" in listed
    older = Activity.objects.filter(pk__lte=marker.activity_id, negotiation=demo).first()
    assert older.summary not in listed


def test_the_page_posts_its_marker_and_a_get_never_moves_it(client: Client, editor, demo):
    client.force_login(editor)
    body = client.get("/").content.decode()
    assert 'class="seen-form"' in body and 'hx-trigger="load"' in body
    assert not SeenMarker.objects.filter(user=editor).exists()  # the GET wrote nothing
    stamp = latest_activity_id()
    response = client.post(
        reverse("tracker-seen", args=["dashboard"]), {"activity": stamp}, headers=HTMX
    )
    assert response.status_code == 204
    assert SeenMarker.objects.get(user=editor, page="dashboard").activity_id == stamp
    # Never backwards: an older page posting late does not undo a newer visit.
    client.post(reverse("tracker-seen", args=["dashboard"]), {"activity": 1}, headers=HTMX)
    assert SeenMarker.objects.get(user=editor, page="dashboard").activity_id == stamp
    # Without JavaScript the button posts and comes back to the dashboard.
    response = client.post(reverse("tracker-seen", args=["dashboard"]), {"activity": stamp})
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize(
    ("page", "activity"), [("dashboard", "x"), ("anything", "1"), ("dashboard", "")]
)
def test_a_bad_marker_is_refused(client: Client, editor, demo, page, activity):
    client.force_login(editor)
    response = client.post(reverse("tracker-seen", args=[page]), {"activity": activity})
    assert response.status_code == 400
    assert client.get(reverse("tracker-seen", args=["dashboard"])).status_code == 405


def test_versions_dates_read_on_one_line(client: Client, editor, demo):
    client.force_login(editor)
    body = client.get("/").content.decode()
    assert '<td class="date">Feb 4, 2024</td>' in body


# The timeline ------------------------------------------------------------------------------------


def test_the_timeline_shows_times(client: Client, editor, demo):
    client.force_login(editor)
    with time_machine.travel(
        datetime(2024, 5, 24, 14, 5, 33, tzinfo=timezone.get_current_timezone())
    ):
        _note(demo, editor, "Call with the Leader's office")
        body = client.get("/timeline/").content.decode()
    assert "May 24, 14:05" in body  # this year's date, with its time


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"period": "yesterday"}, ["yesterday", "today"], ["last week"]),
        ({"period": "today"}, ["today"], ["yesterday", "last week"]),
        ({"period": "week"}, ["today", "yesterday"], ["last week"]),
        ({"period": "range", "start": "2024-05-13", "end": "2024-05-14"}, ["last week"], ["today"]),
        ({"start": "2024-05-13", "end": "2024-05-14"}, ["last week"], ["today"]),
    ],
)
def test_the_timeline_filters_by_date_range(client: Client, editor, demo, query, shown, hidden):
    tz = timezone.get_current_timezone()
    provision = Provision.objects.filter(negotiation=demo).order_by("pk").first()
    # Wednesday May 22, 2024 is "today"; its week began on Monday the 20th.
    for label, day in (("today", 22), ("yesterday", 21), ("last week", 14)):
        Activity.objects.create(
            negotiation=demo,
            kind="note",
            provision=provision,
            summary=f"marker {label}",
            occurred_at=datetime(2024, 5, day, 10, 0, tzinfo=tz),
        )
    client.force_login(editor)
    with time_machine.travel(datetime(2024, 5, 22, 18, 0, tzinfo=tz)):
        body = client.get("/timeline/", query).content.decode()
    for label in shown:
        assert f"marker {label}" in body, (query, label)
    for label in hidden:
        assert f"marker {label}" not in body, (query, label)


def test_a_range_ending_before_it_starts_is_a_400(client: Client, editor, demo):
    client.force_login(editor)
    response = client.get("/timeline/", {"start": "2024-05-14", "end": "2024-05-13"})
    assert response.status_code == 400


# Live pages --------------------------------------------------------------------------------------


def _live_pages(demo) -> list[str]:
    from tracker.models import VoteTarget

    provision = Provision.objects.filter(negotiation=demo).order_by("pk").first()
    target = VoteTarget.objects.filter(negotiation=demo).first()
    return ["/", f"/provisions/{provision.pk}/", f"/whip/{target.pk}/"]


def test_an_idle_poll_is_a_304_with_one_query_of_its_own(client: Client, editor, demo):
    client.force_login(editor)
    client.get("/")  # the session's first request does one-off checks
    stamp = current_stamp()
    for url in _live_pages(demo):
        page = client.get(url)
        assert page["ETag"] == etag(stamp)
        # The baseline: what any request of this user costs before the view runs.
        with CaptureQueriesContext(connection) as baseline:
            client.get(reverse("tracker-health"))
        with CaptureQueriesContext(connection) as polled:
            response = client.get(f"{url}?live=1", headers={**HTMX, "If-None-Match": etag(stamp)})
        assert response.status_code == 304, url
        assert response.content == b""
        own = [q["sql"] for q in polled.captured_queries if "tracker_activity" in q["sql"]]
        assert len(own) == 1 and "MAX" in own[0].upper(), (url, own)
        assert "django_admin_log" in own[0] and "tracker_feedrun" in own[0]
        assert len(polled) <= len(baseline) + 4, (url, len(polled), len(baseline))


def test_a_poll_after_a_change_brings_the_moved_parts(client: Client, editor, demo):
    client.force_login(editor)
    stamp = current_stamp()
    pages = _live_pages(demo)
    note = _note(demo, editor, "Colleague: the Leader has the votes")
    senator = Stakeholder.objects.get(slug="lisa-murkowski")
    expected = {
        pages[0]: ['id="status-strip"', 'id="latest-activity"', note.summary],
        pages[1]: ['id="current-status"', 'id="status-history"', 'id="provision-notes"'],
        pages[2]: ['id="whip-count"', 'id="whip-columns"', f'id="member-{senator.pk}"'],
    }
    for url, parts in expected.items():
        response = client.get(f"{url}?live=1", headers={**HTMX, "If-None-Match": etag(stamp)})
        assert response.status_code == 200, url
        now = current_stamp()
        assert now.activity == note.pk and response["ETag"] == etag(now) != etag(stamp)
        body = response.content.decode()
        assert "<html" not in body and 'hx-swap-oob="true"' in body
        escaped = str(now).replace("-", "\\u002D")
        assert f'hx-headers=\'{{"If-None-Match": "\\u0022data\\u002D{escaped}\\u0022"}}\'' in body
        for part in parts:
            assert part in body, (url, part)
        # Nothing a user may be typing into comes back: no form is swapped by a poll.
        assert "<textarea" not in body and 'name="status"' not in body, url


def test_a_poll_without_htmx_gets_the_page(client: Client, editor, demo):
    client.force_login(editor)
    response = client.get("/?live=1")
    assert response.status_code == 200 and b"<html" in response.content


def test_a_week_old_marker_counts_everything_since(client: Client, editor, demo):
    client.force_login(editor)
    marker = SeenMarker.mark(editor, "dashboard", activity_id=latest_activity_id())
    SeenMarker.objects.filter(pk=marker.pk).update(seen_at=timezone.now() - timedelta(days=7))
    for n in range(3):
        _note(demo, editor, f"note {n}")
    assert "<strong>3</strong> changes" in client.get("/").content.decode()


# The provisions list -----------------------------------------------------------------------------


def test_the_list_reads_latest_amount_change_and_last_status_change(client: Client, editor, demo):
    ukraine = Provision.objects.get(slug="ukraine")
    ukraine.set_amount(
        ukraine.lines.order_by("version__dated").last().version, 61_000_000_000, by=editor
    )
    client.force_login(editor)
    body = client.get("/provisions/", {"q": "Ukraine (military"}).content.decode()
    row = body[body.index(f'id="provision-row-{ukraine.pk}"') :][:3000]
    assert "$61B" in row  # the latest amount, as staff read it
    assert 'class="change small"' in row  # and its change from the version before
    assert "Change status" in row and "<select" not in row  # editing opens on demand


def test_the_list_is_sorted_by_the_latest_change_by_default(client: Client, editor, demo):
    dropped = Provision.objects.filter(negotiation=demo, status="dropped").order_by("title").last()
    dropped.change_status("proposed", by=editor)
    client.force_login(editor)
    body = client.get("/provisions/").content.decode()
    first_row = body.index("provision-row-")
    assert body[first_row : first_row + 40].startswith(f"provision-row-{dropped.pk}")


def test_a_row_opens_its_status_form_on_demand(client: Client, editor, viewer, demo):
    provision = Provision.objects.filter(negotiation=demo, status="dropped").first()
    url = reverse("tracker-provision-status", args=[provision.pk])
    client.force_login(editor)
    fragment = client.get(url, headers=HTMX).content.decode()
    assert "<html" not in fragment and f'id="provision-row-{provision.pk}"' in fragment
    assert 'name="status"' in fragment and 'value="" ' not in fragment.split("Choose")[0][-5:]
    # Without JavaScript the link leads to the provision's page, where the form is.
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(
        f"/provisions/{provision.pk}/"
    )
    client.force_login(viewer)
    assert client.get(url, headers=HTMX).status_code == 403


def test_a_change_from_a_row_is_confirmed_with_undo_and_undone(client: Client, editor, demo):
    provision = Provision.objects.filter(negotiation=demo, status="dropped").first()
    url = reverse("tracker-provision-status", args=[provision.pk])
    client.force_login(editor)
    response = client.post(
        url,
        {"status": "proposed", "revision": provision.revision, "shown_in": "row"},
        headers=HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'role="status"' in body and "is now Proposed" in body and ">Undo</button>" in body
    assert "autofocus" in body  # focus stays on the row
    assert 'id="status-counts" class="status-counts" hx-swap-oob="true"' in body  # counts move
    provision.refresh_from_db()
    undone = client.post(
        url,
        {"undo": "1", "status": "dropped", "revision": provision.revision, "shown_in": "row"},
        headers=HTMX,
    )
    assert undone.status_code == 200 and "Undone:" in undone.content.decode()
    provision.refresh_from_db()
    assert provision.status == "dropped"


def test_undo_is_refused_for_someone_elses_change(client: Client, editor, demo, groups):
    from tests.factories import make_user
    from tracker import roles

    other = make_user("olive", role=roles.EDITOR)
    provision = Provision.objects.filter(negotiation=demo, status="dropped").first()
    provision.change_status("proposed", by=other)
    provision.refresh_from_db()
    client.force_login(editor)
    response = client.post(
        reverse("tracker-provision-status", args=[provision.pk]),
        {"undo": "1", "status": "dropped", "revision": provision.revision, "shown_in": "row"},
        headers=HTMX,
    )
    assert response.status_code == 422
    provision.refresh_from_db()
    assert provision.status == "proposed"


def test_undo_puts_back_a_move_the_workflow_has_no_way_back_for(editor, demo):
    from tracker.models import TransitionNotAllowed

    provision = Provision.objects.filter(negotiation=demo, status="dropped").first()
    for status in ("in_negotiation", "agreed_in_principle", "in_text"):
        provision.change_status(status, by=editor)
    with pytest.raises(TransitionNotAllowed):
        provision.change_status("agreed_in_principle", by=editor)  # not a workflow move
    provision.undo_status_change(
        by=editor, based_on_revision=provision.revision, within=timedelta(seconds=20)
    )
    assert provision.status == "agreed_in_principle"


# Tables that fit and a whip board to work from ------------------------------------------------


def test_the_grid_names_every_column_in_full_and_tallies_it(client: Client, viewer, demo):
    client.force_login(viewer)
    page = client.get(reverse("tracker-position-grid")).content.decode()
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    columns = head.count('<th scope="col">') - 1  # the first names the stakeholders
    assert columns >= 2 and "…" not in head
    for provision in Provision.objects.filter(negotiation=demo, positions__isnull=False)[:3]:
        if f"/provisions/{provision.pk}/" in head:
            assert f"{escape(provision.title)}</a>" in head  # the whole title, not cut
    foot = page.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    assert foot.count('<td class="tally">') == columns


def test_the_whip_board_says_its_legend_once_and_lists_members_in_columns(
    client: Client, editor, demo_targets
):
    target = demo_targets[0]
    client.force_login(editor)
    page = client.get(reverse("tracker-whip-board", args=[target.pk])).content.decode()
    assert page.count("Open a name for why they are counted so") == 1
    columns = re.findall(r'<section class="whip-column whip-col-(\w+)"', page)
    assert columns == ["firm_yes", "lean_yes", "undecided", "lean_no", "firm_no", "unknown"]
    murkowski = Stakeholder.objects.get(slug="lisa-murkowski")
    line = page.split(f'id="member-{murkowski.pk}"', 1)[1].split("</summary>", 1)[0]
    assert 'Lisa Murkowski <span class="pst">R-AK</span>' in line
    assert page.count(f'id="member-{murkowski.pk}"') == 1


def test_the_whip_board_marks_who_changed_since_the_last_visit(client: Client, editor, demo):
    provision = make_provision(demo)
    target = make_vote_target(demo, motion="Cloture on the next package")
    link_to_target(target, provision=provision)
    client.force_login(editor)
    board = reverse("tracker-whip-board", args=[target.pk])
    SeenMarker.mark(editor, f"whip-{target.pk}", activity_id=latest_activity_id())
    murkowski = Stakeholder.objects.get(slug="lisa-murkowski")
    collins = Stakeholder.objects.get(slug="susan-m-collins")
    # A colleague records Murkowski's position after this user's last look.
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        murkowski.record_position(
            stance="lean_support", as_of=timezone.localdate(), provision=provision
        )
        page = client.get(board).content.decode()
    assert re.search(rf'<li id="member-{murkowski.pk}"[^>]* class="changed', page)
    assert not re.search(rf'<li id="member-{collins.pk}"[^>]* class="changed', page)
    assert "<strong>1</strong> member." in page


def test_the_admin_says_watches(client: Client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("admin:index")).content.decode()
    assert ">Watches<" in page and "Watchs" not in page

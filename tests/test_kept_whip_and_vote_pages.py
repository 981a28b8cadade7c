"""The whip board, its CSV, predicted vs actual and a roll call's casts are drawn once per change
of the data and kept: they read as they did before, the same on every view, afresh after a
change made through the app, and never with another viewer's links or marks."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import link_to_target, make_stakeholder, make_vote_target
from tracker.models import FeedRun, SeenMarker, Vote
from tracker.whip import build_board

pytestmark = pytest.mark.django_db

# Parts of the demo's pages as they were drawn before they were kept (rows written in Python).
BEFORE = Path(__file__).parent / "fixtures" / "pages-before"
STAKEHOLDER_IDS = ("member-", "slot-", "/members/", "/stakeholders/")


def _ids_out(html: str) -> str:
    """Ids differ from one database to the next: each becomes its order of first appearance."""
    seen: dict[tuple[str, str], str] = {}

    def number(match: re.Match) -> str:
        family = "stakeholder" if match[1] in STAKEHOLDER_IDS else match[1]
        key = (family, match[2])
        if key not in seen:
            seen[key] = f"{family}{sum(1 for known in seen if known[0] == family) + 1}"
        return match[1] + seen[key]

    return re.sub(
        r"(member-|slot-|/members/|/stakeholders/|/whip/|/votes/|/bills/)(\d+)", number, html
    )


def _part(page: str, start: str, end: str) -> str:
    at = page.index(start)
    return _ids_out(page[at : page.index(end, at) + len(end)])


def _board(page: str) -> str:
    # From the count to the persuadable table: the seen form and poller before it carry a
    # token and the stamp.
    return _part(page, '<section class="whip-count"', "</section>\n</div>")


def _casts(page: str) -> str:
    return _part(page, '<section aria-labelledby="casts-heading">', "</main>")


def _scorecard(page: str) -> str:
    return _part(page, '<section class="whip-count">', "</main>")


def test_the_demo_pages_read_as_before_on_every_view(client: Client, editor, demo, demo_targets):
    cloture, _ = demo_targets
    client.force_login(editor)
    pages = {
        "whip-board-cloture-editor.html": (f"/whip/{cloture.pk}/", _board),
        "whip-results-cloture.html": (f"/whip/{cloture.pk}/results/", _scorecard),
        "vote-casts-cloture.html": (f"/votes/{cloture.vote_id}/", _casts),
    }
    for name, (url, part) in pages.items():
        expected = (BEFORE / name).read_text()
        first = client.get(url).content.decode()
        again = client.get(url).content.decode()
        assert part(first) == expected, name
        assert part(again) == expected, name


def test_a_second_csv_is_the_first(client: Client, viewer, demo, demo_targets):
    cloture, _ = demo_targets
    client.force_login(viewer)
    first = client.get(f"/whip/{cloture.pk}/board.csv", {"party": "R"})
    assert client.get(f"/whip/{cloture.pk}/board.csv", {"party": "R"}).content == first.content
    assert first.content.count(b"\r\n") == 1 + 49  # the header and every Republican


@pytest.fixture
def target():
    target = make_vote_target()
    link_to_target(target)
    return target


def _position_form(target, member, stance: str = "firm_support") -> dict:
    values = {
        "target": f"provision:{target.links.get().provision_id}",
        "stance": stance,
        "as_of": timezone.localdate().isoformat(),
        "source_url": "https://example.org/floor-speech",
        "statement": "Will vote to proceed.",
        "statement_kind": "paraphrase",
    }
    return {f"m{member.pk}-{key}": value for key, value in values.items()}


def test_a_position_recorded_on_the_board_shows_on_the_kept_board_and_csv(
    client: Client, viewer, editor, target
):
    senator = make_stakeholder(name="James Lankford", party="R", state="OK")
    client.force_login(viewer)
    assert '<strong id="yes-count">0</strong>' in client.get(f"/whip/{target.pk}/").content.decode()
    assert b"Firm yes" not in client.get(f"/whip/{target.pk}/board.csv").content

    client.force_login(editor)
    client.post(
        f"/whip/{target.pk}/members/{senator.pk}/position/", _position_form(target, senator)
    )

    client.force_login(viewer)
    page = client.get(f"/whip/{target.pk}/").content.decode()
    assert '<strong id="yes-count">1</strong>' in page
    assert "Firm support on" in page
    assert b"Firm yes,James Lankford" in client.get(f"/whip/{target.pk}/board.csv").content


def test_each_viewer_gets_their_own_links_and_new_marks_on_a_kept_board(
    client: Client, viewer, editor, target
):
    senator = make_stakeholder(name="James Lankford", party="R", state="OK")
    marker = SeenMarker.mark(editor, f"whip-{target.pk}", activity_id=1)
    SeenMarker.objects.filter(pk=marker.pk).update(seen_at=timezone.now() - timedelta(hours=1))
    senator.record_position(
        stance="lean_support", as_of=timezone.localdate(), provision=target.links.get().provision
    )
    url = f"/whip/{target.pk}/"
    record = f'href="/whip/{target.pk}/members/{senator.pk}/position/"'

    for first, then in ((viewer, editor), (editor, viewer)):
        pages = {}
        for user in (first, then):
            client.force_login(user)
            pages[user] = client.get(url).content.decode()
        # The Editor's own: the links to record and override, and "new since your last visit".
        assert record in pages[editor] and ">Override</a>" in pages[editor]
        assert 'class="changed"' in pages[editor] and "<strong>1</strong> member." in pages[editor]
        # The Viewer's: neither, though the board was the same kept one.
        assert record not in pages[viewer] and ">Override</a>" not in pages[viewer]
        assert (
            'class="changed"' not in pages[viewer]
            and 'badge new">new</span> <' not in (pages[viewer])
        )
        assert '<strong id="yes-count">1</strong>' in pages[viewer]


def test_a_live_poll_keeps_open_forms_and_a_full_view_does_not_say_so(
    client: Client, editor, target
):
    make_stakeholder(name="James Lankford", party="R", state="OK")
    client.force_login(editor)
    url = f"/whip/{target.pk}/"
    page = client.get(url).content.decode()
    polled = client.get(
        url, {"live": "1"}, headers={"HX-Request": "true", "If-None-Match": '"old"'}
    ).content.decode()
    assert 'hx-preserve="true"' in polled and 'hx-swap-oob="true"' in polled
    assert 'hx-preserve="true"' not in page


def test_predicted_vs_actual_follows_a_position_recorded_before_the_roll_call(
    client: Client, viewer, editor, demo, demo_targets
):
    cloture, _ = demo_targets
    client.force_login(viewer)
    url = f"/whip/{cloture.pk}/results/"
    assert "7 of 100 called" in client.get(url).content.decode()

    board = build_board(cloture, day=date(2024, 2, 6))
    uncalled = next(call.member for call in board.calls if call.group == "unknown")
    uncalled.record_position(
        stance="firm_oppose",
        as_of=date(2024, 2, 5),
        provision=cloture.links.filter(provision__isnull=False).first().provision,
        by=editor,
    )

    assert "8 of 100 called" in client.get(url).content.decode()


def test_a_roll_call_brought_again_by_a_feed_shows_its_new_casts(client: Client, viewer, demo):
    vote = Vote.objects.filter(casts__isnull=False).order_by("pk").first()
    cast = vote.casts.select_related("member").order_by("member__name").first()
    client.force_login(viewer)
    url = f"/votes/{vote.pk}/"
    assert _casts(client.get(url).content.decode()) == _casts(client.get(url).content.decode())

    # What a feed run does when the chamber corrects a roll call: the cast, then the run ends.
    vote.casts.filter(pk=cast.pk).update(published_as="Present, Giving Live Pair")
    now = timezone.now()
    FeedRun.objects.create(source="senate", status="succeeded", started_at=now, finished_at=now)

    assert "“Present, Giving Live Pair”" in client.get(url).content.decode()


def test_the_votes_list_is_kept_until_a_feed_run_brings_a_roll_call(client: Client, viewer, demo):
    client.force_login(viewer)
    first = client.get("/votes/", {"chamber": "senate"}).content.decode()
    again = client.get("/votes/", {"chamber": "senate"}).content.decode()
    results = _part(first, '<div id="vote-results">', "</main>")
    assert _part(again, '<div id="vote-results">', "</main>") == results
    fragment = client.get("/votes/", {"chamber": "senate"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    assert _ids_out(fragment.content.decode()).strip() in results

    # A feed run brings a newer roll call.
    newest = Vote.objects.filter(chamber="senate").order_by("-voted_on").first()
    newest.pk, newest.roll_number = None, 999
    newest.question, newest.voted_on = "On the Motion to Table", date(2024, 5, 1)
    newest.save()
    now = timezone.now()
    FeedRun.objects.create(source="senate", status="succeeded", started_at=now, finished_at=now)

    page = client.get("/votes/", {"chamber": "senate"}).content.decode()
    assert "On the Motion to Table" in page

"""The Feeds page: every source's status with where and when; Refresh now for Editors only."""

import re
import socket
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.broker_outage import HungRedis, celery_on_redis
from tracker.feeds import queue, sync
from tracker.models import FeedRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_run(db) -> FeedRun:
    run = queue.queue_run("senate", "118-2", trigger="schedule")
    recorder = sync._begin("senate", "118-2", run_id=run.pk, trigger="schedule", progress=None)
    recorder.run.created = 3
    return sync._finish(recorder)


def test_it_shows_each_source_with_its_origin_and_last_success(
    client, viewer, finished_run
) -> None:
    client.force_login(viewer)
    response = client.get(reverse("tracker-feeds"))
    assert response.status_code == 200
    page = response.content.decode()
    for origin in ("congress.gov", "senate.gov", "clerk.house.gov", "congress-legislators"):
        assert f"From {origin}" in page
    assert "Last success" in page and "Error streak" in page
    assert f"Run {finished_run.pk}" in page
    assert "tracker/feeds.css" in page
    assert "Refresh now" not in page  # viewers cannot refresh


def test_it_refuses_a_refresh_from_a_viewer(client, viewer) -> None:
    client.force_login(viewer)
    response = client.post(reverse("tracker-feed-refresh", args=["senate"]))
    assert response.status_code == 403
    assert b"Your role can read but not refresh the feeds" in response.content
    assert not FeedRun.objects.exists()


def test_it_refuses_get_on_refresh(client, editor) -> None:
    client.force_login(editor)
    assert client.get(reverse("tracker-feed-refresh", args=["senate"])).status_code == 405


def test_it_sends_anonymous_visitors_to_log_in(client) -> None:
    assert client.get(reverse("tracker-feeds")).status_code == 302


def test_an_editor_refreshes_and_gets_the_runs_fragment(client, editor, monkeypatch) -> None:
    def fake_enqueue(source: str, *, user: object = None) -> FeedRun:
        return queue.queue_run(source, user=user)

    monkeypatch.setattr("tracker.views.feeds.enqueue_refresh", fake_enqueue)
    client.force_login(editor)
    response = client.post(
        reverse("tracker-feed-refresh", args=["house"]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    fragment = response.content.decode()
    run = FeedRun.objects.get()
    assert "<html" not in fragment
    assert 'id="run-status-house"' in fragment
    assert 'hx-trigger="every 2s"' in fragment  # polls while queued
    assert run.requested_by == editor
    polled = client.get(reverse("tracker-feed-run", args=[run.pk]), headers={"HX-Request": "true"})
    assert 'id="run-status-house"' in polled.content.decode()


def test_refresh_now_on_congress_gov_asks_for_every_bill(client, editor, monkeypatch) -> None:
    # The bill list misses a change that moved only the text's date; a person asking to
    # refresh has usually just seen such a change.
    from tracker import tasks

    sent = {}
    monkeypatch.setattr(
        tasks.refresh_feed,
        "apply_async",
        lambda args, kwargs, **options: sent.update({"source": args[0], **kwargs}),
    )
    client.force_login(editor)
    client.post(reverse("tracker-feed-refresh", args=["congress"]), headers={"HX-Request": "true"})
    assert sent == {"source": "congress", "run_id": FeedRun.objects.get().pk, "recheck_all": True}


def test_a_non_htmx_refresh_redirects_back(client, editor, monkeypatch) -> None:
    monkeypatch.setattr(
        "tracker.views.feeds.enqueue_refresh",
        lambda source, user=None: queue.queue_run(source, user=user),
    )
    client.force_login(editor)
    response = client.post(reverse("tracker-feed-refresh", args=["members"]))
    assert response.status_code == 302 and response.url == reverse("tracker-feeds")


@pytest.fixture
def hung_redis() -> Iterator[HungRedis]:
    server = HungRedis()
    yield server
    server.close()


@pytest.fixture(params=["down", "hung"])
def dead_redis(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a Redis that is down (a loopback port held but not listening, so connecting is
    refused) or hung."""
    if request.param == "hung":
        yield request.getfixturevalue("hung_redis").url
        return
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{held.getsockname()[1]}/12"


def test_with_redis_down_or_hung_refresh_says_the_queue_is_unavailable(
    client, editor, dead_redis
) -> None:
    # No duration is asserted (tests/bench/broker.py measures it): the broker's short timeouts
    # end the request, and a request that blocked on Redis would hang this test.
    client.force_login(editor)
    with celery_on_redis(dead_redis):
        response = client.post(
            reverse("tracker-feed-refresh", args=["senate"]), headers={"HX-Request": "true"}
        )
    # A 200: the card, with the message and the failed run (htmx would swap no 5xx).
    assert response.status_code == 200
    assert "queue is unavailable" in response.content.decode()
    assert 'id="feed-senate"' in response.content.decode()
    run = FeedRun.objects.get()
    assert run.status == "failed"
    assert run.message.startswith("The task queue is unavailable")


def test_pages_serve_while_redis_is_hung_and_never_touch_it(
    client, viewer, demo, hung_redis
) -> None:
    client.force_login(viewer)
    with celery_on_redis(hung_redis.url):
        assert client.get(reverse("tracker-home")).status_code == 200
        assert client.get(reverse("tracker-feeds")).status_code == 200
    assert hung_redis.connections == []


def test_the_run_page_lists_each_error_with_its_item(client, viewer, finished_run) -> None:
    finished_run.errors = [{"key": "senate-118-2-41", "message": "an HTML page"}]
    finished_run.save()
    client.force_login(viewer)
    page = client.get(reverse("tracker-feed-run", args=[finished_run.pk])).content.decode()
    assert "senate-118-2-41" in page and "an HTML page" in page and "senate.gov" in page


def _failed_run(source: str, message: str = "") -> FeedRun:
    run = queue.queue_run(source, trigger="schedule")
    recorder = sync._begin(source, "", run_id=run.pk, trigger="schedule", progress=None)
    return sync._finish(recorder, fatal=message or "house-119-2-1: unreachable (ConnectError)")


def _refresh_in_process(monkeypatch, *, fails: bool) -> None:
    """Refresh now as without a broker: the run is over by the time the card comes back."""

    def refresh(source: str, *, user: object = None) -> FeedRun:
        run = queue.queue_run(source, user=user)
        recorder = sync._begin(source, "", run_id=run.pk, trigger="manual", progress=None)
        recorder.run.updated = 0 if fails else 2
        return sync._finish(recorder, fatal="a failure" if fails else "")

    monkeypatch.setattr("tracker.views.feeds.enqueue_refresh", refresh)


def test_after_refresh_now_the_card_shows_the_streak_and_success_as_they_now_are(
    client, editor, monkeypatch
) -> None:
    """Reproduced before the fix: only the run line was swapped, so after a successful refresh
    the card still said "Error streak 2 runs" and "Last success never" above "Succeeded"."""
    _failed_run("house")
    _failed_run("house")
    _refresh_in_process(monkeypatch, fails=False)
    client.force_login(editor)

    card = client.post(
        reverse("tracker-feed-refresh", args=["house"]), headers={"HX-Request": "true"}
    ).content.decode()

    assert card.lstrip().startswith('<section class="feed-source" id="feed-house"')
    assert "<dt>Error streak</dt>\n      <dd>0</dd>" in card
    assert "<dt>Last success</dt>\n      <dd>never</dd>" not in card
    assert "stale" not in card
    assert 'id="refresh-house"' in card  # the button keeps its id, and so the focus
    # The run is over: the recent runs come along, out of band, with it at the top.
    run = FeedRun.objects.filter(source="house").first()
    assert '<tbody id="feed-runs" hx-swap-oob="true">' in card
    assert card.index(f">{run.pk}</a></td>") > card.index('id="feed-runs"')


def test_a_failed_refresh_counts_in_the_cards_streak_at_once(client, editor, monkeypatch) -> None:
    _refresh_in_process(monkeypatch, fails=True)
    client.force_login(editor)

    card = client.post(
        reverse("tracker-feed-refresh", args=["senate"]), headers={"HX-Request": "true"}
    ).content.decode()

    assert "<dt>Error streak</dt>\n      <dd><strong>1 run</strong></dd>" in card
    assert "feed-badge-stale" in card


def test_a_polled_card_keeps_polling_while_its_run_is_queued(client, editor) -> None:
    run = queue.queue_run("members", user=editor)
    client.force_login(editor)

    card = client.get(
        reverse("tracker-feed-run", args=[run.pk]), headers={"HX-Request": "true"}
    ).content.decode()

    assert 'id="feed-members"' in card
    assert 'hx-trigger="every 2s" hx-target="#feed-members" hx-swap="outerHTML"' in card
    assert "feed-runs" not in card  # the recent runs wait until it is over


# The page's facts and recent runs are kept until a run is queued, moves on or ends.


def test_the_page_is_drawn_once_until_a_run_moves(client, viewer, finished_run) -> None:
    client.force_login(viewer)
    url = reverse("tracker-feeds")
    first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url).content.decode()
    # Only the two lookups of what moves before a run ends: no source's facts, no run list.
    assert len([query for query in captured if "tracker_feedrun" in query["sql"]]) == 3
    assert _without_tokens(again) == _without_tokens(first)


def test_a_run_queued_then_moving_shows_at_once(client, viewer, editor) -> None:
    client.force_login(viewer)
    url = reverse("tracker-feeds")
    assert "No run yet." in client.get(url).content.decode()

    run = queue.queue_run("house", user=editor)
    queued = client.get(url).content.decode()
    recorder = sync._begin("house", "2024", run_id=run.pk, trigger="manual", progress=None)
    recorder.total(40)
    started = client.get(url).content.decode()
    for _ in range(sync._FLUSH_EVERY):
        recorder.skip()
    moved = client.get(url).content.decode()
    sync._finish(recorder)
    ended = client.get(url).content.decode()

    assert f"Run {run.pk}</a>: Queued" in queued
    assert f"Run {run.pk}</a>: Running" in started and "— 0 of 40" in started
    assert f"— {sync._FLUSH_EVERY} of 40" in moved
    assert f"Run {run.pk}</a>: Succeeded" in ended and "Running" not in ended


@pytest.mark.parametrize("first", ["viewer", "editor"])
def test_refresh_now_is_only_for_editors_whoever_came_first(
    client, viewer, editor, finished_run, first
) -> None:
    users = {"viewer": viewer, "editor": editor}
    pages = {}
    for name in [first, *(set(users) - {first})]:
        client.force_login(users[name])
        pages[name] = client.get(reverse("tracker-feeds")).content.decode()

    assert pages["editor"].count('id="refresh-') == 4
    assert "Refresh now" not in pages["viewer"] and 'id="refresh-' not in pages["viewer"]


def _without_tokens(page: str) -> str:
    """The page as it reads: CSRF tokens are masked afresh on every response."""
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", page)

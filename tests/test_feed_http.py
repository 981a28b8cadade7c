"""End to end through a real loopback HTTP server: paging, 429 then 200, timeouts, hostile XML,
size caps, redirects, senate.gov's 403, and the offline replay of the repo's own fixtures."""

import contextlib
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tracker.demo.replay import RECORDED_FEEDS
from tracker.feeds import client, sync
from tracker.models import Activity, Bill, FeedRun, Vote, VoteCast, source_statuses

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"
REPLAY = RECORDED_FEEDS
CASES = FIXTURES / "cases"
VOTES = REPLAY / "senate/roll_call_votes"

Reply = tuple[int, dict[str, str], bytes] | Callable[[], tuple[int, dict[str, str], bytes]]

pytestmark = pytest.mark.django_db(transaction=True)


class FeedServer:
    """Answers each path from a queue of replies (the last one repeats) and logs requests."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                feed.requests.append((self.path, dict(self.headers)))
                path = self.path.split("?")[0]
                replies = feed.routes.get(path)
                if not replies:
                    self.send_error(404)
                    return
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                status, headers, body = reply() if callable(reply) else reply
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)


@pytest.fixture
def feed_server(settings) -> Iterator[FeedServer]:
    server = FeedServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    settings.CONGRESS_API_BASE_URL = f"{server.base}/v3"
    settings.SENATE_VOTES_BASE_URL = f"{server.base}/LIS"
    settings.HOUSE_VOTES_BASE_URL = f"{server.base}/evs"
    settings.LEGISLATORS_URL = f"{server.base}/legislators-current.json"
    settings.CONGRESS_API_KEY = "test-key-never-logged"
    settings.FEED_READ_TIMEOUT = 1
    settings.FEED_CONNECT_TIMEOUT = 1
    client.reset_client()
    yield server
    server.server.shutdown()
    server.server.server_close()
    client.reset_client()


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "BACKOFF_BASE_SECONDS", 0.01)


def ok(body: bytes, kind: str = "text/xml") -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": kind}, body


def serve_menu(server: FeedServer, numbers: list[int]) -> None:
    items = "".join(f"<vote><vote_number>{n:05d}</vote_number></vote>" for n in numbers)
    menu = (
        "<?xml version='1.0'?><vote_summary><congress>118</congress><session>2</session>"
        f"<votes>{items}</votes></vote_summary>"
    )
    server.route("/LIS/roll_call_lists/vote_menu_118_2.xml", ok(menu.encode()))


def vote_path(number: int) -> str:
    return f"/LIS/roll_call_votes/vote1182/vote_118_2_{number:05d}.xml"


def test_the_offline_replay_runs_every_source_through_the_real_code_path(demo) -> None:
    votes, casts = Vote.objects.count(), VoteCast.objects.count()
    args = ["--replay", "--senate-session", "118-2", "--house-year", "2024"]
    call_command("refresh_feeds", *args, stdout=io.StringIO())
    runs = {run.source: run for run in FeedRun.objects.all()}
    assert runs["senate"].status == "succeeded" and runs["senate"].fetched == 6
    assert runs["members"].status == "succeeded" and runs["members"].unchanged == 100
    assert runs["congress"].status == "succeeded", runs["congress"].errors
    assert runs["congress"].updated == len(sync.negotiation_bill_keys())
    assert runs["house"].status == "succeeded" and runs["house"].fetched == 0
    assert (Vote.objects.count(), VoteCast.objects.count()) == (votes, casts)
    vote = Vote.objects.get(chamber="senate", congress=118, session=2, roll_number=48)
    assert vote.source_url.startswith("https://www.senate.gov/")  # never the loopback address
    activities = Activity.objects.count()
    call_command("refresh_feeds", *args, stdout=io.StringIO())
    assert Activity.objects.count() == activities
    # The second time, the recorded bill list names no change: not one bill is asked for.
    again = FeedRun.objects.filter(source="congress").latest("pk")
    assert again.status == "succeeded", again.errors
    assert again.skipped == len(sync.negotiation_bill_keys())


def test_progress_written_to_a_log_is_whole_lines(demo, monkeypatch) -> None:
    """Not on a terminal (a container's log), progress is a line at a time, never `\\r`."""
    from tracker.management.commands import refresh_feeds

    monkeypatch.setattr(refresh_feeds, "LOG_PROGRESS_EVERY", 0.0)
    log = io.StringIO()
    call_command("refresh_feeds", "--replay", "--senate-session", "118-2", stdout=log)
    output = log.getvalue()
    assert "\r" not in output
    progress = re.compile(r"^\S+ 118-2: \d+(/\d+)? \(created \d+, updated \d+, failed \d+\)$")
    lines = [line for line in output.splitlines() if progress.match(line)]
    assert len(lines) >= 2, output


BILL_PARTS = ("amendments", "cosponsors", "titles", "summaries", "text")


def serve_bill_parts(server: FeedServer, bill: str = "hr/815") -> None:
    """Amendments, cosponsors, titles, summaries and text versions from the replay files."""
    for part in BILL_PARTS:
        body = (REPLAY / f"congress/bill/118/{bill}/{part}.json").read_bytes()
        server.route(f"/v3/bill/118/{bill}/{part}", ok(body, "application/json"))


def serve_hr_815(server: FeedServer) -> bytes:
    """H.R. 815 from the replay files, with no actions (their paging is tested on its own)."""
    item = (REPLAY / "congress/bill/118/hr/815.json").read_bytes()
    server.route("/v3/bill/118/hr/815", ok(item, "application/json"))
    server.route("/v3/bill/118/hr/815/actions", ok(b'{"actions": []}', "application/json"))
    serve_bill_parts(server)
    return item


def serve_bill_list(server: FeedServer, *numbers: str) -> None:
    bills = [{"congress": 118, "type": "HR", "number": n} for n in numbers]
    page = {"bills": bills, "pagination": {"count": len(bills)}}
    server.route("/v3/bill/118", ok(json.dumps(page).encode(), "application/json"))


def test_it_pages_through_actions_with_the_key_in_a_header_and_survives_a_429(
    demo, feed_server: FeedServer
) -> None:
    item = (REPLAY / "congress/bill/118/hr/815.json").read_bytes()
    page_1 = (REPLAY / "congress/bill/118/hr/815/actions.json").read_bytes()
    page_2 = (REPLAY / "congress/bill/118/hr/815/actions.offset-10.json").read_bytes()
    page_1 = page_1.replace(b"https://api.congress.gov/v3", f"{feed_server.base}/v3".encode())
    feed_server.route("/v3/bill/118/hr/815", ok(item, "application/json"))
    feed_server.route(
        "/v3/bill/118/hr/815/actions",
        (429, {"Retry-After": "0"}, b'{"error": {"code": "OVER_RATE_LIMIT"}}'),
        ok(page_1, "application/json"),
        ok(page_2, "application/json"),
    )
    serve_bill_parts(feed_server)
    run = sync.refresh_bills(["118-hr-815"])
    assert run.status == "succeeded", run.errors
    assert run.updated == 1
    assert Activity.objects.filter(bill__number=815, kind="bill_action").count() == 15
    paths = [path for path, _ in feed_server.requests]
    assert any("offset=10" in path for path in paths)
    assert all("format=json" in path for path in paths)
    assert all(
        headers.get("X-Api-Key") == "test-key-never-logged" for _, headers in feed_server.requests
    )
    assert all("test-key" not in path for path in paths)
    assert all(
        "senate-negotiation-tracker" in headers["User-Agent"] for _, headers in feed_server.requests
    )


def test_a_bill_refresh_stores_its_records_quietly_then_tells_what_is_new(
    demo, feed_server: FeedServer
) -> None:
    item = serve_hr_815(feed_server)
    run = sync.refresh_bills(["118-hr-815"])
    assert run.status == "succeeded", run.errors
    bill = Bill.objects.by_key("118-hr-815")
    amendment = bill.amendments.get()
    assert (amendment.label, amendment.latest_action_on.isoformat()) == (
        "S.Amdt. 1388",
        "2024-02-12",
    )
    assert bill.titles.filter(title_type="Official Title as Introduced").exists()
    # The first time is history, not news: nothing on the timeline or in anyone's digest.
    assert not Activity.objects.filter(bill=bill, kind="bill_record").exists()

    # Later the bill moves on Congress.gov with a new amendment: that one is news.
    moved = item.replace(
        b'"updateDate": "2024-05-01T12:00:00Z"', b'"updateDate": "2024-05-02T12:00:00Z"'
    )
    feed_server.route("/v3/bill/118/hr/815", ok(moved, "application/json"))
    amendments = json.loads((REPLAY / "congress/bill/118/hr/815/amendments.json").read_text())
    amendments["amendments"].append(
        {"congress": 118, "number": "1600", "type": "SAMDT", "purpose": "To add border money."}
    )
    amendments["pagination"]["count"] = 2
    feed_server.route(
        "/v3/bill/118/hr/815/amendments", ok(json.dumps(amendments).encode(), "application/json")
    )
    assert sync.refresh_bills(["118-hr-815"], recheck_all=True).updated == 1
    news = Activity.objects.get(bill=bill, kind="bill_record")
    assert news.summary == "H.R. 815: S.Amdt. 1600 — To add border money."
    assert news.source == "congress.gov"


def test_a_part_that_fails_stores_nothing_of_the_bill_and_is_tried_again(
    demo, feed_server: FeedServer
) -> None:
    serve_hr_815(feed_server)
    feed_server.route("/v3/bill/118/hr/815/cosponsors", ok(b"{not json", "application/json"))
    bill = Bill.objects.by_key("118-hr-815")
    run = sync.refresh_bills(["118-hr-815"])
    assert run.status == "partial"
    assert run.errors[0]["key"] == "118-hr-815" and "malformed JSON" in run.errors[0]["message"]
    assert not bill.amendments.exists() and not bill.titles.exists()
    assert Bill.objects.get(pk=bill.pk).last_synced_at == bill.last_synced_at
    serve_bill_parts(feed_server)
    assert sync.refresh_bills(["118-hr-815"]).status == "succeeded"
    assert bill.amendments.exists()


def test_an_unchanged_bill_costs_one_list_request_after_the_first_run(
    demo, feed_server: FeedServer
) -> None:
    serve_hr_815(feed_server)
    assert sync.refresh_bills(["118-hr-815"]).status == "succeeded"
    checked = Bill.objects.by_key("118-hr-815").last_synced_at

    # Not in the list of bills changed since it was last checked: no request of its own.
    feed_server.requests.clear()
    activities = Activity.objects.count()
    serve_bill_list(feed_server)
    again = sync.refresh_bills(["118-hr-815"])
    assert (again.status, again.skipped) == ("succeeded", 1)
    [(path, _)] = feed_server.requests
    assert path.startswith("/v3/bill/118?") and "fromDateTime=" in path
    assert Activity.objects.count() == activities
    assert Bill.objects.by_key("118-hr-815").last_synced_at > checked

    # Listed (the list overlaps a day back) but its update date has not moved: the item only.
    feed_server.requests.clear()
    serve_bill_list(feed_server, "815")
    third = sync.refresh_bills(["118-hr-815"])
    assert third.unchanged == 1
    assert [path.split("?")[0] for path, _ in feed_server.requests] == [
        "/v3/bill/118",
        "/v3/bill/118/hr/815",
    ]
    assert Activity.objects.count() == activities

    # The nightly re-check asks for every bill by its item, whatever the list says.
    feed_server.requests.clear()
    serve_bill_list(feed_server)
    nightly = sync.refresh_bills(["118-hr-815"], recheck_all=True)
    assert nightly.unchanged == 1
    assert [path.split("?")[0] for path, _ in feed_server.requests] == ["/v3/bill/118/hr/815"]

    # The list cannot be read: every bill is checked by its item instead, and the run says so.
    feed_server.requests.clear()
    feed_server.route("/v3/bill/118", ok(b"<html>", "text/html"))
    fourth = sync.refresh_bills(["118-hr-815"])
    assert fourth.unchanged == 1 and fourth.errors[0]["key"] == "bill list 118"


def test_the_list_never_vouches_for_a_bill_checked_too_long_ago_or_when_it_is_too_long(
    demo, feed_server: FeedServer
) -> None:
    serve_hr_815(feed_server)
    assert sync.refresh_bills(["118-hr-815"]).status == "succeeded"

    # Last checked four days ago (a run of failures, say): the list would reach back too far.
    Bill.objects.filter(number=815).update(
        last_synced_at=timezone.now() - sync.BILL_LIST_WINDOW - timedelta(days=1)
    )
    feed_server.requests.clear()
    serve_bill_list(feed_server)
    assert sync.refresh_bills(["118-hr-815"]).unchanged == 1
    assert [path.split("?")[0] for path, _ in feed_server.requests] == ["/v3/bill/118/hr/815"]

    # Congress.gov re-stamped thousands of bills today: one item request is cheaper than the list.
    feed_server.requests.clear()
    crowded = {"bills": [], "pagination": {"count": 12_000, "next": f"{feed_server.base}/x"}}
    feed_server.route("/v3/bill/118", ok(json.dumps(crowded).encode(), "application/json"))
    run = sync.refresh_bills(["118-hr-815"])
    assert (run.status, run.unchanged, run.errors) == ("succeeded", 1, [])
    assert [path.split("?")[0] for path, _ in feed_server.requests] == [
        "/v3/bill/118",
        "/v3/bill/118/hr/815",
    ]


def test_a_500_meaning_no_such_bill_is_an_error_not_an_endless_retry(
    db, feed_server: FeedServer
) -> None:
    body = (CASES / "congress-500-no-such-bill.json").read_bytes()
    feed_server.route("/v3/bill/118/hr/99999", (500, {}, body))
    run = sync.refresh_bills(["118-hr-99999"], raise_retryable=True)
    assert run.status == "partial"
    assert run.errors[0]["key"] == "118-hr-99999"
    assert "UnboundLocalError" in run.errors[0]["message"]
    assert len(feed_server.requests) == 1


def test_a_refused_api_key_fails_the_run_without_leaking_the_key(
    db, feed_server: FeedServer
) -> None:
    feed_server.route(
        "/v3/bill/118/hr/815", (403, {}, (CASES / "congress-403-key-invalid.json").read_bytes())
    )
    run = sync.refresh_bills(["118-hr-815", "118-s-1"])
    assert run.status == "failed"
    assert "API_KEY_INVALID" in run.message
    assert "test-key" not in json.dumps(run.errors) + run.message


def test_bad_vote_files_are_recorded_and_the_rest_of_the_run_goes_on(
    demo, feed_server: FeedServer
) -> None:
    serve_menu(feed_server, [39, 40, 41, 46, 48, 154, 155])
    good = (VOTES / "vote1182/vote_118_2_00048.xml").read_bytes()
    feed_server.route(vote_path(48), ok(good))
    feed_server.route(vote_path(39), ok((CASES / "billion-laughs.xml").read_bytes()))
    feed_server.route(vote_path(40), ok((CASES / "xxe.xml").read_bytes()))
    feed_server.route(
        vote_path(41), ok((CASES / "vote-not-available.html").read_bytes(), "text/html")
    )
    feed_server.route(vote_path(46), ok((CASES / "truncated.xml").read_bytes()))
    # 154 is missing (404); 155 claims to be vote 48: the same vote published twice.
    feed_server.route(vote_path(155), ok(good))
    before = list(VoteCast.objects.order_by("pk").values_list("pk", "published_as"))
    run = sync.refresh_senate(118, 2)
    assert run.status == "partial"
    errors = {error["key"]: error["message"] for error in run.errors}
    assert "hostile XML" in errors["senate-118-2-39"]
    assert "hostile XML" in errors["senate-118-2-40"]
    assert "HTML page" in errors["senate-118-2-41"]
    assert "malformed XML" in errors["senate-118-2-46"]
    assert "HTTP 404" in errors["senate-118-2-154"]
    assert "the file is vote senate-118-2-48" in errors["senate-118-2-155"]
    assert (run.fetched, run.unchanged, run.failed) == (6, 1, 6)
    assert list(VoteCast.objects.order_by("pk").values_list("pk", "published_as")) == before


def test_a_body_over_the_cap_and_a_slow_server_are_errors(
    demo, feed_server: FeedServer, settings
) -> None:
    settings.FEED_MAX_BYTES = 10_000
    serve_menu(feed_server, [39, 48])
    feed_server.route(vote_path(48), ok((VOTES / "vote1182/vote_118_2_00048.xml").read_bytes()))

    def slow() -> tuple[int, dict[str, str], bytes]:
        time.sleep(2.5)
        return ok(b"<roll_call_vote/>")

    feed_server.route(vote_path(39), slow)
    run = sync.refresh_senate(118, 2)
    errors = {error["key"]: error["message"] for error in run.errors}
    assert "cap" in errors["senate-118-2-48"]
    assert "timed out" in errors["senate-118-2-39"]


def test_a_redirect_to_another_host_is_refused(db, feed_server: FeedServer) -> None:
    serve_menu(feed_server, [48])
    feed_server.route(vote_path(48), (302, {"Location": "http://example.invalid/x.xml"}, b""))
    run = sync.refresh_senate(118, 2)
    assert "redirected to another host" in run.errors[0]["message"]


def test_senate_gov_blocking_us_keeps_the_last_good_data_and_shows_stale(
    demo, feed_server: FeedServer
) -> None:
    serve_menu(feed_server, [48])
    feed_server.route(vote_path(48), ok((VOTES / "vote1182/vote_118_2_00048.xml").read_bytes()))
    assert sync.refresh_senate(118, 2).status == "succeeded"
    feed_server.route("/LIS/roll_call_lists/vote_menu_118_2.xml", (403, {}, b"Forbidden"))
    casts = VoteCast.objects.count()
    with pytest.raises(sync.RefreshFailed):
        sync.refresh_senate(118, 2, raise_retryable=True)
    failed = FeedRun.objects.filter(source="senate").recent().first()
    assert failed.status == "failed" and "403" in failed.message
    assert VoteCast.objects.count() == casts
    senate_status = next(status for status in source_statuses() if status.source == "senate")
    assert senate_status.is_stale and senate_status.error_streak == 1
    assert senate_status.last_success is not None


def test_the_house_is_discovered_roll_by_roll_until_the_clerk_has_no_more(
    db, feed_server: FeedServer
) -> None:
    body = (CASES / "house-roll-2024-151-small.xml").read_bytes()
    for number in range(1, 4):
        feed_server.route(
            f"/evs/2024/roll{number:03d}.xml",
            ok(body.replace(b"<rollcall-num>151<", f"<rollcall-num>{number}<".encode())),
        )
    run = sync.refresh_house(2024)
    assert (run.status, run.created) == ("succeeded", 3), run.errors
    assert len(run.new_members) == 5
    again = sync.refresh_house(2024)
    assert (again.unchanged, again.created) == (3, 0)

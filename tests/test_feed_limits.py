"""Limits on every feed download, against real loopback servers: a total deadline (and a limit on
a refresh run inside a web request), same-origin redirects, and a decoded-size cap that holds
while the body is still being decompressed."""

import contextlib
import gzip
import itertools
import socket
import threading
import zlib
from collections.abc import Callable, Iterator

import pytest
from django.urls import reverse

from tests.test_feed_http import FeedServer, ok
from tracker.demo.replay import RECORDED_FEEDS
from tracker.feeds import client as feed_client
from tracker.feeds import sync
from tracker.models import FeedRun

VOTE = RECORDED_FEEDS / "senate/roll_call_votes/vote1182/vote_118_2_00048.xml"

# A test that hangs (no deadline) fails here instead of at the suite's 300 s.
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]


class Trickler:
    """Answers every connection with `head` at once, then one byte of `tail` every 0.5 s, for
    ever: each read gets a byte well within the read timeout, so only a total deadline ends it."""

    def __init__(self, head: bytes, tail: bytes) -> None:
        self.head, self.tail = head, tail
        self.connections = 0
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)  # the request
            conn.sendall(self.head)
            for byte in itertools.cycle(self.tail):
                if self.stopped.wait(0.5):
                    return
                conn.sendall(bytes([byte]))

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


TRICKLED_BODY = (b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b" ")
TRICKLED_HEADERS = (b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a")


@pytest.fixture
def trickler() -> Iterator[Callable[[bytes, bytes], Trickler]]:
    started: list[Trickler] = []

    def start(head: bytes, tail: bytes) -> Trickler:
        started.append(Trickler(head, tail))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture
def servers() -> Iterator[Callable[[], FeedServer]]:
    """Start as many FeedServers (tests/test_feed_http.py) as a test needs."""
    started: list[FeedServer] = []

    def start() -> FeedServer:
        server = FeedServer()
        threading.Thread(target=server.server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture(autouse=True)
def _short_timeouts(settings) -> Iterator[None]:
    settings.FEED_CONNECT_TIMEOUT = 1
    settings.FEED_READ_TIMEOUT = 1  # each trickled byte comes well within it
    settings.FEED_TOTAL_TIMEOUT = 2
    feed_client.reset_client()  # the pooled client keeps the timeouts it was made with
    yield
    feed_client.reset_client()


# Point 12: a total deadline on each download, and a limit on a run inside a web request.


@pytest.mark.parametrize("trickled", [TRICKLED_BODY, TRICKLED_HEADERS], ids=["body", "headers"])
def test_a_trickling_download_fails_at_the_total_deadline_and_is_not_retried_at_once(
    trickler, trickled: tuple[bytes, bytes]
) -> None:
    server = trickler(*trickled)
    with pytest.raises(feed_client.FeedTooSlow, match=r"took over 2 s .*FEED_TOTAL_TIMEOUT"):
        feed_client.get(f"{server.url}/vote.xml")
    # It already took the whole deadline: the task retries it later, not this call now.
    assert server.connections == 1


def test_a_trickled_file_fails_the_run_like_a_timeout_and_the_task_retries_it(
    trickler, settings
) -> None:
    settings.LEGISLATORS_URL = f"{trickler(*TRICKLED_BODY).url}/legislators-current.json"
    with pytest.raises(sync.RefreshFailed):  # retryable: the task's autoretry sees it
        sync.refresh_members(raise_retryable=True)
    run = FeedRun.objects.get()
    assert run.status == "failed"
    assert "took over 2 s to download (FEED_TOTAL_TIMEOUT)" in run.message
    assert run.errors[0]["key"] == "legislators-current"


def test_refresh_now_without_a_broker_stops_at_its_limit_and_records_why(
    client, editor, trickler, settings
) -> None:
    # Each download alone could take a minute; the request as a whole may not.
    settings.FEED_TOTAL_TIMEOUT = 60
    settings.FEED_IN_REQUEST_TIMEOUT = 1
    server = trickler(*TRICKLED_BODY)
    settings.LEGISLATORS_URL = f"{server.url}/legislators-current.json"
    client.force_login(editor)
    response = client.post(
        reverse("tracker-feed-refresh", args=["members"]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    run = FeedRun.objects.get()
    assert run.status == "failed"
    assert "inside a web request stops after 1 s" in run.message
    assert run.message in response.content.decode()
    assert server.connections == 1


def test_refresh_now_without_a_broker_never_sleeps_past_its_limit(
    client, editor, servers, settings
) -> None:
    settings.FEED_IN_REQUEST_TIMEOUT = 1
    server = servers()
    server.route("/legislators-current.json", (503, {"Retry-After": "20"}, b"busy"))
    settings.LEGISLATORS_URL = f"{server.base}/legislators-current.json"
    client.force_login(editor)
    response = client.post(
        reverse("tracker-feed-refresh", args=["members"]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    run = FeedRun.objects.get()
    assert run.status == "failed"
    assert "HTTP 503; waiting 20 s to try again would pass the time limit" in run.message
    assert len(server.requests) == 1


# Point 13: redirects stay on the origin (scheme, host and port) or go to an allowed one.


def test_a_redirect_to_another_port_on_the_same_host_is_refused(servers) -> None:
    first, other = servers(), servers()
    first.route("/vote.xml", (302, {"Location": f"{other.base}/vote.xml"}, b""))
    other.route("/vote.xml", ok(b"<roll_call_vote/>"))
    with pytest.raises(feed_client.FeedRedirectRefused, match="another host, port or scheme"):
        feed_client.get(f"{first.base}/vote.xml")
    assert other.requests == []


def test_a_redirect_to_another_scheme_on_the_same_host_and_port_is_refused(servers) -> None:
    # https to http would send the API key in clear; any change of scheme is refused.
    server = servers()
    elsewhere = server.base.replace("http://", "https://")
    server.route("/vote.xml", (302, {"Location": f"{elsewhere}/vote.xml"}, b""))
    with pytest.raises(feed_client.FeedRedirectRefused, match="another host, port or scheme"):
        feed_client.get(f"{server.base}/vote.xml")


def test_redirects_within_the_origin_and_to_an_allowed_origin_are_followed(
    servers, settings
) -> None:
    first, mirror = servers(), servers()
    mirror_origin = f"http://localhost:{mirror.server.server_address[1]}"
    settings.FEED_REDIRECT_ALLOWED_ORIGINS = [mirror_origin]
    first.route("/old.xml", (301, {"Location": "/vote.xml"}, b""))
    first.route("/vote.xml", (302, {"Location": f"{mirror_origin}/vote.xml"}, b""))
    mirror.route("/vote.xml", ok(b"<roll_call_vote/>"))
    response = feed_client.get(f"{first.base}/old.xml")
    assert response.body == b"<roll_call_vote/>"
    assert response.url == f"{mirror_origin}/vote.xml"


# Point 14: the decoded size is capped while the body is decompressed, not after.


@pytest.fixture
def decoded_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every piece any zlib decompressor (ours or httpx's) hands back."""
    sizes: list[int] = []
    real_decompressobj = zlib.decompressobj

    class Counting:
        def __init__(self, *args: object, **kwargs: object) -> None:
            self.real = real_decompressobj(*args, **kwargs)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            decoded = self.real.decompress(data, max_length)
            sizes.append(len(decoded))
            return decoded

        def flush(self, *args: int) -> bytes:
            decoded = self.real.flush(*args)
            sizes.append(len(decoded))
            return decoded

        def __getattr__(self, name: str) -> object:
            return getattr(self.real, name)

    monkeypatch.setattr(zlib, "decompressobj", Counting)
    return sizes


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_is_refused_before_more_than_the_cap_is_decoded(
    servers, settings, decoded_sizes: list[int], encoding: str
) -> None:
    settings.FEED_MAX_BYTES = 100_000
    compress = gzip.compress if encoding == "gzip" else zlib.compress
    bomb = compress(b"\0" * 20_000_000)  # about 20 kB on the wire, 20 MB decoded
    assert len(bomb) < settings.FEED_MAX_BYTES
    server = servers()
    server.route("/vote.xml", (200, {"Content-Encoding": encoding}, bomb))
    with pytest.raises(feed_client.FeedTooLarge, match="100000-byte cap"):
        feed_client.get(f"{server.base}/vote.xml")
    assert 0 < sum(decoded_sizes) <= settings.FEED_MAX_BYTES + 1


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "identity"])
def test_gzip_deflate_and_identity_bodies_are_decoded(servers, encoding: str) -> None:
    vote = VOTE.read_bytes()
    compress = {"gzip": gzip.compress, "deflate": zlib.compress, "identity": bytes}[encoding]
    server = servers()
    server.route("/vote.xml", (200, {"Content-Encoding": encoding}, compress(vote)))
    assert feed_client.get(f"{server.base}/vote.xml").body == vote
    [(_, headers)] = server.requests
    assert headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    ("encoding", "body", "says"),
    [
        ("br", b"\x1b\x03\x00\xf8brotli", "in br encoding; only gzip and deflate are accepted"),
        ("gzip", gzip.compress(b"<roll_call_vote/>" * 100)[:-20], "a truncated gzip body"),
        ("deflate", b"not deflate at all", "a corrupt deflate body"),
    ],
    ids=["unknown", "truncated", "corrupt"],
)
def test_a_body_that_cannot_be_decoded_is_refused_clearly(
    servers, encoding: str, body: bytes, says: str
) -> None:
    server = servers()
    server.route("/vote.xml", (200, {"Content-Encoding": encoding}, body))
    with pytest.raises(feed_client.FeedError, match=says):
        feed_client.get(f"{server.base}/vote.xml")

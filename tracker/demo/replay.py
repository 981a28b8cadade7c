"""A loopback file server that plays recorded feed files, for the offline demo and the tests.

It serves a directory laid out like the real sites (`congress/bill/118/hr/815.json`,
`senate/roll_call_votes/vote1182/vote_118_2_00048.xml`, `house/2024/roll151.xml`,
`legislators/legislators-current.json`), so the refresh runs through the real client, adapters
and ingest with only the base URLs changed. Congress.gov paths have no extension; `.json` is
added, and a page with `offset=N` is read from `<path>.offset-N.json`. The public API host in
recorded `pagination.next` links is rewritten to this server.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.test import override_settings

from tracker.feeds import client

# The demo's recorded feeds: what `make run` refreshes from, offline.
RECORDED_FEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "feeds"
PUBLIC_CONGRESS_API = b"https://api.congress.gov/v3"


def _handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class FixtureHandler(BaseHTTPRequestHandler):
        # Keep-alive, as the real sites: a run of hundreds of files reuses one connection.
        # Headers and body go out in two writes; without TCP_NODELAY each response would wait
        # out the client's delayed ACK (40 ms).
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            parts = urlsplit(self.path)
            relative = parts.path.lstrip("/")
            if relative.startswith("congress/") and "." not in relative.rsplit("/", 1)[-1]:
                offset = parse_qs(parts.query).get("offset", ["0"])[0]
                suffix = f".offset-{offset}" if offset not in ("", "0") else ""
                relative = f"{relative}{suffix}.json"
            path = (root / relative).resolve()
            if root not in path.parents or not path.is_file():
                self.send_error(404, "Not Found")
                return
            body = path.read_bytes()
            if relative.startswith("congress/"):
                body = body.replace(PUBLIC_CONGRESS_API, self.server.congress_base.encode())  # type: ignore[attr-defined]
            self.send_response(200)
            kind = "application/json" if path.suffix == ".json" else "text/xml"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-RateLimit-Remaining", "4999")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # The command prints its own progress.

    return FixtureHandler


@contextmanager
def serving(root: Path = RECORDED_FEEDS, *, port: int = 0) -> Iterator[dict[str, str]]:
    """Serve `root` on 127.0.0.1 and point every feed base URL at it while the block runs."""
    root = root.resolve()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(root))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = {
        "CONGRESS_API_BASE_URL": f"{base}/congress",
        "SENATE_VOTES_BASE_URL": f"{base}/senate",
        "HOUSE_VOTES_BASE_URL": f"{base}/house",
        "LEGISLATORS_URL": f"{base}/legislators/legislators-current.json",
    }
    server.congress_base = urls["CONGRESS_API_BASE_URL"]  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(**urls):
            client.reset_client()
            yield urls
    finally:
        server.shutdown()
        server.server_close()
        client.reset_client()

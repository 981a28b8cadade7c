"""Benchmark: what a compression bomb costs the process that fetches it.

    uv run python -m tests.bench.feed_bomb [--decoded-mb 1024] [--caps 1048576,20971520]

A loopback server in a child process (so only the fetching process is measured) answers with
a body of zeros gzip-compressed at level 9 (1 GiB decoded is about 1 MB on the wire). For each
cap (FEED_MAX_BYTES), a fresh process fetches a small gzip file first (the client, its pool
and Django set up), then the bomb through tracker.feeds.client.get, and prints how much its
peak resident memory grew and how the fetch ended (it must be refused at the cap).
"""

import argparse
import gzip
import http.server
import multiprocessing
import os
import resource
import subprocess
import sys


def _serve(decoded_mb: int, ready: "multiprocessing.Queue[tuple[int, int]]") -> None:
    bomb = gzip.compress(bytes(decoded_mb * 1024 * 1024), 9)
    small = gzip.compress(b"<vote_summary/>")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bomb if self.path == "/bomb.xml" else small
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    ready.put((server.server_address[1], len(bomb)))
    server.serve_forever()


def _fetch(port: int) -> None:
    """In the measured process: set up, then fetch the bomb; print the growth of peak RSS."""
    import django

    django.setup()
    from tracker.feeds import client

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    client.get(f"http://127.0.0.1:{port}/small.xml")
    before = peak_mb()
    try:
        client.get(f"http://127.0.0.1:{port}/bomb.xml")
        outcome = "ACCEPTED (no cap held)"
    except Exception as error:  # noqa: BLE001  # how it ended is the figure
        outcome = f"refused: {type(error).__name__}: {str(error)[:80]}"
    print(f"+{peak_mb() - before:.0f} MB peak RSS; {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decoded-mb", type=int, default=1024)
    parser.add_argument("--caps", default="1048576,20971520")
    parser.add_argument("--fetch", type=int, help=argparse.SUPPRESS)  # the measured process
    args = parser.parse_args()
    if args.fetch:
        _fetch(args.fetch)
        return
    ready: multiprocessing.Queue[tuple[int, int]] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(args.decoded_mb, ready), daemon=True)
    server.start()
    port, wire = ready.get()
    print(f"bomb: {wire:,} bytes on the wire, {args.decoded_mb:,} MB decoded")
    try:
        for cap in [int(cap) for cap in args.caps.split(",")]:
            env = os.environ | {
                "FEED_MAX_BYTES": str(cap),
                "DJANGO_SETTINGS_MODULE": os.environ.get(
                    "DJANGO_SETTINGS_MODULE", "tracker.settings"
                ),
            }
            result = subprocess.run(
                [sys.executable, "-m", "tests.bench.feed_bomb", "--fetch", str(port)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            print(f"cap {cap:>12,} bytes: {result.stdout.strip() or result.stderr[-300:]}")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()

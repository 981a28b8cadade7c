"""The one HTTP seam for every feed: timeouts and a total deadline, a size cap on the decoded
body, a named User-Agent, same-origin redirects.

Tests and the offline demo point the base URLs at a loopback server; nothing here knows a format.
"""

import math
import random
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from django.conf import settings

USER_AGENT = "senate-negotiation-tracker/0.1 (+https://github.com/; feeds refresher)"
MAX_REDIRECTS = 5
# Transient failures are retried here a few times before the run records them; the Celery task
# then owns the slower, longer backoff.
ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
RETRYABLE_STATUSES = {408, 425, 429, 500, 502, 503, 504}
# Compressed bodies are decoded this many bytes at a time at most.
DECODE_STEP = 64 * 1024


class FeedError(Exception):
    """A feed could not be read or understood; the message says what and where."""

    retryable = False


class FeedUnavailable(FeedError):
    """Worth retrying later: a timeout, a refused connection, 429, a 5xx, a block."""

    retryable = True


class FeedHTTPError(FeedError):
    """The server answered with an error status."""

    def __init__(
        self, message: str, *, status: int, body: bytes = b"", retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.retry_after = retry_after
        self.retryable = status in RETRYABLE_STATUSES


class FeedTooSlow(FeedUnavailable):
    """The download passed FEED_TOTAL_TIMEOUT (a server trickling bytes never trips the per-read
    timeout). Retried later like a timeout, but not at once: the attempt already took that long."""


class FeedTooLarge(FeedError):
    """The decoded body passed FEED_MAX_BYTES; it is never parsed."""


class FeedRedirectRefused(FeedError):
    """A redirect left the origin (scheme, host and port) for one not in
    FEED_REDIRECT_ALLOWED_ORIGINS."""


class RefreshOutOfTime(Exception):
    """The time given to a whole refresh by `time_limit()` ran out.

    Not a FeedError on purpose: it stops the run (recorded as failed) instead of being noted
    against one item while the run goes on to the next, and the task does not retry it.
    """


@dataclass(frozen=True)
class FeedResponse:
    url: str
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


# When the current download must end, and when the whole run must (only inside `time_limit()`).
# httpx's timeouts apply to each socket operation, so a server sending a byte every few seconds
# never trips them, and httpx has no total timeout (encode/httpx#1450). So the connection pool
# gets a network backend that gives each connect, TLS handshake, read and write no more than
# the time left before the nearer of these two: headers trickled as slowly as a body are cut too.
_download_ends: ContextVar[float] = ContextVar("feed_download_ends", default=math.inf)
_run_ends: ContextVar[float] = ContextVar("feed_run_ends", default=math.inf)
_run_limit_reason: ContextVar[str] = ContextVar("feed_run_limit_reason", default="")


@contextmanager
def time_limit(seconds: float, reason: str) -> Iterator[None]:
    """Every request made inside shares `seconds` in all; past them RefreshOutOfTime(reason)."""
    ends = _run_ends.set(time.monotonic() + seconds)
    why = _run_limit_reason.set(reason)
    try:
        yield
    finally:
        _run_ends.reset(ends)
        _run_limit_reason.reset(why)


def check_time_left() -> None:
    """Raise RefreshOutOfTime if the run's `time_limit()` has passed (between items too)."""
    if time.monotonic() >= _run_ends.get():
        raise RefreshOutOfTime(_run_limit_reason.get())


def _time_left(timeout: float | None, timeout_error: type[Exception]) -> float:
    left = min(_download_ends.get(), _run_ends.get()) - time.monotonic()
    if left <= 0:
        raise timeout_error("no time left")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        stream = super().connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineStream(stream)


_client: httpx.Client | None = None


def _http() -> httpx.Client:
    # One module-level client (connection pooling); redirects are followed by hand below so the
    # origin check sees every hop.
    global _client
    if _client is None:
        transport = httpx.HTTPTransport(trust_env=False)
        # httpx gives no public way to hand its pool a network backend (encode/httpx#3180);
        # this is the pool HTTPTransport builds, with the deadline backend above.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(),
        )
        _client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(
                connect=settings.FEED_CONNECT_TIMEOUT,
                read=settings.FEED_READ_TIMEOUT,
                write=settings.FEED_READ_TIMEOUT,
                pool=settings.FEED_CONNECT_TIMEOUT,
            ),
            # Only encodings _read_capped can decode in bounded steps.
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=False,
            trust_env=False,
        )
    return _client


def reset_client() -> None:
    """Drop the pooled client, e.g. after timeouts were changed in tests."""
    global _client
    if _client is not None:
        _client.close()
    _client = None


def get(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    allow_statuses: frozenset[int] = frozenset(),
) -> FeedResponse:
    """GET `url`; retry transient failures a few times with jittered backoff, then raise.

    Statuses in `allow_statuses` (e.g. 304) are returned instead of raised. `headers` may carry
    secrets (the Congress.gov key): they are never put into messages or logs.
    """
    last_error: FeedError | None = None
    for attempt in range(ATTEMPTS):
        check_time_left()
        try:
            return _get_once(url, params=params, headers=headers, allow_statuses=allow_statuses)
        except FeedHTTPError as error:
            if not error.retryable:
                raise
            last_error = error
            wait = error.retry_after if error.retry_after is not None else _backoff(attempt)
        except FeedTooSlow:
            raise
        except FeedUnavailable as error:
            last_error = error
            wait = _backoff(attempt)
        if attempt + 1 < ATTEMPTS:
            wait = min(wait, BACKOFF_CAP_SECONDS)
            if time.monotonic() + wait >= _run_ends.get():
                raise RefreshOutOfTime(
                    f"{last_error}; waiting {wait:.0f} s to try again would pass the time limit:"
                    f" {_run_limit_reason.get()}"
                )
            time.sleep(wait)
    assert last_error is not None
    if isinstance(last_error, FeedHTTPError):
        # Retryable statuses surface as FeedUnavailable so the task's autoretry sees them.
        raise FeedUnavailable(str(last_error)) from last_error
    raise last_error


def _backoff(attempt: int) -> float:
    return BACKOFF_BASE_SECONDS * (2**attempt) * (0.5 + random.random())


def _get_once(
    url: str,
    *,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    allow_statuses: frozenset[int],
) -> FeedResponse:
    """One download, redirects included, within FEED_TOTAL_TIMEOUT."""
    total = settings.FEED_TOTAL_TIMEOUT
    ends = _download_ends.set(time.monotonic() + total)
    try:
        return _follow(url, params=params, headers=headers, allow_statuses=allow_statuses)
    except httpx.TimeoutException as error:
        check_time_left()
        if time.monotonic() >= _download_ends.get():
            raise FeedTooSlow(
                f"{_public(url)} took over {total} s to download (FEED_TOTAL_TIMEOUT)"
            ) from None
        raise FeedUnavailable(f"{_public(url)} timed out ({type(error).__name__})") from None
    except httpx.TransportError as error:
        raise FeedUnavailable(f"{_public(url)} unreachable ({type(error).__name__})") from None
    finally:
        _download_ends.reset(ends)


def _follow(
    url: str,
    *,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    allow_statuses: frozenset[int],
) -> FeedResponse:
    origin = _origin(url)
    allowed = {origin} | {_origin(other) for other in settings.FEED_REDIRECT_ALLOWED_ORIGINS}
    current = url
    current_params = params
    for _ in range(MAX_REDIRECTS + 1):
        with _http().stream("GET", current, params=current_params, headers=headers) as reply:
            if reply.is_redirect:
                target = urljoin(str(reply.url), reply.headers.get("location", ""))
                # Another port is another server, and https to http would send the API key
                # in clear: only the origin itself, or one the settings name, is followed.
                if _origin(target) not in allowed:
                    raise FeedRedirectRefused(
                        f"{_public(current)} redirected to another host, port or scheme"
                        f" ({_public(target)})"
                    )
                current, current_params = target, None
                continue
            body = _read_capped(reply, current)
        status = reply.status_code
        if status >= 300 and status not in allow_statuses:
            retry_after = reply.headers.get("retry-after", "")
            raise FeedHTTPError(
                f"{_public(current)} answered HTTP {status}",
                status=status,
                body=body[:2000],
                retry_after=float(retry_after) if retry_after.isdigit() else None,
            )
        return FeedResponse(str(reply.url), status, body, dict(reply.headers))
    raise FeedRedirectRefused(f"{_public(url)} redirected more than {MAX_REDIRECTS} times")


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or {"http": 80, "https": 443}.get(scheme)


def _read_capped(reply: httpx.Response, url: str) -> bytes:
    """The decoded body, refused as soon as it passes FEED_MAX_BYTES.

    httpx would decode a whole compressed chunk at once (a few kB of gzip can expand to hundreds
    of MB), so the raw bytes are decompressed here in steps of DECODE_STEP, never past the room
    left under the cap: at most FEED_MAX_BYTES + 1 decoded bytes ever exist.
    """
    limit = settings.FEED_MAX_BYTES
    declared = reply.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FeedTooLarge(f"{_public(url)} is {declared} bytes, over the {limit}-byte cap")
    encoding = reply.headers.get("content-encoding", "identity").strip().lower()
    decoder = _decoder(encoding, url)
    chunks, size, received = [], 0, 0
    for raw in reply.iter_raw():
        received += len(raw)
        if received > limit:
            raise FeedTooLarge(f"{_public(url)} passed the {limit}-byte cap")
        pending = raw
        while pending:
            if decoder is None:
                decoded, pending = pending, b""
            else:
                try:
                    # The room left +1, so that passing the cap shows; the input not decoded
                    # yet waits in unconsumed_tail.
                    decoded = decoder.decompress(pending, min(DECODE_STEP, limit - size + 1))
                except zlib.error as error:
                    raise FeedError(
                        f"{_public(url)} sent a corrupt {encoding} body ({error})"
                    ) from None
                pending = decoder.unconsumed_tail
            size += len(decoded)
            if size > limit:
                raise FeedTooLarge(f"{_public(url)} passed the {limit}-byte cap once decoded")
            chunks.append(decoded)
    # No body at all (a 304 that still names its encoding) is not a truncated one.
    if decoder is not None and received and not decoder.eof:
        raise FeedError(f"{_public(url)} sent a truncated {encoding} body")
    return b"".join(chunks)


def _decoder(encoding: str, url: str) -> Any:
    """A zlib decompressor for the body's Content-Encoding, or None for identity."""
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        # RFC 9110's deflate is the zlib format; +32 also accepts a gzip header in its place.
        return zlib.decompressobj(wbits=32 + zlib.MAX_WBITS)
    raise FeedError(
        f"{_public(url)} sent a body in {encoding} encoding; only gzip and deflate are accepted"
    )


def _public(url: str) -> str:
    """The URL without its query string, which could carry an api_key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"

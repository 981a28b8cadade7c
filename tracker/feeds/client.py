"""The one HTTP seam for every feed: timeouts, a size cap, a named User-Agent, same-host redirects.

Tests and the offline demo point the base URLs at a loopback server; nothing here knows a format.
"""

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

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


class FeedTooLarge(FeedError):
    """The body passed FEED_MAX_BYTES; it is never parsed."""


class FeedRedirectRefused(FeedError):
    """A redirect pointed at another host."""


@dataclass(frozen=True)
class FeedResponse:
    url: str
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


_client: httpx.Client | None = None


def _http() -> httpx.Client:
    # One module-level client (connection pooling); redirects are followed by hand below so the
    # host check sees every hop.
    global _client
    if _client is None:
        _client = httpx.Client(
            timeout=httpx.Timeout(
                connect=settings.FEED_CONNECT_TIMEOUT,
                read=settings.FEED_READ_TIMEOUT,
                write=settings.FEED_READ_TIMEOUT,
                pool=settings.FEED_CONNECT_TIMEOUT,
            ),
            headers={"User-Agent": USER_AGENT},
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
        try:
            return _get_once(url, params=params, headers=headers, allow_statuses=allow_statuses)
        except FeedHTTPError as error:
            if not error.retryable:
                raise
            last_error = error
            wait = error.retry_after if error.retry_after is not None else _backoff(attempt)
        except FeedUnavailable as error:
            last_error = error
            wait = _backoff(attempt)
        if attempt + 1 < ATTEMPTS:
            time.sleep(min(wait, BACKOFF_CAP_SECONDS))
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
    origin_host = urlsplit(url).hostname
    current = url
    current_params = params
    for _ in range(MAX_REDIRECTS + 1):
        try:
            with _http().stream("GET", current, params=current_params, headers=headers) as reply:
                if reply.is_redirect:
                    target = urljoin(str(reply.url), reply.headers.get("location", ""))
                    if urlsplit(target).hostname != origin_host:
                        raise FeedRedirectRefused(
                            f"{_public(current)} redirected to another host ({_public(target)})"
                        )
                    current, current_params = target, None
                    continue
                body = _read_capped(reply, current)
        except httpx.TimeoutException as error:
            raise FeedUnavailable(
                f"{_public(current)} timed out ({type(error).__name__})"
            ) from None
        except httpx.TransportError as error:
            raise FeedUnavailable(
                f"{_public(current)} unreachable ({type(error).__name__})"
            ) from None
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


def _read_capped(reply: httpx.Response, url: str) -> bytes:
    limit = settings.FEED_MAX_BYTES
    declared = reply.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FeedTooLarge(f"{_public(url)} is {declared} bytes, over the {limit}-byte cap")
    chunks, size = [], 0
    for chunk in reply.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise FeedTooLarge(f"{_public(url)} passed the {limit}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def _public(url: str) -> str:
    """The URL without its query string, which could carry an api_key."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"

"""What load balancers, Kubernetes and Docker ask of a node: is the process alive (/healthz), can it
serve (/readyz: the database, the cache and the broker), and a 503 rather than a 500 while the
database is away, so a balancer or a person knows to try again in a moment.
"""

import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, connections
from django.http import HttpRequest, HttpResponse
from django.views import defaults
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

# Seconds a client is told to wait before trying again while the database is away.
RETRY_AFTER = 5


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches nothing else, so an outage elsewhere never gets a
    healthy node restarted. Also the page benchmark's baseline."""
    return HttpResponse("ok", content_type="text/plain")


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    # The cache is a database table (login lockouts, see tracker/accounts.py): reading it also
    # shows that `createcachetable` ran.
    cache.get("tracker-readyz")


def _broker() -> None:
    if not settings.REDIS_URL:
        return  # No broker: tasks run in the web process.
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL,
        socket_connect_timeout=settings.READINESS_TIMEOUT,
        socket_timeout=settings.READINESS_TIMEOUT,
    )
    try:
        client.ping()
    finally:
        client.close()


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
}


def _run_check(check: Callable[[], None]) -> None:
    try:
        check()
    finally:
        connections.close_all()  # the thread's own connection, never the request's


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when the database, the cache and the broker each answer within
    READINESS_TIMEOUT seconds, else 503; one line per check says which failed."""
    # Each check runs in a thread of its own, so a hung server costs the timeout and no more,
    # and the three wait at the same time.
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
    futures = {name: pool.submit(_run_check, check) for name, check in CHECKS.items()}
    lines, ready = [], True
    for name, future in futures.items():
        try:
            future.result(timeout=settings.READINESS_TIMEOUT)
            lines.append(f"{name} ok")
        except FutureTimeout:
            ready = False
            lines.append(f"{name} failed: no answer within {settings.READINESS_TIMEOUT} s")
        except Exception as error:
            ready = False
            # The class only: the message may name hosts and users.
            lines.append(f"{name} failed: {type(error).__name__}")
            logger.warning("Readiness check %s failed: %s", name, error)
    pool.shutdown(wait=False, cancel_futures=True)
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain", status=200 if ready else 503
    )


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
}


class ProbeMiddleware:
    """Answers the probes before CommonMiddleware validates the Host header.

    Kubernetes and Docker probe over plain HTTP with the pod's or container's address as Host,
    which ALLOWED_HOSTS rightly refuses (a 400), and SecurityMiddleware would send to HTTPS (a
    301; SECURE_REDIRECT_EXEMPT spares these paths). Listed after the header middlewares, so
    the probes still carry every security header; nothing else is served without a valid Host.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        return probe(request) if probe else self.get_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the usual error page, but a 503 with Retry-After when the database could not
    be reached (restarting, failing over, or the pool had no connection to lend in time)."""
    response = defaults.server_error(request)
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response.status_code = 503
        response["Retry-After"] = str(RETRY_AFTER)
    return response

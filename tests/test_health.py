"""Probes: a load balancer, Docker or Kubernetes asks whether a node is alive (/healthz) and
whether it can serve (/readyz), and a database outage is a 503 to try again, not a 500."""

import gzip
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.broker_outage import HungRedis

ROOT = Path(__file__).resolve().parent.parent
# How a kubelet or Docker probes: plain HTTP, the pod's own address as the Host.
POD_HOST = "10.244.1.7:8000"


@pytest.fixture
def production(settings: Any) -> Any:
    """DEBUG off, one real host name, HTTPS enforced: what a deployment runs."""
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["tracker.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    return settings


def test_liveness_answers_a_probe_by_pod_address_over_plain_http(production, client: Client):
    response = client.get("/healthz", HTTP_HOST=POD_HOST)
    assert response.status_code == 200
    assert response.content == b"ok"


def test_probes_still_carry_the_security_headers(production, client: Client) -> None:
    response = client.get("/healthz", HTTP_HOST=POD_HOST)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("max-age=0")


def test_every_other_page_still_refuses_an_unknown_host_and_plain_http(production, client):
    assert client.get("/accounts/login/", HTTP_HOST=POD_HOST).status_code == 400
    response = client.get("/accounts/login/", HTTP_HOST="tracker.example.org")
    assert response.status_code == 301
    assert response["Location"].startswith("https://tracker.example.org/")


@pytest.mark.django_db(transaction=True)
def test_readiness_reports_each_service_it_checked(production, client: Client) -> None:
    response = client.get("/readyz", HTTP_HOST=POD_HOST)
    assert response.status_code == 200
    assert response.content.decode().splitlines() == ["database ok", "cache ok", "broker ok"]


@pytest.mark.django_db(transaction=True)
def test_readiness_names_a_broker_that_refuses_connections(production, client: Client) -> None:
    production.REDIS_URL = production.CELERY_BROKER_URL = "redis://127.0.0.1:1/12"
    response = client.get("/readyz", HTTP_HOST=POD_HOST)
    assert response.status_code == 503
    assert "broker failed: ConnectionError" in response.content.decode()
    assert "database ok" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_readiness_gives_up_on_a_hung_broker_after_its_timeout(production, client) -> None:
    hung = HungRedis()
    production.REDIS_URL = production.CELERY_BROKER_URL = hung.url
    production.READINESS_TIMEOUT = 1
    try:
        response = client.get("/readyz", HTTP_HOST=POD_HOST)
    finally:
        hung.close()
    assert response.status_code == 503
    assert "broker failed" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_readiness_fails_where_the_cache_table_was_never_created(production, client) -> None:
    production.CACHES = {
        "default": {"BACKEND": "tracker.accounts.LockoutCache", "LOCATION": "never_created"}
    }
    response = client.get("/readyz", HTTP_HOST=POD_HOST)
    assert response.status_code == 503
    lines = response.content.decode().splitlines()
    assert lines[0] == "database ok"
    assert lines[1].startswith("cache failed: ")


def _request_with_database_down(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A signed-in request (a session cookie to load) to a node whose database refuses."""
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "client = Client(raise_request_exception=False)\n"
        "client.cookies['__Host-sessionid'] = 'a' * 32\n"
        "response = client.get('/', HTTP_HOST='tracker.example.org', secure=True)\n"
        "print(response.status_code, response.get('Retry-After'),"
        " response.get('X-Content-Type-Options'))\n"
        "import sentry_sdk; sentry_sdk.flush(timeout=10)\n"
        "print('sentry:', 'active' if sentry_sdk.get_client().is_active() else 'inactive')\n"
        "from django.core import mail\n"
        "print('mailed:', *[to for message in mail.outbox for to in message.to])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "SENTRY_DSN"}}
        | {
            "DJANGO_SETTINGS_MODULE": "tracker.settings",
            "DEBUG": "false",
            "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
            "ALLOWED_HOSTS": "tracker.example.org",
            # Nothing listens on port 1: the database is down.
            "DATABASE_URL": "postgres://tracker@127.0.0.1:1/tracker",
        }
        | env,
    )


def test_a_database_outage_is_a_503_to_retry_not_a_500() -> None:
    result = _request_with_database_down({})
    assert result.stdout.split()[:3] == ["503", "5", "nosniff"], result.stderr


class _SentryIngest:
    """A loopback stand-in for Sentry's ingest endpoint that keeps the envelopes it is sent."""

    def __init__(self) -> None:
        envelopes = self.envelopes = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                envelopes.append(body.decode(errors="replace"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_address[1]}/42"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sentry() -> Any:
    ingest = _SentryIngest()
    yield ingest
    ingest.close()


def test_a_server_error_reaches_sentry_when_a_dsn_is_set(sentry) -> None:
    result = _request_with_database_down({"SENTRY_DSN": sentry.dsn})
    assert result.stdout.split()[0] == "503", result.stderr
    assert any("OperationalError" in envelope for envelope in sentry.envelopes)


def test_a_task_error_reaches_sentry_when_a_dsn_is_set(sentry) -> None:
    """A Celery task that fails (run in process here, as without a broker) is reported too."""
    script = (
        "import django; django.setup()\n"
        "from celery import shared_task\n"
        "@shared_task(name='tests.failing_digest_task')\n"
        "def failing_digest_task():\n"
        "    raise LookupError('digest template missing')\n"
        "failing_digest_task.apply()\n"
        "import sentry_sdk; sentry_sdk.flush(timeout=10)\n"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        | {"DJANGO_SETTINGS_MODULE": "tracker.settings", "SENTRY_DSN": sentry.dsn},
    )
    reported = [envelope for envelope in sentry.envelopes if "digest template missing" in envelope]
    assert reported and "celery" in reported[0]


def test_nothing_is_sent_anywhere_without_a_dsn(sentry) -> None:
    result = _request_with_database_down({"SENTRY_DSN": ""})
    assert result.stdout.split()[0] == "503", result.stderr
    assert sentry.envelopes == []
    assert "sentry: inactive" in result.stdout


def test_admins_from_the_environment_are_mailed_a_server_error() -> None:
    result = _request_with_database_down(
        {
            "ADMINS": "Tracker operations <ops@example.org>, Jane Doe <jane@example.org>",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    assert "mailed: ops@example.org jane@example.org" in result.stdout, result.stderr

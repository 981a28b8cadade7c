"""Logs a log collector can read: one JSON object per line, in UTC, naming the request (its id,
returned to the client, and the user) or the Celery task each line belongs to."""

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from celery import shared_task
from django.test import Client

from tests.factories import make_user
from tracker import roles
from tracker.logs import JsonFormatter

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines() -> Iterator[Any]:
    """The JSON lines written while the test runs, parsed, as the console handler writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def _request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "tracker.requests"]


def test_the_configured_console_handler_writes_json_lines() -> None:
    from django.conf import settings

    assert settings.LOGGING["handlers"]["console"]["formatter"] == "json"
    assert settings.LOGGING["formatters"]["json"]["()"] == "tracker.logs.JsonFormatter"


def test_a_request_gets_an_id_returned_to_the_client_and_on_its_log_line(
    client: Client, log_lines
) -> None:
    response = client.get("/accounts/login/")
    (line,) = _request_lines(log_lines())
    assert len(response["X-Request-ID"]) == 32
    assert line["request_id"] == response["X-Request-ID"]
    assert line["message"] == "GET /accounts/login/ 200"
    assert line["status"] == 200 and line["level"] == "INFO"


def test_times_are_utc_whatever_the_site_time_zone(client: Client, log_lines) -> None:
    client.get("/accounts/login/")
    (line,) = _request_lines(log_lines())
    assert line["time"].endswith("Z")
    stamp = datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    assert stamp.utcoffset() == timedelta(0)


def test_a_request_id_from_the_load_balancer_is_kept(client: Client, log_lines) -> None:
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert response["X-Request-ID"] == "lb-7f3a9c21-0001"
    assert _request_lines(log_lines())[0]["request_id"] == "lb-7f3a9c21-0001"


def test_a_request_id_that_could_forge_log_lines_is_replaced(client: Client, log_lines) -> None:
    forged = 'x"}\n{"level": "CRITICAL'
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=forged)
    assert response["X-Request-ID"] != forged
    assert len(log_lines()) >= 1  # every line still parses


def test_a_signed_in_user_s_lines_name_their_id(client: Client, groups, log_lines) -> None:
    vera = make_user("vera", role=roles.VIEWER)
    client.force_login(vera)
    client.get("/digests/watches/")
    (line,) = _request_lines(log_lines())
    assert line["user_id"] == vera.pk


def test_a_probe_is_not_logged_at_info(client: Client, log_lines) -> None:
    client.get("/healthz")
    assert _request_lines(log_lines()) == []


@shared_task
def record_progress(step: str) -> None:
    """A task that logs a line, as the feed and digest tasks do."""
    logging.getLogger("tracker.feeds").info("Refresh %s", step)


def test_a_task_s_lines_name_the_task_and_its_id(log_lines) -> None:
    result = record_progress.apply(args=["halfway"])
    (line,) = [line for line in log_lines() if line["logger"] == "tracker.feeds"]
    assert line["message"] == "Refresh halfway"
    assert line["task_id"] == result.id
    assert line["task"] == "tests.test_logs.record_progress"


def test_lines_after_a_task_no_longer_name_it(log_lines) -> None:
    record_progress.apply(args=["done"])
    logging.getLogger("tracker.feeds").info("Between tasks")
    assert "task_id" not in log_lines()[-1]


def test_an_exception_is_kept_on_its_line(log_lines) -> None:
    try:
        raise ValueError("the vote counts disagree")
    except ValueError:
        logging.getLogger("tracker.feeds").exception("Ingest failed")
    (line,) = log_lines()
    assert line["message"] == "Ingest failed"
    assert "ValueError: the vote counts disagree" in line["exception"]

"""Log lines for machines: one JSON object per line, stamped in UTC, naming what they belong to.

A line logged while a web request is served carries the request's id (the X-Request-ID a proxy
sent, or a new one; the response returns it) and the signed-in user's id; a line logged by a
Celery task carries the task's id and name. Anything passed as `extra=` is kept as a field.
Settings' LOGGING uses these formatters for Django, Celery (tracker/celery.py) and gunicorn
(tracker/deploy/gunicorn.conf.py).
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it looks like one, so a client cannot write into the logs.
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
# The attributes every LogRecord has; any other attribute came from `extra=`.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

_request: ContextVar[HttpRequest | None] = ContextVar("tracker_request", default=None)
_task: ContextVar[tuple[str, str] | None] = ContextVar("tracker_task", default=None)

logger = logging.getLogger("tracker.requests")


def context() -> dict[str, object]:
    """The request or task the current line belongs to, as log fields."""
    fields: dict[str, object] = {}
    request = _request.get()
    if request is not None:
        fields["request_id"] = getattr(request, "request_id", None)
        # Only a user the request already loaded: a log line never queries the database.
        user = request.__dict__.get("_cached_user")
        if user is not None and user.is_authenticated:
            fields["user_id"] = user.pk
    task = _task.get()
    if task is not None:
        fields["task_id"], fields["task"] = task
    return fields


def _utc(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class JsonFormatter(logging.Formatter):
    """{"time": "2024-02-07T12:00:00.000Z", "level": ..., "logger": ..., "message": ..., ...}"""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(context())
        line.update(
            (key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The same fields on one readable line, for a terminal (LOG_FORMAT=plain)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in context().items())
        text = f"{_utc(record.created)} {record.levelname} {record.name} {record.getMessage()}"
        text = f"{text} [{fields}]" if fields else text
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


class RequestLogMiddleware:
    """Names each request (X-Request-ID in and out), tags its log lines, and logs one line for
    it with status and duration. Probes are logged at DEBUG, so they do not fill the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = (  # type: ignore[attr-defined]
            incoming if _ACCEPTABLE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        )
        token = _request.set(request)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
            probe = request.path in ("/healthz", "/readyz") and response.status_code == 200
            logger.log(
                logging.DEBUG if probe else logging.INFO,
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _request.reset(token)


def begin_task(task_id: str, name: str) -> None:
    """Tag the lines a Celery task logs from here on (its task_prerun signal)."""
    _task.set((task_id, name))


def end_task() -> None:
    _task.set(None)

"""Gunicorn's settings wherever the tracker is served (Docker, Kubernetes, the cluster test):

    gunicorn --config tracker/deploy/gunicorn.conf.py tracker.wsgi

Per deployment: PORT, WEB_CONCURRENCY (processes) and WEB_THREADS (threads each), or any
gunicorn option in GUNICORN_CMD_ARGS (it wins over this file). Each thread may hold one
database connection: see "Deploying on several machines" in the README for the budget.
"""

import os

from tracker.logs import JsonFormatter

bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "1"))
# A worker is replaced after about a thousand requests, at different moments for each (the
# jitter), so a slow leak never grows and the workers never restart all at once.
max_requests = 1000
max_requests_jitter = 100
timeout = 30
graceful_timeout = 25
# Longer than the load balancer's idle timeout, so it never reuses a connection we closed.
keepalive = 75
# Django logs one JSON line per request, with its id and user (tracker/logs.py).
accesslog = None
errorlog = "-"
# Gunicorn's own lines (workers starting, timing out) as the same JSON lines.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

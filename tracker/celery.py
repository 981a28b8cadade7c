"""The Celery app: configured from Django settings (CELERY_*), tasks autodiscovered, and logging
left to Django's LOGGING so worker and beat lines are the same JSON lines as the web's."""

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

from tracker import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs: Any) -> None:
    # Connecting here stops Celery installing its own plain-text handlers on the root logger.
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@task_prerun.connect
def _tag_task_lines(task_id: str, task: Any, **kwargs: Any) -> None:
    logs.begin_task(task_id, task.name)


@task_postrun.connect
def _untag_task_lines(**kwargs: Any) -> None:
    logs.end_task()

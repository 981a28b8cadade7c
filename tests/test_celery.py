"""A task makes the round trip through the real Redis broker to a real worker and back."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tracker.tasks import ping

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.redis
def test_a_task_round_trips_through_redis_and_a_worker() -> None:
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    queue = f"test-{uuid.uuid4().hex}"  # its own queue, so no other worker can take the task
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tracker",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        message = f"round trip {uuid.uuid4().hex}"
        result = ping.apply_async(args=[message], queue=queue)
        assert result.get(timeout=60) == message
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode is not None, output

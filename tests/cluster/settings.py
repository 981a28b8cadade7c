"""The cluster test's settings: the tracker's own (tracker/settings.py, from the environment the
test sets), with short beat schedules and quick redelivery so each check fits in seconds."""

import math
import time
from datetime import timedelta

from celery.schedules import schedstate, schedule

from tracker.settings import *  # noqa: F403
from tracker.settings import CELERY_BROKER_TRANSPORT_OPTIONS, env_int


class every_seconds_on_the_clock(schedule):  # noqa: N801 - named like Celery's own schedules
    """Due at every multiple of `seconds` of wall-clock time, as a crontab is at whole minutes:
    two beats started apart still fire the same entry at the same moment."""

    def __init__(self, seconds: int) -> None:
        super().__init__(run_every=timedelta(seconds=seconds))
        self.every = seconds

    def is_due(self, last_run_at) -> schedstate:  # type: ignore[no-untyped-def]
        now = time.time()
        slot = math.floor(now / self.every) * self.every
        until_next = slot + self.every - now
        return schedstate(last_run_at.timestamp() < slot, until_next)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return self.__class__, (self.every,)


BEAT_EVERY = env_int("CLUSTER_BEAT_EVERY", 10)
CELERY_BEAT_SCHEDULE = {
    "refresh-members": {
        "task": "tracker.tasks.refresh_feed",
        "schedule": every_seconds_on_the_clock(BEAT_EVERY),
        "args": ["members"],
    },
    "send-due-digests": {
        "task": "tracker.tasks.send_due_digests",
        "schedule": every_seconds_on_the_clock(BEAT_EVERY),
    },
}
# A killed worker's task is handed out again after 15 seconds, looked for every 2.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": 15,
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
}

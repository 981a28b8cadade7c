"""The release step: run once per deploy, before the new web, worker and beat processes start.

    python -m tracker.deploy.release

Applies migrations, creates the cache table (login lockouts live there, tracker/accounts.py)
and the staff roles. In demo mode (DEMO_MODE, on by default only with DEBUG) it also loads the
demo negotiation, refreshes from its recorded feeds, and replays them from Feb 1, 2024 so the
feeds' moves show with their sources. docker-compose.yml's `migrate` service, the
Kubernetes `migrate` Job, `make run` and the cluster test all run this, and only this, so web
replicas never race each other to migrate.
"""

import os

import django
from django.conf import settings
from django.core.management import call_command


def release() -> None:
    call_command("migrate", interactive=False)
    call_command("createcachetable")
    call_command("setup_roles")
    if settings.DEMO_MODE:
        call_command("load_demo")
        call_command(
            "refresh_feeds", "--replay", "--senate-session", "118-2", "--house-year", "2024"
        )
        # Then from Feb 1, 2024, day by day, so the demo shows what the feeds moved and why.
        call_command("replay_negotiation", "--from", "2024-02-01")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    django.setup()
    release()

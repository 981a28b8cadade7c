"""Benchmark: median latency and query count of the whip board and the funding comparison at
`seed_scale` size, and at a tenth of the positions to show the query count does not grow.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_analysis \\
        uv run python -m tests.bench.analysis [--runs 25]

It builds a throwaway test database ("test_" + the configured name) from the current models,
the way `pytest --nomigrations` does, so it needs no migration for models not yet migrated and
never touches the data in the configured database. The database is dropped at the end.
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)

# Activities are left out: neither page reads them, and seeding them dominates the set-up time.
from tracker.roles import EDITOR, VIEWER, ensure_roles  # noqa: E402

SIZES = {
    "a tenth of the positions": {"positions": 3_000, "activities": 0, "votes": 60},
    "seed_scale default": {"activities": 0},
}


class _NoMigrations(dict):
    """Build every app's tables straight from the models (what --nomigrations does)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __getitem__(self, item: str) -> None:
        return None


def _measure(client: Client, url: str, runs: int) -> tuple[float, float, int, int]:
    client.get(url)  # warm caches and connections
    timings, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
        assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    # The fastest run as well: on a shared, busy machine it shows the cost without the noise.
    return statistics.median(timings), min(timings), queries, len(response.content)


def _scenario(label: str, fields: dict, runs: int, report: Callable[[str], None]) -> None:
    from tests.bench.scale import ScaleSize, seed_scale
    from tracker.models import Demand, Provision
    from tracker.models.whip import VoteTarget, VoteTargetLink

    started = time.perf_counter()
    negotiation = seed_scale(ScaleSize(**fields))
    seeded = time.perf_counter() - started
    target = VoteTarget.objects.create(negotiation=negotiation, motion="Cloture (benchmark)")
    for provision in Provision.objects.filter(negotiation=negotiation).order_by("id")[:5]:
        VoteTargetLink.objects.create(target=target, provision=provision)
    for demand in Demand.objects.filter(negotiation=negotiation).order_by("id")[:2]:
        VoteTargetLink.objects.create(target=target, demand=demand, support_means="no")
    from tracker.models import Position

    on_links = (
        Position.objects.filter(provision__vote_target_links__target=target).count()
        + Position.objects.filter(demand__vote_target_links__target=target).count()
    )
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    # Editors see a record and an override form on every member's row: the heaviest page.
    editor = Client()
    editor.force_login(get_user_model().objects.get(username="bench-editor"))
    report(
        f"\n{label}: {Position.objects.count():,} positions ({on_links:,} on the target's "
        f"7 items), seeded in {seeded:.1f} s"
    )
    for name, reader, url in (
        ("whip board (today)", client, f"/whip/{target.pk}/"),
        ("whip board (as of a past day)", client, f"/whip/{target.pk}/?as_of=2024-01-15"),
        ("whip board (Editor, with forms)", editor, f"/whip/{target.pk}/"),
        ("whip board CSV", client, f"/whip/{target.pk}/board.csv"),
        ("funding comparison", client, f"/funding/?negotiation={negotiation.slug}"),
        ("funding CSV", client, f"/funding/comparison.csv?negotiation={negotiation.slug}"),
    ):
        median, fastest, queries, size = _measure(reader, url, runs)
        report(
            f"  {name:33} median {median:6.1f} ms  (fastest {fastest:5.1f})  {queries:2} queries"
            f"  {size / 1024:4.0f} KB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()

    settings.MIGRATION_MODULES = _NoMigrations()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        # A Viewer, as most readers of these pages are (staff accounts must set up 2FA first).
        user = get_user_model().objects.create_user("bench", "bench@example.com", "x")
        user.groups.add(ensure_roles()[VIEWER])
        editor = get_user_model().objects.create_user("bench-editor", "editor@example.com", "x")
        editor.groups.add(ensure_roles()[EDITOR])
        print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}; {args.runs} runs")
        for label, fields in SIZES.items():
            _scenario(label, fields, args.runs, print)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()

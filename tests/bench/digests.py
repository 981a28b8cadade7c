"""Benchmark: build (without sending) the digests of 1,000 users watching 50 items each over
seed_scale's 50,000 activities, and print users per second and SQL queries per user.

    uv run python -m tests.bench.digests [--users 1000] [--watches 50] [--render]
                                           [--batch 100 | --one-by-one] [--no-migrations]

Digests are built in batches (tracker.digests.build_digests), as a run over many users does;
--one-by-one builds each alone with build_digest, as sending or previewing one digest does.

It runs in a throwaway database (the test database of DATABASE_URL: in memory for SQLite),
never the dev database. --no-migrations builds tables from the models, for a checkout whose
migrations are not generated yet.
"""

import argparse
import os
import random
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--watches", type=int, default=50)
    parser.add_argument("--activities", type=int, default=50_000)
    parser.add_argument("--no-migrations", action="store_true")
    parser.add_argument(
        "--render", action="store_true", help="Also render each email (subject, text, HTML)."
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="Users built together (default: BATCH_SIZE)."
    )
    parser.add_argument("--one-by-one", action="store_true", help="Build each user's digest alone.")
    args = parser.parse_args()

    django.setup()
    from django.conf import settings
    from django.db import connection

    if args.no_migrations:
        settings.MIGRATION_MODULES = {app.split(".")[-1]: None for app in settings.INSTALLED_APPS}
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        _run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _run(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from tests.bench.scale import ScaleSize, seed_scale
    from tracker import digests
    from tracker.models import Activity, DigestPreference, Watch

    started = time.perf_counter()
    negotiation = seed_scale(ScaleSize(activities=args.activities))
    print(f"seed_scale: {time.perf_counter() - started:.1f} s")

    rng = random.Random(5)
    provisions = list(negotiation.provisions.values_list("pk", flat=True))
    demands = list(negotiation.demands.values_list("pk", flat=True))
    stakeholders = list(
        Activity.objects.filter(negotiation=negotiation, stakeholder__isnull=False)
        .values_list("stakeholder_id", flat=True)
        .distinct()
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-{n}", email=f"bench-{n}@example.org")
        for n in range(args.users)
    )
    DigestPreference.objects.bulk_create(DigestPreference(user=user) for user in users)

    def watch(count: int) -> None:
        Watch.objects.all().delete()
        rows = []
        for user in users:
            # A realistic mix: mostly provisions, some demands and stakeholders.
            chosen = {("provision", pk) for pk in rng.sample(provisions, k=count * 6 // 10)}
            some_demands = rng.sample(demands, k=min(len(demands), count // 5))
            chosen |= {("demand", pk) for pk in some_demands}
            while len(chosen) < count:
                chosen.add(("stakeholder", rng.choice(stakeholders)))
            rows += [Watch(user=user, **{f"{kind}_id": pk}) for kind, pk in chosen]
        Watch.objects.bulk_create(rows, batch_size=5000)

    scale_activities = Activity.objects.filter(negotiation=negotiation)
    span_end = scale_activities.latest("occurred_at").occurred_at
    span_start = scale_activities.earliest("occurred_at").occurred_at
    until = span_end + timedelta(seconds=1)
    windows = {
        "weekly digest (last 7 days)": until - timedelta(days=7),
        "first digest over everything (200 days)": span_start,
    }
    print(
        f"{args.users:,} users, {Activity.objects.count():,} activities, vendor {connection.vendor}"
    )
    for watch_count in sorted({10, args.watches}):
        watch(watch_count)
        for label, since in windows.items():
            queries = 0

            def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
                nonlocal queries
                queries += 1
                return execute(sql, params, many, context)

            changes = 0
            started = time.perf_counter()
            with connection.execute_wrapper(count):
                bench_users = get_user_model().objects.filter(username__startswith="bench-")
                if args.one_by_one:
                    built = (
                        digests.build_digest(user, since=since, until=until) for user in bench_users
                    )
                else:
                    built = digests.build_digests(
                        bench_users,
                        since=since,
                        until=until,
                        batch_size=args.batch or digests.BATCH_SIZE,
                    )
                for digest in built:
                    if args.render:
                        digests.digest_message(digest)
                    changes += digest.change_count
            elapsed = time.perf_counter() - started
            print(
                f"{watch_count:>3} watches, {label}: {elapsed:.1f} s, "
                f"{args.users / elapsed:,.0f} users/s, "
                f"{queries / args.users:.2f} queries/user ({queries:,} in all), "
                f"{changes / args.users:,.0f} changes/user"
            )


if __name__ == "__main__":
    main()

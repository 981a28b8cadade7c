"""Benchmark: what the feeds move, per changed bill, at demo size and at `seed_scale` size.

    uv run python -m tests.bench.feed_effects [--runs 5]

Rewinds the demo's H.R. 815 to before its Senate votes, then times (median of `--runs`) and
counts the queries of: the bill refresh's ingest of all its actions, which derives the bill's
stage, its versions' standing and the provision moves and proposals in the same transaction;
the derivation alone (`follow_bill`) on that bill; and a re-run with nothing new. Then it builds
the seed_scale negotiation beside the demo (300 more provisions, 30,000 positions, 50,000
activities) and measures again: the derivation's cost follows the changed bill's actions and its
versions' lines, not every provision and action in the database.
Without DATABASE_URL it uses its own SQLite file (var/bench-effects.sqlite3, recreated).
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
BENCH_DB = BASE_DIR / "var" / "bench-effects.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        BENCH_DB.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.bench.scale import seed_scale
    from tracker.demo import load_demo

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    load_demo()
    print("| size | ingest of H.R. 815's 15 actions | derivation alone | re-run, nothing new |")
    print("| --- | --- | --- | --- |")
    print(_row("demo", options.runs))
    started = time.perf_counter()
    seed_scale()
    print(f"(seed_scale built in {time.perf_counter() - started:.1f} s)")
    print(_row("demo + seed_scale", options.runs))


def _row(label: str, runs: int) -> str:
    ingest, derive, rerun = [], [], []
    for _ in range(runs):
        ingest.append(_measure(_ingest_all))
        derive.append(_measure(_derive_only))
        rerun.append(_measure(_rerun))
    return f"| {label} | {_cell(ingest)} | {_cell(derive)} | {_cell(rerun)} |"


def _cell(samples: list[tuple[float, int]]) -> str:
    ms = statistics.median(seconds for seconds, _ in samples) * 1000
    queries = max(count for _, count in samples)
    return f"{ms:.1f} ms, {queries} queries"


def _measure(step) -> tuple[float, int]:  # noqa: ANN001
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    prepare = step(prepare=True)
    connection.queries_log.clear()  # the log keeps 9,000 queries: seed_scale filled it
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        step(prepared=prepare)
        elapsed = time.perf_counter() - started
    return elapsed, len(queries)


def _rewound_hr_815():
    """H.R. 815 back to Feb 1, 2024, and its actions as the recorded feed has them."""
    from datetime import date

    from tracker.demo.replay import RECORDED_FEEDS
    from tracker.demo.rewind import _pages, rewind
    from tracker.feeds import congress
    from tracker.models import Negotiation

    rewind(Negotiation.objects.get(slug="supplemental-2024"), date(2024, 2, 1))
    folder = RECORDED_FEEDS / "congress/bill/118/hr"
    record = congress.parse_bill(json.loads((folder / "815.json").read_text()))
    actions = tuple(congress.parse_action(item) for item in _pages(folder / "815"))
    return record, actions


def _ingest_all(*, prepare: bool = False, prepared=None):  # noqa: ANN001, ANN202
    from tracker.feeds.congress import ActionList
    from tracker.feeds.ingest import ingest_bill

    if prepare:
        return _rewound_hr_815()
    record, actions = prepared
    ingest_bill(record, ActionList(actions, len(actions)))
    return None


def _derive_only(*, prepare: bool = False, prepared=None):  # noqa: ANN001, ANN202
    from tracker.feed_effects import follow_bill
    from tracker.feeds.congress import ActionList
    from tracker.feeds.ingest import ingest_bill
    from tracker.models import Bill, PackageVersion, Provision, StatusProposal

    if prepare:
        record, actions = _rewound_hr_815()
        ingest_bill(record, ActionList(actions, len(actions)))
        # Undo what the derivation wrote, keeping the actions: it will have it all to do again.
        bill = Bill.objects.by_key("118-hr-815")
        PackageVersion.objects.filter(bill=bill).update(standing="", standing_on=None)
        Provision.objects.filter(negotiation=bill.negotiation, status="enacted").update(
            status="in_text"
        )
        StatusProposal.objects.all().delete()
        return bill
    follow_bill(prepared)
    return None


def _rerun(*, prepare: bool = False, prepared=None):  # noqa: ANN001, ANN202
    from tracker.feed_effects import follow_bill
    from tracker.models import Bill

    if prepare:
        return Bill.objects.by_key("118-hr-815")
    follow_bill(prepared)
    return None


if __name__ == "__main__":
    main()

"""Benchmark: ingest one Senate session and one House year of roll calls from local files.

    uv run python -m tracker.bench.feeds_ingest [--senate-rolls 350] [--house-rolls 700]

Prints, per chamber: the time to merely read and parse the files, the first ingest (casts per
second and its ratio to the parse time), an unchanged re-run through the ingest (every file parsed
and compared) and through the sync's content-hash check, and the database round trips per vote.
Without DATABASE_URL it uses its own SQLite file (var/bench-feeds.sqlite3, recreated each time);
with one, it writes under a synthetic congress (900) and deletes what it wrote at the end.
"""

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
BENCH_DB = BASE_DIR / "var" / "bench-feeds.sqlite3"
CONGRESS = 900  # no real congress: the bench never touches real votes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senate-rolls", type=int, default=350)
    parser.add_argument("--house-rolls", type=int, default=700)
    options = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        BENCH_DB.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{BENCH_DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    _create_unmigrated_tables()
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        try:
            _bench(root, "senate", options.senate_rolls, 100)
            _bench(root, "house", options.house_rolls, 435)
        finally:
            _clean_up()


def _create_unmigrated_tables() -> None:
    """Models added since the last migration (as on a branch before the lead's makemigrations)."""
    from django.apps import apps
    from django.db import connection

    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in apps.get_models():
            if model._meta.managed and model._meta.db_table not in existing:
                editor.create_model(model)
                existing.add(model._meta.db_table)


class _QueryCounter:
    """Counts statements through connection.execute_wrapper: unlike CaptureQueriesContext it
    keeps no SQL text, so counting every vote does not slow down what is being measured."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001, ANN204
        self.count += 1
        return execute(sql, params, many, context)


def _bench(root: Path, chamber: str, rolls: int, members: int) -> None:
    from django.db import connection

    from tracker.feeds import house, senate
    from tracker.feeds.ingest import BillIndex, MemberIndex, VoteIndex, ingest_roll_call

    files = [_write(root, chamber, number, members) for number in range(1, rolls + 1)]
    parse = senate.parse_vote if chamber == "senate" else house.parse_roll
    casts = rolls * members

    started = time.perf_counter()
    for path in files:
        parse(path.read_bytes())
    parse_seconds = time.perf_counter() - started

    # As a sync run does: the member, bill and vote indexes are shared by the run's votes.
    index, bills, votes = MemberIndex(chamber), BillIndex(), VoteIndex()
    queries_per_vote = []
    counter = _QueryCounter()
    started = time.perf_counter()
    store_seconds = 0.0
    with connection.execute_wrapper(counter):
        for path in files:
            roll = parse(path.read_bytes())
            storing = time.perf_counter()
            index.ensure(roll.casts)  # members are created once, outside the per-vote count
            before = counter.count
            ingest_roll_call(roll, members=index, bills=bills, votes=votes)
            queries_per_vote.append(counter.count - before)
            store_seconds += time.perf_counter() - storing
    ingest_seconds = time.perf_counter() - started

    rerun_queries = []
    started = time.perf_counter()
    index, bills, votes = MemberIndex(chamber), BillIndex(), VoteIndex()
    with connection.execute_wrapper(counter):
        for path in files:
            before = counter.count
            roll = parse(path.read_bytes())
            outcome = ingest_roll_call(roll, members=index, bills=bills, votes=votes)
            rerun_queries.append(counter.count - before)
            assert outcome.outcome == "unchanged", outcome
    rerun_seconds = time.perf_counter() - started

    hashes = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
    started = time.perf_counter()
    unchanged = sum(hashlib.sha256(p.read_bytes()).hexdigest() == hashes[p] for p in files)
    hash_seconds = time.perf_counter() - started
    assert unchanged == rolls

    print(f"\n{chamber}: {rolls} roll calls x {members} casts = {casts:,} casts")
    print(f"  parse only            {parse_seconds:7.2f} s  ({casts / parse_seconds:,.0f} casts/s)")
    print(
        f"  first ingest          {ingest_seconds:7.2f} s  ({casts / ingest_seconds:,.0f} casts/s, "
        f"{ingest_seconds / parse_seconds:.1f}x parse; reading and parsing included, "
        f"storing alone {store_seconds:.2f} s)"
    )
    print(
        f"  unchanged re-run      {rerun_seconds:7.2f} s  (every file parsed and compared, "
        "nothing written but last_synced_at)"
    )
    print(f"  unchanged, hash check {hash_seconds:7.2f} s  (what a scheduled run does per file)")
    print(
        f"  statements per vote   first {min(queries_per_vote)}-{max(queries_per_vote)}, "
        f"re-run {min(rerun_queries)}-{max(rerun_queries)} (plus BEGIN and COMMIT where one "
        "was written; the re-run's maximum is its first vote, which reads the session's votes)"
    )


def _write(root: Path, chamber: str, number: int, members: int) -> Path:
    choices = ["Yea", "Nay", "Not Voting", "Present"]
    casts = [choices[(number + member) % 4] if member % 7 else "Yea" for member in range(members)]
    totals = {choice: casts.count(choice) for choice in choices}
    path = root / f"{chamber}-{number:04d}.xml"
    if chamber == "senate":
        rows = "".join(
            f"<member><member_full>Member{m} (D-ST)</member_full><last_name>Member{m}</last_name>"
            f"<first_name>Bench</first_name><party>D</party><state>ST</state>"
            f"<vote_cast>{cast}</vote_cast><lis_member_id>B{m:04d}</lis_member_id></member>"
            for m, cast in enumerate(casts)
        )
        path.write_text(
            f"<?xml version='1.0'?><roll_call_vote><congress>{CONGRESS}</congress>"
            f"<session>1</session><vote_number>{number}</vote_number>"
            "<vote_date>March 1, 2024,  02:15 PM</vote_date>"
            "<modify_date>March 1, 2024,  03:00 PM</modify_date>"
            "<vote_question_text>On Passage</vote_question_text><vote_result>Passed</vote_result>"
            f"<count><yeas>{totals['Yea']}</yeas><nays>{totals['Nay']}</nays>"
            f"<present>{totals['Present']}</present><absent>{totals['Not Voting']}</absent></count>"
            f"<members>{rows}</members></roll_call_vote>"
        )
    else:
        rows = "".join(
            f'<recorded-vote><legislator name-id="B{m:06d}" party="R" state="ST">Member{m}'
            f"</legislator><vote>{cast}</vote></recorded-vote>"
            for m, cast in enumerate(casts)
        )
        path.write_text(
            "<?xml version='1.0'?><rollcall-vote><vote-metadata>"
            f"<congress>{CONGRESS}</congress><session>1st</session>"
            f"<rollcall-num>{number}</rollcall-num><vote-question>On Passage</vote-question>"
            "<vote-type>YEA-AND-NAY</vote-type><vote-result>Passed</vote-result>"
            "<action-date>1-Mar-2024</action-date>"
            '<action-time time-etz="14:15">2:15 PM</action-time>'
            f"<vote-totals><totals-by-vote><yea-total>{totals['Yea']}</yea-total>"
            f"<nay-total>{totals['Nay']}</nay-total><present-total>{totals['Present']}"
            f"</present-total><not-voting-total>{totals['Not Voting']}</not-voting-total>"
            f"</totals-by-vote></vote-totals></vote-metadata><vote-data>{rows}</vote-data>"
            "</rollcall-vote>"
        )
    return path


def _clean_up() -> None:
    from tracker.models import Activity, Stakeholder, Vote

    Activity.objects.filter(vote__congress=CONGRESS).delete()
    Vote.objects.filter(congress=CONGRESS).delete()
    Stakeholder.objects.filter(slug__startswith="bench-member").delete()
    Stakeholder.objects.filter(name__startswith="Member", state="ST").delete()


if __name__ == "__main__":
    main()

"""Benchmark: ingest one Senate session and one House year of roll calls from local files.

    uv run python -m tests.bench.feeds_ingest [--senate-rolls 350] [--house-rolls 700]

Prints, per chamber: the time to merely read and parse the files; the database's own floor for
the same rows (bare SQL: the vote, its casts in one INSERT, COMMIT; nothing compared, no Activity);
the first ingest (casts per second, its ratio to the parse time and to the floor); an unchanged
re-run through the ingest (every file parsed and compared); the real refresh (`refresh_senate` /
`refresh_house` with `recheck_all`, every file fetched from a loopback server) re-run over the
unchanged session; and the database round trips per vote.
Without DATABASE_URL it uses its own SQLite file (var/bench-feeds.sqlite3, recreated each time);
with one, it writes under a synthetic congress (900) and deletes what it wrote at the end.
"""

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
BENCH_DB = BASE_DIR / "var" / "bench-feeds.sqlite3"
CONGRESS = 900  # no real congress: the bench never touches real votes
FLOOR_CONGRESS = 901
HOUSE_YEAR = 3587  # the calendar year whose House rolls are congress 900, session 1


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
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the figures
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
    for path in files[:1]:
        index.ensure(parse(path.read_bytes()).casts)  # every roll names the same members
    floor_seconds = _floor(chamber, files, parse, index)
    queries_per_vote = []
    counter = _QueryCounter()
    started = time.perf_counter()
    store_seconds = 0.0
    with connection.execute_wrapper(counter):
        for path in files:
            roll = parse(path.read_bytes())
            storing = time.perf_counter()
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

    hash_seconds = _hash_checked_rerun(files)
    first_sync, sync_seconds = _sync_twice(root, chamber, rolls)

    print(f"\n{chamber}: {rolls} roll calls x {members} casts = {casts:,} casts")
    print(f"  parse only            {parse_seconds:7.2f} s  ({casts / parse_seconds:,.0f} casts/s)")
    print(
        f"  database floor        {floor_seconds:7.2f} s  (bare SQL per vote: INSERT vote, one "
        f"INSERT of its casts, COMMIT; {floor_seconds / parse_seconds:.1f}x parse)"
    )
    print(
        f"  first ingest          {ingest_seconds:7.2f} s  ({casts / ingest_seconds:,.0f} casts/s, "
        f"{ingest_seconds / parse_seconds:.1f}x parse; reading and parsing included; "
        f"storing alone {store_seconds:.2f} s = {store_seconds / floor_seconds:.2f}x the floor)"
    )
    print(
        f"  unchanged re-run      {rerun_seconds:7.2f} s  (ingest forced on every file: parsed "
        "and compared, nothing written)"
    )
    print(
        f"  unchanged, hash check {hash_seconds:7.2f} s  (what a refresh does with a file it "
        "stored before: its content hash matches the FeedDocument, so it is not parsed)"
    )
    print(
        f"  refresh, re-check all {first_sync:7.2f} s  (the real refresh over loopback HTTP, "
        "first time it sees these files: parses and compares each, records its hash)"
    )
    print(
        f"  refresh, unchanged    {sync_seconds:7.2f} s  (the same refresh again: every file "
        "fetched and hash-checked, nothing parsed or written)"
    )
    print(
        f"  statements per vote   first {min(queries_per_vote)}-{max(queries_per_vote)}, "
        f"re-run {min(rerun_queries)}-{max(rerun_queries)} (plus BEGIN and COMMIT where one "
        "was written; the re-run's maximum is its first vote, which reads the session's votes)"
    )


def _floor(chamber: str, files: list[Path], parse, index) -> float:  # noqa: ANN001
    """The same rows written with nothing but SQL, as a yardstick for the ingest's own cost."""
    from django.db import connection, transaction

    from tracker.feeds.ingest import _insert_casts
    from tracker.feeds.roll_calls import normalised_cast
    from tracker.models import Vote

    rolls = [parse(path.read_bytes()) for path in files]
    started = time.perf_counter()
    for roll in rolls:
        casts = {
            index.by_feed_id[c.member_id]: (
                c.published_as,
                normalised_cast(c.published_as),
                c.party,
                c.state,
            )
            for c in roll.casts
        }
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Vote._meta.db_table} (chamber, congress, session, roll_number, "  # noqa: S608
                "voted_on, question, title, result, majority_requirement, amendment, "
                "tie_breaker_by, tie_breaker_vote, source_url, is_confirmed, notes) VALUES "
                "(%s, %s, 1, %s, %s, %s, '', %s, '', '', '', '', '', true, '') RETURNING id",
                [chamber, FLOOR_CONGRESS, roll.roll_number, roll.voted_on, roll.question, "r"],
            )
            _insert_casts(cursor.fetchone()[0], casts)
    seconds = time.perf_counter() - started
    Vote.objects.filter(congress=FLOOR_CONGRESS).delete()
    return seconds


def _hash_checked_rerun(files: list[Path]) -> float:
    """The refresh's own skip (sync.Documents) over the local files, after recording them."""
    from tracker.feeds.client import FeedResponse
    from tracker.feeds.sync import Documents

    urls = [path.as_uri() for path in files]
    documents = Documents(urls)
    for url, path in zip(urls, files, strict=True):
        documents.remember(url, FeedResponse(url, 200, path.read_bytes()))
    started = time.perf_counter()
    documents = Documents(urls)  # read back from the database, as a new run does
    unchanged = sum(
        documents.unchanged(url, FeedResponse(url, 200, path.read_bytes()))
        for url, path in zip(urls, files, strict=True)
    )
    seconds = time.perf_counter() - started
    assert unchanged == len(files)
    return seconds


def _sync_twice(root: Path, chamber: str, rolls: int) -> tuple[float, float]:
    """Time the real refresh with `recheck_all` twice over a loopback server serving the files."""
    from tracker.demo import replay
    from tracker.feeds import sync

    site = root / "site"
    if chamber == "senate":
        folder = site / "senate" / "roll_call_votes" / f"vote{CONGRESS}1"
        menu = "".join(
            f"<vote><vote_number>{n:05d}</vote_number></vote>" for n in range(1, rolls + 1)
        )
        (site / "senate" / "roll_call_lists").mkdir(parents=True)
        (site / "senate" / "roll_call_lists" / f"vote_menu_{CONGRESS}_1.xml").write_text(
            f"<?xml version='1.0'?><vote_summary><congress>{CONGRESS}</congress>"
            f"<session>1</session><votes>{menu}</votes></vote_summary>"
        )
    else:
        folder = site / "house" / str(HOUSE_YEAR)
    folder.mkdir(parents=True)
    for number in range(1, rolls + 1):
        name = (
            f"vote_{CONGRESS}_1_{number:05d}.xml"
            if chamber == "senate"
            else f"roll{number:03d}.xml"
        )
        (root / f"{chamber}-{number:04d}.xml").rename(folder / name)

    def refresh() -> float:
        started = time.perf_counter()
        if chamber == "senate":
            run = sync.refresh_senate(CONGRESS, 1, recheck_all=True, trigger="manual")
        else:
            run = sync.refresh_house(HOUSE_YEAR, recheck_all=True, trigger="manual")
        seconds = time.perf_counter() - started
        assert (run.status, run.unchanged) == ("succeeded", rolls), (run.status, run.errors[:3])
        return seconds

    with replay.serving(site):
        return refresh(), refresh()


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
    from tracker.models import Activity, FeedDocument, FeedRun, Stakeholder, Vote

    FeedDocument.objects.filter(url__contains=f"/vote{CONGRESS}1/").delete()
    FeedDocument.objects.filter(url__contains=f"/{HOUSE_YEAR}/roll").delete()
    FeedDocument.objects.filter(url__startswith="file://").delete()
    FeedRun.objects.filter(scope__in=[f"{CONGRESS}-1", str(HOUSE_YEAR)]).delete()

    Activity.objects.filter(vote__congress=CONGRESS).delete()
    Vote.objects.filter(congress__in=[CONGRESS, FLOOR_CONGRESS]).delete()
    Stakeholder.objects.filter(slug__startswith="bench-member").delete()
    Stakeholder.objects.filter(name__startswith="Member", state="ST").delete()


if __name__ == "__main__":
    main()

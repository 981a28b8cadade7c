"""Refresh the congressional feeds now, synchronously, with the same code the Celery tasks run."""

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.feeds import replay, sync
from tracker.models import FeedRun, FeedSource

SOURCES = ["members", "congress", "senate", "house"]


class Command(BaseCommand):
    help = (
        "Refresh bills (Congress.gov), Senate and House roll calls and members now, printing "
        "progress and each run's counts. --replay plays the repo's recorded feed files through "
        "a loopback server instead of the network."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", choices=SOURCES, action="append", help="Default: all.")
        parser.add_argument(
            "--bill", action="append", help='A bill key such as "118-hr-815" (repeatable).'
        )
        parser.add_argument("--senate-session", help='Congress and session, e.g. "118-2".')
        parser.add_argument("--house-year", type=int, help="Calendar year, e.g. 2024.")
        parser.add_argument(
            "--recheck-all",
            action="store_true",
            help="Re-check every stored vote, not just recent ones, and every bill by its own "
            "item, not only those the bill list names as changed.",
        )
        parser.add_argument(
            "--replay",
            nargs="?",
            const=str(replay.REPLAY_FIXTURES),
            metavar="DIR",
            help="Serve recorded files from DIR (default: tests/fixtures/feeds/replay) on "
            "127.0.0.1 and refresh from there, never the network.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources = options["source"] or SOURCES
        if options["replay"]:
            root = Path(options["replay"])
            if not root.is_dir():
                raise CommandError(f"No such directory: {root}")
            with replay.serving(root) as urls:
                self.stdout.write(f"Replaying {root} from {urls['SENATE_VOTES_BASE_URL'][:-7]}")
                self._refresh(sources, options)
        else:
            self._refresh(sources, options)

    def _refresh(self, sources: list[str], options: dict[str, Any]) -> None:
        failures = 0
        for source in sources:
            started = time.monotonic()
            try:
                run = self._run_one(source, options)
            except sync.RefreshFailed as error:
                # Recorded on the run already; the command goes on with the next source.
                run = FeedRun.objects.filter(source=source).recent().first()
                self.stderr.write(f"\n{error}")
            self.stdout.write("")
            if run is None:
                continue
            self._summarise(run, time.monotonic() - started)
            failures += run.status in ("failed", "partial")
        if failures:
            self.stderr.write(self.style.WARNING(f"{failures} run(s) had errors; see /feeds/."))

    def _run_one(self, source: str, options: dict[str, Any]) -> FeedRun:
        common = {"trigger": "command", "progress": self._progress}
        if source == FeedSource.CONGRESS:
            return sync.refresh_bills(options["bill"], recheck_all=options["recheck_all"], **common)
        if source == FeedSource.SENATE:
            congress, session = self._senate_session(options["senate_session"])
            return sync.refresh_senate(
                congress, session, recheck_all=options["recheck_all"], **common
            )
        if source == FeedSource.HOUSE:
            year = options["house_year"] or sync.current_year()
            return sync.refresh_house(year, recheck_all=options["recheck_all"], **common)
        return sync.refresh_members(**common)

    def _senate_session(self, value: str | None) -> tuple[int, int]:
        if not value:
            return sync.current_session()
        congress, _, session = value.partition("-")
        if not (congress.isdigit() and session in {"1", "2", "3"}):
            raise CommandError(f'--senate-session must look like "118-2", not {value!r}')
        return int(congress), int(session)

    def _progress(self, run: FeedRun) -> None:
        total = f"/{run.progress_total}" if run.progress_total else ""
        self.stdout.write(
            f"\r{run.origin} {run.scope}: {run.progress_done}{total} "
            f"(created {run.created}, updated {run.updated}, failed {run.failed})",
            ending="",
        )
        self.stdout.flush()

    def _summarise(self, run: FeedRun, seconds: float) -> None:
        style = {"succeeded": self.style.SUCCESS, "skipped": self.style.WARNING}.get(
            run.status, self.style.ERROR
        )
        self.stdout.write(
            style(
                f"{run.get_source_display()} {run.scope}: {run.get_status_display()} in "
                f"{seconds:.1f}s — fetched {run.fetched}, created {run.created}, updated "
                f"{run.updated}, unchanged {run.unchanged}, skipped {run.skipped}, "
                f"failed {run.failed}"
            )
        )
        if run.message:
            self.stdout.write(f"  {run.message}")
        for error in run.errors[:20]:
            self.stdout.write(f"  {error['key']}: {error['message']}")
        if len(run.errors) > 20:
            self.stdout.write(
                f"  … and {len(run.errors) - 20} more errors (see /feeds/runs/{run.pk}/)"
            )
        for member in run.new_members[:20]:
            self.stdout.write(f"  new member: {member}")

"""Refresh the congressional feeds now, synchronously, with the same code the Celery task runs."""

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.demo import replay
from tracker.feeds import sync
from tracker.feeds.sources import SOURCES
from tracker.models import FeedRun

# Not on a terminal (a log, a container), progress is a line now and then, not a line per step.
LOG_PROGRESS_EVERY = 5.0


class Command(BaseCommand):
    help = (
        "Refresh every feed source (or those named) now, printing progress and each run's "
        "counts. --replay plays the repo's recorded feed files through a loopback server "
        "instead of the network."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            choices=[source.key for source in SOURCES],
            action="append",
            help="Default: all, in this order.",
        )
        for source in SOURCES:
            if source.scope_option:
                parser.add_argument(
                    source.scope_option,
                    dest=f"scope_{source.key}",
                    action="append",
                    help=source.scope_help,
                )
        parser.add_argument(
            "--recheck-all",
            action="store_true",
            help="Re-check every stored vote, not just recent ones, and every bill by its own "
            "item, not only those the bill list names as changed.",
        )
        parser.add_argument(
            "--replay",
            nargs="?",
            const=str(replay.RECORDED_FEEDS),
            metavar="DIR",
            help="Serve recorded files from DIR (default: the demo's, "
            "tracker/fixtures/demo/feeds) on 127.0.0.1 and refresh from there, never the network.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keys = options["source"] or [source.key for source in SOURCES]
        if options["replay"]:
            root = Path(options["replay"])
            if not root.is_dir():
                raise CommandError(f"No such directory: {root}")
            with replay.serving(root) as urls:
                self.stdout.write(f"Replaying {root} from {urls['SENATE_VOTES_BASE_URL'][:-7]}")
                self._refresh(keys, options)
        else:
            self._refresh(keys, options)

    def _refresh(self, keys: list[str], options: dict[str, Any]) -> None:
        failures = 0
        for key in keys:
            scope = options.get(f"scope_{key}") or []
            started = time.monotonic()
            self._last_progress = 0.0
            try:
                run = sync.refresh(
                    key,
                    ",".join(str(part) for part in scope),
                    recheck_all=options["recheck_all"],
                    trigger="command",
                    progress=self._progress,
                )
            except ValueError as error:
                raise CommandError(str(error)) from error
            except sync.RefreshFailed as error:
                # Recorded on the run already; the command goes on with the next source.
                run = FeedRun.objects.filter(source=key).recent().first()
                self.stderr.write(f"\n{error}")
            if self.stdout.isatty():
                self.stdout.write("")
            if run is None:
                continue
            self._summarise(run, time.monotonic() - started)
            failures += run.status in ("failed", "partial")
        if failures:
            self.stderr.write(self.style.WARNING(f"{failures} run(s) had errors; see /feeds/."))

    def _progress(self, run: FeedRun) -> None:
        total = f"/{run.progress_total}" if run.progress_total else ""
        line = (
            f"{run.origin} {run.scope}: {run.progress_done}{total} "
            f"(created {run.created}, updated {run.updated}, failed {run.failed})"
        )
        if self.stdout.isatty():
            self.stdout.write(f"\r{line}", ending="")
            self.stdout.flush()
        elif time.monotonic() - self._last_progress >= LOG_PROGRESS_EVERY:
            self._last_progress = time.monotonic()
            self.stdout.write(line)

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

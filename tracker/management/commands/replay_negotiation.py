"""Rewind the demo negotiation to a day and replay what Congress published after it."""

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.demo.replay import RECORDED_FEEDS
from tracker.demo.rewind import recorded_days, replay, rewind
from tracker.models import Negotiation


class Command(BaseCommand):
    help = (
        "Rewind the current negotiation to the end of a day, then replay the recorded feeds "
        "day by day through the real ingest, printing what each day moved (stages, statuses, "
        "proposals, whip results)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="start", required=True, help="The day to rewind to, e.g. 2024-02-01."
        )
        parser.add_argument(
            "--feeds", default=str(RECORDED_FEEDS), help="Recorded feeds (default: the demo's)."
        )

    def handle(self, *args: Any, start: str, feeds: str, **options: Any) -> None:
        try:
            day = date.fromisoformat(start)
        except ValueError:
            raise CommandError(f"--from must be a date like 2024-02-01, not {start!r}") from None
        negotiation = Negotiation.objects.current()
        if negotiation is None:
            raise CommandError("No negotiation is loaded: run `manage.py load_demo` first.")
        undone = rewind(negotiation, day)
        self.stdout.write(
            f"Rewound {negotiation.name} to {day:%b} {day.day}, {day.year}: "
            + ", ".join(f"{count} {name}" for name, count in undone.items())
        )
        replay(recorded_days(negotiation, day, Path(feeds)), say=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Replayed. The dashboard shows where it stands."))

import os
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tracker.digests import send_due_digests
from tracker.models import DeliveryStatus


class Command(BaseCommand):
    help = (
        "Send the email digests that are due now (the same code as the Celery beat task and "
        "its tasks), a batch at a time in a process per core, and print one line per user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List who is due; claim and send nothing."
        )
        parser.add_argument("--user", metavar="USERNAME", help="Only this user.")
        parser.add_argument(
            "--processes",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes sending batches at once (default: one per core; 1: this one alone).",
        )
        parser.add_argument(
            "--now",
            metavar="ISO-DATETIME",
            help="Act as if it were this moment, e.g. 2024-02-07T07:05-05:00 (default: now).",
        )

    def handle(
        self,
        *args: object,
        dry_run: bool,
        user: str | None,
        now: str | None,
        processes: int,
        **options: object,
    ) -> None:
        if processes < 1:
            raise CommandError("--processes must be 1 or more.")
        moment = self._moment(now)
        outcomes = send_due_digests(moment, username=user, dry_run=dry_run, processes=processes)
        for outcome in outcomes:
            style = {
                DeliveryStatus.SENT: self.style.SUCCESS,
                DeliveryStatus.FAILED: self.style.ERROR,
                DeliveryStatus.RETRY: self.style.WARNING,
                DeliveryStatus.SKIPPED: self.style.WARNING,
            }.get(outcome.status, str)
            self.stdout.write(style(str(outcome)))
        verb = "due" if dry_run else "handled"
        self.stdout.write(f"{len(outcomes)} digest(s) {verb} at {moment.isoformat()}.")

    def _moment(self, now: str | None) -> datetime:
        if not now:
            return timezone.now()
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise CommandError(f"--now must be an ISO date-time, not {now!r}.") from None
        if timezone.is_naive(moment):
            # A bare time is read in the project's time zone, as staff would mean it.
            moment = timezone.make_aware(moment)
        return moment

import time

from django.core.management.base import BaseCommand, CommandParser

from tracker.models import Activity, Position, Stakeholder, Vote, VoteCast
from tracker.scale import SCALE_CONGRESS, ScaleSize, remove_scale_data, seed_scale


class Command(BaseCommand):
    help = "Build (or rebuild) a large synthetic negotiation for benchmarks; prints its timing."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = ScaleSize()
        for name in ScaleSize.__dataclass_fields__:
            parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
        parser.add_argument("--remove", action="store_true", help="Only delete the scale data.")

    def handle(self, *args: object, remove: bool, **options: object) -> None:
        if remove:
            remove_scale_data()
            self.stdout.write("Scale data removed.")
            return
        size = ScaleSize(**{name: options[name] for name in ScaleSize.__dataclass_fields__})
        started = time.perf_counter()
        negotiation = seed_scale(size)
        elapsed = time.perf_counter() - started
        counts = {
            "stakeholders": Stakeholder.objects.filter(slug__startswith="scale-").count(),
            "provisions": negotiation.provisions.count(),
            "demands": negotiation.demands.count(),
            "positions": Position.objects.filter(stakeholder__slug__startswith="scale-").count(),
            "votes": Vote.objects.filter(congress=SCALE_CONGRESS).count(),
            "casts": VoteCast.objects.filter(vote__congress=SCALE_CONGRESS).count(),
            "activities": Activity.objects.filter(negotiation=negotiation).count(),
        }
        self.stdout.write(", ".join(f"{count:,} {name}" for name, count in counts.items()))
        self.stdout.write(self.style.SUCCESS(f"seed_scale took {elapsed:.1f} s"))

"""Build (or rebuild) a large synthetic negotiation for benchmarks and print its timing.

    uv run python -m tests.bench.seed_scale [--times 3] [--positions 30000 ...] [--remove]

--times N multiplies the positions, activities, votes, provisions and demands (after any size
given on its own). Each step is printed as it starts, one line each, with the time since the
start, so a log shows where a long build is.
"""

import argparse
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
django.setup()

from tests.bench.scale import (  # noqa: E402
    SCALE_CONGRESS,
    SCALED_BY_TIMES,
    ScaleSize,
    remove_scale_data,
    seed_scale,
)
from tracker.models import Activity, Position, Stakeholder, Vote, VoteCast  # noqa: E402


def build(size: ScaleSize) -> str:
    """Build the scale negotiation; returns what was built and how long it took."""
    started = time.perf_counter()

    def progress(step: str) -> None:
        print(f"seed_scale: {step} ({time.perf_counter() - started:.0f} s)", flush=True)

    negotiation = seed_scale(size, progress=progress)
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
    built = ", ".join(f"{count:,} {name}" for name, count in counts.items())
    return f"{built}\nseed_scale took {elapsed:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = ScaleSize()
    for name in ScaleSize.__dataclass_fields__:
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument(
        "--times",
        type=int,
        default=1,
        help=f"Multiply the {', '.join(SCALED_BY_TIMES)} by this (default 1).",
    )
    parser.add_argument("--remove", action="store_true", help="Only delete the scale data.")
    options = vars(parser.parse_args())
    if options["remove"]:
        remove_scale_data()
        print("Scale data removed.")
        return
    size = ScaleSize(**{name: options[name] for name in ScaleSize.__dataclass_fields__})
    print(build(size.times(options["times"])))


if __name__ == "__main__":
    main()

"""Geometry for the small server-rendered SVG charts; the templates draw it.

Every chart must read without colour: each series has its own fill pattern or dash, and every
bar and line end carries a text label, so print-outs and colour-blind readers lose nothing.
"""

from dataclasses import dataclass
from datetime import date

from django.template.defaultfilters import date as format_date
from django.utils import timezone

from tracker.funding import Sum
from tracker.money import format_dollars

# Fill patterns defined in the chart's <defs> in templates/funding/compare.html (ids
# "pattern-<name>"), one per series in order.
PATTERNS = ["solid", "hatch", "dots", "cross", "stripes", "checks"]
DASHES = ["", "6 4", "2 3", "10 3 2 3"]
UNCONFIRMED_DASH = "5 3"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    pattern: str
    label: str
    # A bar that adds an unconfirmed figure has a dashed outline and says so in its label.
    unconfirmed: bool = False

    @property
    def dash(self) -> str:
        return UNCONFIRMED_DASH if self.unconfirmed else ""

    # Coordinates as plain strings: the template would otherwise localise every number.
    @property
    def svg(self) -> dict[str, str]:
        return {
            "x": f"{self.x:.1f}",
            "y": f"{self.y:.1f}",
            "width": f"{self.width:.1f}",
            "height": f"{self.height:.1f}",
            "label_x": f"{self.x + self.width + 6:.1f}",
            "label_y": f"{self.y + self.height - 3:.1f}",
        }


@dataclass(frozen=True)
class GroupLabel:
    y: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    groups: list[GroupLabel]
    legend: list[tuple[str, str]]
    description: str
    has_unconfirmed: bool = False


def bar_value(total: Sum) -> str:
    """A bar's amount in words: with "unconfirmed" and the confirmed-only sum when it adds an
    unconfirmed figure."""
    text = format_dollars(total.amount or 0)
    if not total.includes_unconfirmed:
        return text
    if not total.differs:
        return f"{text}, unconfirmed"
    confirmed = format_dollars(total.confirmed) if total.confirmed is not None else "none"
    return f"{text}, unconfirmed (confirmed only: {confirmed})"


def grouped_bars(
    series_names: list[str], groups: list[tuple[str, list[Sum]]], *, width: int = 860
) -> BarChart:
    """Horizontal bars: one group per category, one bar per version, all on one dollar scale."""
    label_room, value_room, bar_height, gap = 150, 330, 14, 3
    largest = max((total.amount or 0 for _, totals in groups for total in totals), default=0) or 1
    span = width - label_room - value_room
    bars, labels, y = [], [], 8.0
    for name, totals in groups:
        labels.append(GroupLabel(y + bar_height, name))
        for index, total in enumerate(totals):
            if total.amount is None:
                continue
            bars.append(
                Bar(
                    x=label_room,
                    y=y,
                    width=max(span * total.amount / largest, 1),
                    height=bar_height,
                    pattern=PATTERNS[index % len(PATTERNS)],
                    label=f"{series_names[index]}: {bar_value(total)}",
                    unconfirmed=total.includes_unconfirmed,
                )
            )
            y += bar_height + gap
        y += 14
    legend = [(PATTERNS[i % len(PATTERNS)], name) for i, name in enumerate(series_names)]
    description = "; ".join(
        f"{name}: "
        + ", ".join(
            f"{series_names[i]} {bar_value(total)}"
            for i, total in enumerate(totals)
            if total.amount is not None
        )
        for name, totals in groups
    )
    has_unconfirmed = any(bar.unconfirmed for bar in bars)
    return BarChart(width, int(y) + 4, bars, labels, legend, description, has_unconfirmed)


@dataclass(frozen=True)
class Line:
    points: str
    dash: str
    label: str
    end_x: float
    end_y: float


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    lines: list[Line]
    threshold_y: float
    threshold_label: str
    ticks: list[tuple[float, str]]
    description: str


def count_over_time(
    points: list[tuple[date, int, int]], needed: int, seats: int, *, width: int = 560
) -> LineChart | None:
    """Step lines of the yes and no counts by day, with the threshold as a dotted rule."""
    if not points:
        return None
    height, left, right, top, bottom = 180, 36, 130, 10, 24
    first, last = points[0][0], points[-1][0]
    days = max((last - first).days, 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(day: date) -> float:
        return round(left + plot_w * (day - first).days / days, 1)

    def y_of(count: int) -> float:
        return round(top + plot_h * (1 - count / seats), 1)

    lines = []
    for index, (name, pick) in enumerate((("yes", 1), ("no", 2))):
        coords, previous = [], None
        for point in points:
            x, y = x_of(point[0]), y_of(point[pick])
            if previous is not None:
                coords.append(f"{x},{previous}")
            coords.append(f"{x},{y}")
            previous = y
        end = points[-1]
        lines.append(
            Line(
                " ".join(coords),
                DASHES[index],
                f"{name} {end[pick]}",
                x_of(end[0]) + 6,
                y_of(end[pick]) + 4,
            )
        )
    # Keep the two end labels apart when the counts are close.
    yes_line, no_line = lines
    if abs(yes_line.end_y - no_line.end_y) < 13:
        shift = 13 if no_line.end_y >= yes_line.end_y else -13
        lines[1] = Line(
            no_line.points, no_line.dash, no_line.label, no_line.end_x, yes_line.end_y + shift
        )
    this_year = timezone.localdate().year

    def day_label(day: date) -> str:
        # The year only where it is not this year's: "Feb 7", but "Feb 7, 2024".
        return format_date(day, "M j" if day.year == this_year else "M j, Y")

    # The first day, the last, and the one halfway in time between them (not the middle
    # point: points bunch up before a vote, and two labels then overlapped).
    middle = first + (last - first) // 2
    tick_days = {first, last} | ({middle} if days >= 4 else set())
    ticks = [(x_of(day), day_label(day)) for day in sorted(tick_days)]
    description = ", ".join(f"{day_label(day)}: {yes} yes, {no} no" for day, yes, no in points)
    return LineChart(
        width,
        height,
        lines,
        y_of(needed),
        f"{needed} needed",
        ticks,
        f"Whip count by day ({needed} needed): {description}.",
    )

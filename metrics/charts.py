"""Server-rendered SVG geometry for the dashboard's charts: no JavaScript, no library to vendor.
The templates draw what these return, give every shape a ``<title>`` (its numbers on hover) and
put the same numbers in a table next to the chart for screen readers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe & Ito), repeated when there are more slices.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


@dataclass(frozen=True)
class Slice:
    label: str
    value: int
    share: float
    path: str
    colour: str


def pie(parts: list[tuple[str, int]], radius: float = 90, centre: float = 100) -> list[Slice]:
    total = sum(value for _, value in parts)
    if not total:
        return []
    slices, angle = [], -math.pi / 2
    for number, (label, value) in enumerate(parts):
        share = value / total
        colour = PALETTE[number % len(PALETTE)]
        if share >= 0.9999:  # a full circle is not an arc
            path = (
                f"M {centre - radius} {centre} a {radius} {radius} 0 1 0 {2 * radius} 0 "
                f"a {radius} {radius} 0 1 0 {-2 * radius} 0 Z"
            )
        else:
            end = angle + share * 2 * math.pi
            x1, y1 = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
            x2, y2 = centre + radius * math.cos(end), centre + radius * math.sin(end)
            large = 1 if share > 0.5 else 0
            path = (
                f"M {centre} {centre} L {x1:.2f} {y1:.2f} A {radius} {radius} 0 {large} 1 {x2:.2f} {y2:.2f} Z"
            )
            angle = end
        slices.append(Slice(label, value, round(share * 100, 1), path, colour))
    return slices


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    points: str
    dots: list[tuple[str, str, str, int]]  # x, y, day, value (the hover titles)

    @property
    def circles(self) -> SafeString:
        """The dots with their hover titles as markup: two years are 1,460 dots, and drawing them
        in the template (four variables each) took most of the page's time."""
        name, colour = escape(self.name.lower()), escape(self.colour)
        return mark_safe(  # noqa: S308 - numbers, ISO dates and the escaped name only
            "".join(
                f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}">'
                f"<title>{day}: {int(value)} {name}</title></circle>"
                for x, y, day, value in self.dots
            )
        )


@dataclass(frozen=True)
class LineChart:
    lines: list[Line]
    width: int
    height: int
    maximum: int
    first: str
    last: str


def daily_rows(daily) -> SafeString:
    """The table of the daily chart's numbers (one row a day) as markup, for the same reason."""
    return mark_safe(  # noqa: S308 - ISO dates and numbers only
        "".join(
            f"<tr><td>{day.isoformat()}</td><td>{int(created)}</td><td>{int(updated)}</td></tr>"
            for day, created, updated in daily
        )
    )


def daily_lines(daily, width: int = 600, height: int = 200, margin: int = 30) -> LineChart:
    """Creates and updates per day as two lines on a shared scale."""
    maximum = max([max(created, updated) for _, created, updated in daily] + [1])
    span = max(len(daily) - 1, 1)
    lines = []
    for index, (name, colour) in enumerate((("Created", PALETTE[0]), ("Updated", PALETTE[1]))):
        dots = []
        for n, row in enumerate(daily):
            value = row[1 + index]
            x = margin + (width - 2 * margin) * n / span
            y = height - margin - (height - 2 * margin) * value / maximum
            # formatted here: the template would localize every number, which costs more than the chart
            dots.append((f"{x:.1f}", f"{y:.1f}", row[0].isoformat(), value))
        lines.append(Line(name, colour, " ".join(f"{x},{y}" for x, y, _, _ in dots), dots))
    first = daily[0][0].isoformat() if daily else ""
    last = daily[-1][0].isoformat() if daily else ""
    return LineChart(lines, width, height, maximum, first, last)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: str
    y: str
    width: str
    height: str


def bars(values: list[tuple[str, int]], width: int = 600, height: int = 200, margin: int = 30) -> list[Bar]:
    """One bar per (label, value) on a shared scale (the monthly user counts)."""
    maximum = max([value for _, value in values] + [1])
    step = (width - 2 * margin) / max(len(values), 1)
    out = []
    for n, (label, value) in enumerate(values):
        h = (height - 2 * margin) * value / maximum
        out.append(
            Bar(
                label,
                value,
                f"{margin + n * step + 2:.1f}",
                f"{height - margin - h:.1f}",
                f"{step - 4:.1f}",
                f"{h:.1f}",
            )
        )
    return out

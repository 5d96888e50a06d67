"""The privacy budget over time as an SVG chart's geometry: axes, ticks and a step line.

Drawn by the grant page's template; computed here so that the template only places what it is
given. Time runs from the grant's start to now (or the last charge), ε from 0 to the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 624, 16, 176  # the plot area inside the SVG
MIN_SPAN = timedelta(minutes=10)


@dataclass(frozen=True)
class Tick:
    at: float  # x or y in SVG units
    label: str


@dataclass(frozen=True)
class BudgetChart:
    """What the template draws: the spent-ε step line, its axes' ticks, and the budget line."""

    points: str  # SVG polyline points of ε spent over time
    dots: list[tuple[float, float]]  # one per charge, where the line steps up
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    charges: int
    zone: str  # the time axis's zone, as its abbreviation (CST)


def budget_chart(
    total: Decimal,
    charges: list[tuple[datetime, Decimal]],
    *,
    start: datetime,
    now: datetime,
    zone: ZoneInfo,
) -> BudgetChart:
    """The chart of ε spent (``charges``: time and ε spent after it, in order) against ``total``."""
    end = max([now, *(t for t, _ in charges)])
    if end - start < MIN_SPAN:
        end = start + MIN_SPAN
    span = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round(LEFT + (RIGHT - LEFT) * (moment - start).total_seconds() / span, 1)

    def y(spent: Decimal) -> float:
        share = float(spent / total) if total > 0 else 0.0
        return round(BOTTOM - (BOTTOM - TOP) * min(max(share, 0.0), 1.0), 1)

    points = [(x(start), y(Decimal(0)))]
    for moment, spent in charges:
        points.append((x(moment), points[-1][1]))  # flat until the charge, then up
        points.append((x(moment), y(spent)))
    points.append((x(end), points[-1][1]))
    fmt = "%m-%d %H:%M" if span < 3 * 86400 else "%Y-%m-%d"
    x_ticks = [
        Tick(
            x(start + (end - start) * i / 4),
            (start + (end - start) * i / 4).astimezone(zone).strftime(fmt),
        )
        for i in range(5)
    ]
    y_ticks = [Tick(y(total * i / 4), _epsilon(total * i / 4)) for i in range(5)]
    return BudgetChart(
        points=" ".join(f"{px},{py}" for px, py in points),
        dots=[(x(moment), y(spent)) for moment, spent in charges],
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        charges=len(charges),
        zone=end.astimezone(zone).tzname() or str(zone),
    )


def _epsilon(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text if len(text) <= 6 else f"{float(value):.3g}"

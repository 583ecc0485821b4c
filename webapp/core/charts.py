"""Geometry of server-rendered SVG line charts (loss curves, rates over time).

The templates draw what these return; no JavaScript and no third-party chart code. Values are
mapped into the plot area with a little headroom; a series with one point is drawn as a dot.
"""

import math
from dataclasses import dataclass
from datetime import date
from typing import Callable, Sequence

PALETTE = ("#b3261e", "#1d4ed8", "#15803d", "#a16207", "#7c3aed", "#0f766e", "#be185d", "#4b5563")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (x, y)


@dataclass(frozen=True)
class DrawnSeries:
    name: str
    color: str
    path: str  # "x,y x,y ..." for <polyline points>
    dots: list[tuple[float, float, str]]  # (x, y, tooltip)
    last: tuple[float, float] | None


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    series: list[DrawnSeries]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]

    @property
    def empty(self) -> bool:
        return not any(s.dots for s in self.series)


def _nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _format_number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"


def day_axis(x: float) -> str:
    """An x axis of days, given as date ordinals (date.toordinal())."""
    return date.fromordinal(int(x)).strftime("%m-%d")


def percent_axis(y: float) -> str:
    """A y axis of rates between 0 and 1."""
    return f"{round(100 * y)}%"


def line_chart(
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 220,
    y_range: tuple[float, float] | None = None,
    x_format: Callable[[float], str] = _format_number,
    y_format: Callable[[float], str] = _format_number,
    x_ticks: Sequence[tuple[float, str]] | None = None,
) -> LineChart:
    """Lay out `series` on shared axes. y_range fixes the y axis (rates: (0, 1)); otherwise it
    spans the data. x_ticks replaces the computed x ticks (for example version names)."""
    left, top, right, bottom = 48, 12, width - 12, height - 26
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    x_low, x_high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_high == x_low:
        x_low, x_high = x_low - 1, x_high + 1
    if y_range is not None:
        y_low, y_high = y_range
    elif ys:
        y_low, y_high = min(ys), max(ys)
        pad = (y_high - y_low) * 0.08 or abs(y_high) * 0.1 or 1.0
        y_low, y_high = (0.0 if y_low >= 0 and y_low - pad < 0 else y_low - pad), y_high + pad
    else:
        y_low, y_high = 0.0, 1.0

    def px(x: float) -> float:
        return round(left + (x - x_low) / (x_high - x_low) * (right - left), 1)

    def py(y: float) -> float:
        return round(bottom - (y - y_low) / (y_high - y_low) * (bottom - top), 1)

    drawn = []
    for i, s in enumerate(series):
        points = sorted(s.points)
        coords = [(px(x), py(y)) for x, y in points]
        dots = [(cx, cy, f"{s.name}: {x_format(x)} → {y_format(y)}") for (cx, cy), (x, y) in zip(coords, points)]
        drawn.append(
            DrawnSeries(
                name=s.name,
                color=PALETTE[i % len(PALETTE)],
                path=" ".join(f"{cx},{cy}" for cx, cy in coords),
                dots=dots,
                last=coords[-1] if coords else None,
            )
        )
    if x_ticks is None:
        x_ticks = [(x, x_format(x)) for x in _nice_ticks(x_low, x_high)] if xs else []
    return LineChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        series=drawn,
        x_ticks=[(px(x), label) for x, label in x_ticks if x_low <= x <= x_high],
        y_ticks=[(py(y), y_format(y)) for y in _nice_ticks(y_low, y_high)],
    )

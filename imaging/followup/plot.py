"""The size-over-time plot of one lesion, as data (Qt-free): axes, ticks, points, the one-centimetre-per-month
comparison line, the mapping to pixels and hit-testing; and the same plot as SVG for the report.

The Follow-up panel paints :class:`SizePlot` with QPainter and the report embeds :func:`plot_svg`: both read
the geometry here, so the picture on screen and on paper are the same plot.

Axes: dates on x (the study dates; ticks at the start of months, or of years over long spans, ISO
``YYYY-MM``), the lesion's longest diameter in mm on y from 0. The comparison line starts at the first
measured point and rises :data:`~imaging.followup.criteria.REFERENCE_LINE_MM_PER_MONTH` (10 mm) per month
(a month being 30.4375 days), clipped to the plot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape

from imaging.followup.criteria import DAYS_PER_MONTH, REFERENCE_LINE_MM_PER_MONTH

__all__ = ["PlotPoint", "PlotLayout", "SizePlot", "nice_ticks", "plot_svg", "size_plot"]


@dataclass(frozen=True)
class PlotPoint:
    """One timepoint on the plot: its date, the value (mm; None: not measured, drawn as a mark on the axis),
    the caller's ``key`` (a timepoint id, for clicks), a short ``label`` and whether it is flagged (growth
    above 0.9 cm/month) or the lesion was found gone (value 0)."""

    study_date: date
    value_mm: float | None
    key: str = ""
    label: str = ""
    flagged: bool = False
    absent: bool = False


@dataclass(frozen=True)
class SizePlot:
    """A lesion's longest diameter over time (see the module docstring). Dates are mapped through their
    ordinal day, values in mm."""

    title: str
    points: tuple[PlotPoint, ...]
    x_min: date
    x_max: date
    y_max: float
    x_ticks: tuple[tuple[date, str], ...]
    y_ticks: tuple[float, ...]
    reference: tuple[tuple[date, float], tuple[date, float]] | None
    reference_label: str
    y_label: str = "Longest diameter (mm)"

    def x_fraction(self, d: date) -> float:
        """0 at ``x_min``, 1 at ``x_max`` (by days)."""
        span = (self.x_max - self.x_min).days
        return (d - self.x_min).days / span if span else 0.5

    def y_fraction(self, value_mm: float) -> float:
        """0 at 0 mm, 1 at ``y_max``."""
        return value_mm / self.y_max if self.y_max > 0 else 0.0


@dataclass(frozen=True)
class PlotLayout:
    """Where a :class:`SizePlot` sits in a ``width`` x ``height`` pixel box (y down): the plot area inside
    the margins. Shared by the SVG writer and the Qt widget, and used for hit-testing clicks."""

    width: float
    height: float
    left: float = 52.0
    right: float = 14.0
    top: float = 26.0
    bottom: float = 34.0

    @property
    def area(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the plot area in pixels."""
        return self.left, self.top, self.width - self.right, self.height - self.bottom

    def to_pixel(self, plot: SizePlot, d: date, value_mm: float) -> tuple[float, float]:
        x0, y0, x1, y1 = self.area
        return x0 + plot.x_fraction(d) * (x1 - x0), y1 - plot.y_fraction(value_mm) * (y1 - y0)

    def point_pixel(self, plot: SizePlot, p: PlotPoint) -> tuple[float, float]:
        """A point's pixel; a point without a value sits on the x axis."""
        return self.to_pixel(plot, p.study_date, p.value_mm if p.value_mm is not None else 0.0)

    def hit(self, plot: SizePlot, x: float, y: float, radius: float = 8.0) -> PlotPoint | None:
        """The point nearest to pixel (x, y) within ``radius`` pixels, or None. On a tie the later point."""
        best: tuple[float, PlotPoint] | None = None
        for p in plot.points:
            px, py = self.point_pixel(plot, p)
            d = math.hypot(px - x, py - y)
            if d <= radius and (best is None or d <= best[0]):
                best = (d, p)
        return best[1] if best else None


def nice_ticks(maximum: float, count: int = 5) -> tuple[float, ...]:
    """Ticks from 0 to at least ``maximum`` at a step of 1, 2 or 5 times a power of ten, about ``count``
    of them."""
    if maximum <= 0:
        return (0.0,)
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    n = math.ceil(maximum / step - 1e-9)
    return tuple(float(round(i * step, 10)) for i in range(n + 1))


def _month_ticks(lo: date, hi: date) -> tuple[tuple[date, str], ...]:
    months = (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    if months > 36:
        return tuple((date(y, 1, 1), f"{y}") for y in range(lo.year + 1, hi.year + 1))
    every = 1 if months <= 8 else 2 if months <= 16 else 3 if months <= 24 else 6
    out = []
    y, m = lo.year, lo.month
    while True:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        d = date(y, m, 1)
        if d > hi:
            break
        if (m - 1) % every == 0:
            out.append((d, f"{y}-{m:02d}"))
    return tuple(out)


def size_plot(points: Sequence[PlotPoint], *, title: str = "",
              reference_mm_per_month: float = REFERENCE_LINE_MM_PER_MONTH) -> SizePlot:
    """The plot of one lesion's timepoints (``points`` in any order; at least one)."""
    if not points:
        raise ValueError("a follow-up plot needs at least one timepoint")
    pts = tuple(sorted(points, key=lambda p: p.study_date))
    first, last = pts[0].study_date, pts[-1].study_date
    span = (last - first).days
    pad = timedelta(days=max(7, round(0.06 * span))) if span else timedelta(days=30)
    x_min, x_max = first - pad, last + pad
    values = [p.value_mm for p in pts if p.value_mm is not None]
    y_ticks = nice_ticks(max(10.0, 1.25 * max(values, default=0.0)))
    y_max = y_ticks[-1]
    reference = None
    start = next((p for p in pts if p.value_mm is not None), None)
    if start is not None and start.value_mm is not None and reference_mm_per_month > 0:
        months_to_top = (y_max - start.value_mm) / reference_mm_per_month
        end_day = min(x_max, start.study_date + timedelta(days=months_to_top * DAYS_PER_MONTH))
        if end_day > start.study_date:
            end_value = start.value_mm + reference_mm_per_month * (end_day - start.study_date).days / DAYS_PER_MONTH
            reference = ((start.study_date, start.value_mm), (end_day, min(end_value, y_max)))
    label = f"{reference_mm_per_month / 10:g} cm/month"
    return SizePlot(title=title, points=pts, x_min=x_min, x_max=x_max, y_max=y_max,
                    x_ticks=_month_ticks(x_min, x_max), y_ticks=y_ticks, reference=reference,
                    reference_label=label)


def plot_svg(plot: SizePlot, width: int = 520, height: int = 240, *, foreground: str = "#222",
             grid: str = "#ddd", line: str = "#1f5fa8", reference: str = "#c0392b", flagged: str = "#c0392b"
             ) -> str:
    """The plot as a standalone SVG document (text, UTF-8 safe), for the HTML and PDF report."""
    lay = PlotLayout(width, height)
    x0, y0, x1, y1 = lay.area
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="11">',
        f"<title>{escape(plot.title or 'Longest diameter over time')}</title>",
    ]
    for v in plot.y_ticks:
        _, y = lay.to_pixel(plot, plot.x_min, v)
        out.append(f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x1:.1f}" y2="{y:.1f}" stroke="{grid}"/>')
        out.append(f'<text x="{x0 - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="{foreground}">{v:g}</text>')
    for d, text in plot.x_ticks:
        x, _ = lay.to_pixel(plot, d, 0.0)
        out.append(f'<line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y1:.1f}" stroke="{grid}"/>')
        out.append(f'<text x="{x:.1f}" y="{y1 + 16:.1f}" text-anchor="middle" fill="{foreground}">'
                   f'{escape(text)}</text>')
    out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" fill="none" '
               f'stroke="{foreground}"/>')
    out.append(f'<text x="14" y="{(y0 + y1) / 2:.1f}" text-anchor="middle" fill="{foreground}" '
               f'transform="rotate(-90 14 {(y0 + y1) / 2:.1f})">{escape(plot.y_label)}</text>')
    if plot.title:
        out.append(f'<text x="{x0:.1f}" y="16" fill="{foreground}" font-weight="bold">{escape(plot.title)}</text>')
    if plot.reference is not None:
        (da, va), (db, vb) = plot.reference
        ax, ay = lay.to_pixel(plot, da, va)
        bx, by = lay.to_pixel(plot, db, vb)
        out.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="{reference}" '
                   f'stroke-dasharray="6 4"/>')
        # legend at the top right, above the plot area
        out.append(f'<line x1="{x1 - 92:.1f}" y1="12" x2="{x1 - 70:.1f}" y2="12" stroke="{reference}" '
                   f'stroke-dasharray="6 4"/>')
        out.append(f'<text x="{x1:.1f}" y="16" text-anchor="end" fill="{reference}">'
                   f'{escape(plot.reference_label)}</text>')
    measured = [p for p in plot.points if p.value_mm is not None]
    if len(measured) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (lay.point_pixel(plot, p) for p in measured))
        out.append(f'<polyline points="{path}" fill="none" stroke="{line}" stroke-width="2"/>')
    for p in plot.points:
        x, y = lay.point_pixel(plot, p)
        colour = flagged if p.flagged else line
        if p.value_mm is None:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="none" stroke="{colour}"/>')
            continue
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
        text = p.label or f"{p.value_mm:.1f}"
        out.append(f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" fill="{foreground}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"

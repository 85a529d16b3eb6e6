"""`MeasurementOverlay`: the case's measurements drawn on every slice view that shows their plane.

A thin view over the `Case` model (read through the `CaseController`, never copied): on each paint it
takes the measurements that :func:`imaging.measure_edit.shown_on_plane` puts on the view's plane (same
series, parallel plane, every point within half a slice), projects their LPS points with the view's
`OverlayContext` and draws lines, outlines, handles and a label with the values (0.1 precision, recomputed
from the points by the model). One instance serves every view.

* hover and selection are highlighted (hover: brighter and thicker; selected: amber, filled handles);
* ``set_preview(measurement)`` draws a live copy instead of the stored one while a handle is dragged (the
  model changes once, on release);
* ``hit_test(view, pos)`` says which measurement, handle or label is under a widget position (for the
  editor in widgets/measure_tools.py) using the layout of the last paint;
* ``paint_draft(...)`` draws a measurement being drawn (the tools call it from ``Tool.paint``).

Labels sit to the right of the shape (left when there is no room), never over the corner text, and step
aside from each other; a dashed leader joins a label pushed away from its shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPolygonF

from imaging.case.model import Measurement
from imaging.measure_edit import label_lines, shown_on_plane
from imaging.measurement_kinds import kind_spec
from widgets.overlays import Overlay, OverlayContext, overlay_font, text_block

if TYPE_CHECKING:  # pragma: no cover
    from widgets.case_controller import CaseController
    from widgets.slice_view import SliceView

#: Colours on the dark reading-room image: distinct from the plane colours of the reference lines
#: (red, yellow, green).
MEASURE_COLOR = QColor(40, 220, 255)
HOVER_COLOR = QColor(190, 245, 255)
SELECTED_COLOR = QColor(255, 176, 48)
DRAFT_COLOR = QColor(255, 176, 48)
#: label text: a lighter tint of the line colour (small text needs more luminance than a line)
MEASURE_TEXT = QColor(170, 240, 255)
TEXT_COLORS = {id(MEASURE_COLOR): MEASURE_TEXT, id(HOVER_COLOR): QColor(225, 250, 255),
               id(SELECTED_COLOR): QColor(255, 204, 120), id(DRAFT_COLOR): QColor(255, 204, 120)}
OUTLINE_COLOR = QColor(0, 0, 0, 170)

HANDLE_PICK_PX = 8.0  # a press this close to a handle grabs it
LINE_PICK_PX = 6.0  # ... this close to a line or outline grabs the measurement
LABEL_GAP_PX = 12.0
LABEL_MAX_WIDTH = 280.0


@dataclass
class Stroke:
    """A polyline in widget coordinates."""

    points: list[QPointF]
    closed: bool = False
    dashed: bool = False


@dataclass
class Shape:
    """A measurement laid out on one view (widget coordinates)."""

    id: str
    kind: str
    strokes: list[Stroke] = field(default_factory=list)
    handles: list[QPointF] = field(default_factory=list)
    marker: QPointF | None = None  # probe
    label: list[str] = field(default_factory=list)
    label_rect: QRectF = field(default_factory=QRectF)
    leader: QLineF | None = None
    anchor: QRectF = field(default_factory=QRectF)  # the label goes beside this (a point or the bounds)

    def bounds(self) -> QRectF:
        pts = [p for s in self.strokes for p in s.points] + list(self.handles)
        if self.marker is not None:  # the probe's circle and ticks
            pts += [QPointF(self.marker.x() + dx, self.marker.y() + dy) for dx, dy in ((-9, -9), (9, 9))]
        if not pts:
            return QRectF()
        xs = [p.x() for p in pts]
        ys = [p.y() for p in pts]
        return QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


@dataclass(frozen=True)
class Hit:
    """What is under the mouse: a measurement, and which of its handles (None: its line or its label)."""

    measurement_id: str
    handle: int | None
    part: str  # "handle", "line" or "label"


def _widget_points(ctx: OverlayContext, points_lps: Sequence[Sequence[float]] | np.ndarray) -> list[QPointF]:
    pts = np.atleast_2d(np.asarray(points_lps, dtype=np.float64))
    if pts.size == 0:
        return []
    xyd = np.atleast_2d(ctx.geometry.from_lps(pts))
    return [ctx.to_widget(p[:2]) for p in xyd]


def _ticks(a: QPointF, b: QPointF, half: float = 6.0) -> list[Stroke]:
    """Short strokes across the ends of segment a-b (a caliper: the CC extent)."""
    dx, dy = b.x() - a.x(), b.y() - a.y()
    n = math.hypot(dx, dy)
    if n < 1e-6:
        return []
    px, py = -dy / n * half, dx / n * half
    return [Stroke([QPointF(p.x() - px, p.y() - py), QPointF(p.x() + px, p.y() + py)]) for p in (a, b)]


def build_shape(measurement_id: str, kind: str, points_lps: Sequence[Sequence[float]], ctx: OverlayContext,
                complete: bool = True) -> Shape:
    """Lines, outlines and handles of a measurement (or of an incomplete drawing) on a view: its kind's
    Qt-free drawing (:meth:`~imaging.measurement_kinds.MeasurementKind.drawing`, LPS) projected on the view."""
    shape = Shape(measurement_id, kind)
    if not len(points_lps):
        return shape
    drawing = kind_spec(kind).drawing(points_lps, complete)
    for st in drawing.strokes:
        w = _widget_points(ctx, st.points)
        shape.strokes.append(Stroke(w, closed=st.closed, dashed=st.dashed))
        if st.end_ticks and len(w) >= 2:
            shape.strokes.extend(_ticks(w[0], w[-1]))
    shape.handles = _widget_points(ctx, np.array(drawing.handles)) if drawing.handles else []
    if drawing.marker is not None:
        shape.marker = _widget_points(ctx, drawing.marker)[0]
    return shape


def _label_anchor(shape: Shape) -> QRectF:
    """Where a label attaches (the kind's ``label_anchor``): beside the right-most handle of lines and angles
    (as OHIF: the label never crosses its own line), beside the marker of a probe, beside the outline of an
    ROI."""
    if kind_spec(shape.kind).label_anchor == "outline" or not shape.handles:
        return shape.bounds()
    if shape.marker is not None:
        m = shape.marker
        return QRectF(m.x() - 9, m.y(), 18, 0)
    p = max(shape.handles, key=lambda q: (q.x(), -q.y()))
    return QRectF(p.x(), p.y(), 0, 0)


def _distance_to_segment(p: QPointF, a: QPointF, b: QPointF) -> float:
    ax, ay, bx, by = a.x(), a.y(), b.x(), b.y()
    dx, dy = bx - ax, by - ay
    n2 = dx * dx + dy * dy
    t = 0.0 if n2 == 0 else max(0.0, min(1.0, ((p.x() - ax) * dx + (p.y() - ay) * dy) / n2))
    return math.hypot(p.x() - (ax + t * dx), p.y() - (ay + t * dy))


def stroke_distance(shape: Shape, pos: QPointF) -> float:
    """Distance in widget pixels from ``pos`` to the nearest line or outline of ``shape``."""
    best = math.inf
    for s in shape.strokes:
        if s.dashed:
            continue
        pts = s.points + ([s.points[0]] if s.closed and len(s.points) > 2 else [])
        for a, b in zip(pts, pts[1:], strict=False):
            best = min(best, _distance_to_segment(pos, a, b))
    if shape.marker is not None:
        best = min(best, math.hypot(pos.x() - shape.marker.x(), pos.y() - shape.marker.y()))
    return best


def paint_shape(painter: QPainter, shape: Shape, color: QColor, emphasis: bool, show_handles: bool) -> None:
    """Draw a shape's strokes (with a dark outline so they read on bone and on air) and handles."""
    painter.setRenderHint(QPainter.Antialiasing, True)
    width = 2.4 if emphasis else 1.7
    for s in shape.strokes:
        for pen_color, pen_width in ((OUTLINE_COLOR, width + 2.0), (color, width)):
            pen = QPen(pen_color, pen_width)
            pen.setCapStyle(Qt.RoundCap)
            pen.setJoinStyle(Qt.RoundJoin)
            if s.dashed:
                pen.setStyle(Qt.DashLine)
            painter.setPen(pen)
            painter.setBrush(Qt.NoBrush)
            if s.closed:
                painter.drawPolygon(QPolygonF(s.points))
            else:
                painter.drawPolyline(QPolygonF(s.points))
    if shape.marker is not None:
        m = shape.marker
        for pen_color, pen_width in ((OUTLINE_COLOR, width + 2.0), (color, width)):
            painter.setPen(QPen(pen_color, pen_width))
            painter.setBrush(Qt.NoBrush)
            painter.drawEllipse(m, 5.0, 5.0)
            painter.drawLine(QPointF(m.x() - 9, m.y()), QPointF(m.x() - 5, m.y()))
            painter.drawLine(QPointF(m.x() + 5, m.y()), QPointF(m.x() + 9, m.y()))
            painter.drawLine(QPointF(m.x(), m.y() - 9), QPointF(m.x(), m.y() - 5))
            painter.drawLine(QPointF(m.x(), m.y() + 5), QPointF(m.x(), m.y() + 9))
    if show_handles and kind_spec(shape.kind).handle_display != "never":
        radius = 4.0 if emphasis else 3.0
        painter.setPen(QPen(OUTLINE_COLOR, 1.2))
        painter.setBrush(QBrush(color) if emphasis else QBrush(QColor(0, 0, 0, 120)))
        for h in shape.handles:
            painter.drawEllipse(h, radius + 0.6, radius + 0.6)
        if not emphasis:
            painter.setPen(QPen(color, 1.4))
            painter.setBrush(Qt.NoBrush)
            for h in shape.handles:
                painter.drawEllipse(h, radius, radius)
    painter.setRenderHint(QPainter.Antialiasing, False)


Segment = tuple[QPointF, QPointF]


def shape_segments(shape: Shape) -> list[Segment]:
    """The straight pieces a label should not cover: strokes (closing edges included) and the probe's
    circle (as its bounding square)."""
    segs: list[Segment] = []
    for st in shape.strokes:
        pts = st.points + ([st.points[0]] if st.closed and len(st.points) > 2 else [])
        segs.extend(zip(pts, pts[1:], strict=False))
    if shape.marker is not None:
        m = shape.marker
        corners = [QPointF(m.x() + dx, m.y() + dy) for dx, dy in ((-9, -9), (9, -9), (9, 9), (-9, 9), (-9, -9))]
        segs.extend(zip(corners, corners[1:], strict=False))
    return segs


def clipped_length(a: QPointF, b: QPointF, r: QRectF) -> float:
    """Length of segment a-b inside rectangle r (Liang-Barsky clipping)."""
    x0, y0, dx, dy = a.x(), a.y(), b.x() - a.x(), b.y() - a.y()
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - r.left()), (dx, r.right() - x0), (-dy, y0 - r.top()), (dy, r.bottom() - y0)):
        if p == 0:
            if q < 0:
                return 0.0
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return 0.0
    return (t1 - t0) * math.hypot(dx, dy)


class LabelPlacer:
    """Puts label blocks beside their shapes inside the view: never over the corner text or another label,
    and off every measurement's lines when there is room (right of the anchor, then right of, left of,
    below and above the shape, then its corners)."""

    def __init__(self, ctx: OverlayContext, segments: Sequence[Segment] = ()) -> None:
        self.area = ctx.rect.adjusted(4, 4, -4, -4)
        self.hard: list[QRectF] = list(ctx.reserved)
        self.segments: list[Segment] = list(segments)

    def _clamped(self, r: QRectF) -> QRectF:
        x = min(max(r.left(), self.area.left()), self.area.right() - r.width())
        y = min(max(r.top(), self.area.top()), self.area.bottom() - r.height())
        return QRectF(x, y, r.width(), r.height())

    def _cost(self, r: QRectF, own: Sequence[Segment]) -> float:
        grown = r.adjusted(-3, -3, 3, 3)
        return (sum(clipped_length(a, b, grown) for a, b in self.segments)
                + 2 * sum(clipped_length(a, b, grown) for a, b in own))

    def place(self, anchor: QRectF, size: tuple[float, float], bounds: QRectF | None = None,
              own: Sequence[Segment] = ()) -> QRectF:
        """A rectangle of ``size`` beside ``anchor`` (and the shape's ``bounds``): the first candidate that
        covers no corner text, label or line; else the one covering the least line (its own counting
        triple); stepping a line height at a time when every candidate hits text."""
        w, h = size
        b = bounds if bounds is not None and bounds.isValid() else anchor
        g = LABEL_GAP_PX
        candidates = [QRectF(anchor.right() + g, anchor.center().y() - h / 2, w, h),
                      QRectF(b.right() + g, b.center().y() - h / 2, w, h),
                      QRectF(b.left() - g - w, b.center().y() - h / 2, w, h),
                      QRectF(b.center().x() - w / 2, b.bottom() + g, w, h),
                      QRectF(b.center().x() - w / 2, b.top() - g - h, w, h),
                      QRectF(b.right() + g, b.bottom() + g, w, h),
                      QRectF(b.left() - g - w, b.bottom() + g, w, h),
                      QRectF(b.right() + g, b.top() - g - h, w, h),
                      QRectF(b.left() - g - w, b.top() - g - h, w, h)]
        best: tuple[float, QRectF] | None = None
        for c in candidates:
            r = self._clamped(c)
            if any(r.intersects(q) for q in self.hard):
                continue
            cost = self._cost(r, own)
            if cost == 0:
                best = (0.0, r)
                break
            if best is None or cost < best[0] - 1e-9:
                best = (cost, r)
        if best is not None:
            chosen = best[1]
        else:  # crowded: step the first place down and up a label height at a time
            first = chosen = self._clamped(candidates[0])
            for step in range(1, 16):
                dy = ((step + 1) // 2) * (h + 2) * (1 if step % 2 else -1)
                chosen = self._clamped(QRectF(first.left(), first.top() + dy, w, h))
                if not any(chosen.intersects(q) for q in self.hard):
                    break
        self.hard.append(chosen)
        return chosen


class MeasurementOverlay(Overlay):
    """Draws the case's measurements on each view (see the module docstring)."""

    z = 93  # above the corner text (so labels can avoid it), below orientation letters and scale bar

    def __init__(self, controller: CaseController) -> None:
        self.controller = controller
        self.visible = True
        self.hover: tuple[int, str, int | None] | None = None  # (id(view), measurement id, handle)
        self._previews: dict[str, Measurement] = {}
        self._painted: dict[int, tuple[tuple, list[Shape]]] = {}
        self.revision = 0
        controller.changed.connect(self._bump)
        controller.caseReplaced.connect(self._bump)

    # -- state -------------------------------------------------------------------------------------------
    def _bump(self, *_args: object) -> None:
        self.revision += 1

    def set_preview(self, m: Measurement) -> None:
        """Draw ``m`` in place of the stored measurement with its id (a live drag)."""
        self._previews[m.id] = m
        self._bump()

    def clear_preview(self, measurement_id: str | None = None) -> None:
        if measurement_id is None:
            self._previews.clear()
        else:
            self._previews.pop(measurement_id, None)
        self._bump()

    def preview(self, measurement_id: str) -> Measurement | None:
        return self._previews.get(measurement_id)

    def set_hover(self, view: SliceView | None, measurement_id: str | None, handle: int | None = None) -> bool:
        """Highlight a measurement under the mouse; returns True when the highlight changed."""
        new = (id(view), measurement_id, handle) if view is not None and measurement_id else None
        if new == self.hover:
            return False
        self.hover = new
        return True

    def hovered_id(self) -> str | None:
        return self.hover[1] if self.hover is not None else None

    # -- what is shown where ----------------------------------------------------------------------------
    def measurements_on(self, ctx: OverlayContext) -> list[Measurement]:
        """The measurements drawn on a view's current plane (live previews replacing their originals)."""
        vol = ctx.volume
        if vol is None:
            return []
        uid = vol.metadata.series_instance_uid
        out = []
        for m in self.controller.case.measurements:
            m = self._previews.get(m.id, m)
            try:
                if shown_on_plane(m, ctx.geometry, uid):
                    out.append(m)
            except (ValueError, np.linalg.LinAlgError):
                continue
        return out

    def shown_ids(self, view: SliceView) -> list[str]:
        """Ids of the measurements drawn on ``view`` now (for tests and navigation)."""
        ctx = view.overlay_context()
        if ctx is None or not view.isVisible():
            return []
        return [m.id for m in self.measurements_on(ctx)]

    def _key(self, ctx: OverlayContext) -> tuple:
        t = ctx.transform
        return (ctx.slice_index, id(ctx.spec), round(t.m11(), 9), round(t.m12(), 9), round(t.m21(), 9),
                round(t.m22(), 9), round(t.dx(), 6), round(t.dy(), 6), ctx.rect.width(), ctx.rect.height(),
                self.revision, id(self.controller.case))

    def layout(self, ctx: OverlayContext, font: QFont | None = None, dpr: float = 1.0) -> list[Shape]:
        """Shapes (with placed labels) of the measurements on a view, in case order."""
        font = font or overlay_font()
        shapes = []
        findings = {f.id: (f.label or "unnamed finding") for f in self.controller.case.findings}
        for m in self.measurements_on(ctx):
            shape = build_shape(m.id, m.kind, m.points, ctx)
            shape.label = label_lines(m, findings.get(m.finding_id or "", ""))
            shapes.append(shape)
        placer = LabelPlacer(ctx, [seg for s in shapes for seg in shape_segments(s)])
        for shape in shapes:
            img, _, _ = text_block(tuple(shape.label), (MEASURE_TEXT.rgba(),) * len(shape.label), False, font,
                                   dpr, LABEL_MAX_WIDTH)
            shape.anchor = _label_anchor(shape)
            shape.label_rect = placer.place(shape.anchor, (img.width() / dpr, img.height() / dpr), shape.bounds(),
                                            shape_segments(shape))
            shape.leader = _leader(shape.label_rect, shape)
        return shapes

    def shapes(self, view: SliceView) -> list[Shape]:
        """The shapes of the last paint of ``view`` when still current, else a fresh layout."""
        ctx = view.overlay_context()
        if ctx is None:
            return []
        cached = self._painted.get(id(view))
        if cached is not None and cached[0] == self._key(ctx):
            return cached[1]
        return self.layout(ctx, dpr=view.devicePixelRatioF())

    def shape_of(self, view: SliceView, measurement_id: str) -> Shape | None:
        return next((s for s in self.shapes(view) if s.id == measurement_id), None)

    def hit_test(self, view: SliceView, pos: QPointF) -> Hit | None:
        """The measurement part under widget position ``pos``: the nearest handle within
        ``HANDLE_PICK_PX``, else the nearest line within ``LINE_PICK_PX``, else a label. The selected
        measurement wins ties (it is drawn on top)."""
        if not view.isVisible():
            return None
        shapes = self.shapes(view)
        selected = self.controller.selected_id
        shapes = sorted(shapes, key=lambda s: s.id == selected, reverse=True)
        best: tuple[float, Hit] | None = None
        for s in shapes:
            for i, h in enumerate(s.handles):
                d = math.hypot(pos.x() - h.x(), pos.y() - h.y())
                if d <= HANDLE_PICK_PX and (best is None or d < best[0] - 1e-9):
                    best = (d, Hit(s.id, i, "handle"))
        if best is not None:
            return best[1]
        for s in shapes:
            d = stroke_distance(s, pos)
            if d <= LINE_PICK_PX and (best is None or d < best[0] - 1e-9):
                best = (d, Hit(s.id, None, "line"))
        if best is not None:
            return best[1]
        for s in shapes:
            if s.label_rect.contains(pos):
                return Hit(s.id, None, "label")
        return None

    # -- painting --------------------------------------------------------------------------------------
    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        font = overlay_font()
        dev = painter.device()
        dpr = dev.devicePixelRatioF() if dev is not None else 1.0
        shapes = self.layout(ctx, font, dpr)
        self._painted[id(ctx.view)] = (self._key(ctx), shapes)
        if not shapes:
            return
        selected = self.controller.selected_id
        hover = self.hover if self.hover is not None and self.hover[0] == id(ctx.view) else None
        painter.setFont(font)
        # the selected measurement last: on top
        for s in sorted(shapes, key=lambda s: s.id == selected):
            is_selected = s.id == selected
            is_hover = hover is not None and hover[1] == s.id
            color = SELECTED_COLOR if is_selected else HOVER_COLOR if is_hover else MEASURE_COLOR
            emphasis = is_selected or is_hover
            show_handles = emphasis or kind_spec(s.kind).handle_display != "on_focus"
            paint_shape(painter, s, color, emphasis, show_handles)
            if is_hover and hover[2] is not None and hover[2] < len(s.handles):
                painter.setRenderHint(QPainter.Antialiasing, True)
                painter.setPen(QPen(color, 1.5))
                painter.setBrush(Qt.NoBrush)
                painter.drawEllipse(s.handles[hover[2]], 7.0, 7.0)
                painter.setRenderHint(QPainter.Antialiasing, False)
            self._paint_label(painter, s, color, font, dpr)

    @staticmethod
    def _paint_label(painter: QPainter, s: Shape, color: QColor, font: QFont, dpr: float) -> None:
        if not s.label:
            return
        if s.leader is not None:
            painter.setRenderHint(QPainter.Antialiasing, True)
            for pen_color, width in ((OUTLINE_COLOR, 2.6), (color, 1.0)):
                pen = QPen(pen_color, width)
                pen.setStyle(Qt.DashLine if pen_color is color else Qt.SolidLine)
                painter.setPen(pen)
                painter.drawLine(s.leader)
            painter.setRenderHint(QPainter.Antialiasing, False)
        text = TEXT_COLORS.get(id(color), color)
        img, _, _ = text_block(tuple(s.label), (text.rgba(),) * len(s.label), False, font, dpr, LABEL_MAX_WIDTH)
        painter.drawImage(s.label_rect.topLeft(), img)


def _leader(rect: QRectF, shape: Shape) -> QLineF | None:
    """A line from the label to the nearest point of its shape, when the label sits away from it."""
    pts = [p for st in shape.strokes for p in st.points] + list(shape.handles)
    if shape.marker is not None:
        pts.append(shape.marker)
    if not pts:
        return None

    def on_rect(p: QPointF) -> QPointF:
        return QPointF(min(max(p.x(), rect.left()), rect.right()), min(max(p.y(), rect.top()), rect.bottom()))

    nearest = min(pts, key=lambda p: math.hypot(p.x() - on_rect(p).x(), p.y() - on_rect(p).y()))
    start = on_rect(nearest)
    if math.hypot(nearest.x() - start.x(), nearest.y() - start.y()) <= LABEL_GAP_PX * 1.6:
        return None
    return QLineF(start, nearest)


def paint_draft(painter: QPainter, ctx: OverlayContext, kind: str, points_lps: Sequence[Sequence[float]],
                complete: bool, label: Sequence[str] = ()) -> None:
    """Draw a measurement being drawn (amber, dashed closing edge for an open outline) with its live
    values beside it."""
    shape = build_shape("", kind, points_lps, ctx, complete=complete)
    paint_shape(painter, shape, DRAFT_COLOR, True, True)
    if label and (shape.strokes or shape.marker is not None):
        font = overlay_font()
        dev = painter.device()
        dpr = dev.devicePixelRatioF() if dev is not None else 1.0
        img, _, _ = text_block(tuple(label), (TEXT_COLORS[id(DRAFT_COLOR)].rgba(),) * len(label), False, font,
                               dpr, LABEL_MAX_WIDTH)
        rect = LabelPlacer(ctx, shape_segments(shape)).place(_label_anchor(shape),
                                                             (img.width() / dpr, img.height() / dpr), shape.bounds())
        painter.drawImage(rect.topLeft(), img)


__all__ = [
    "DRAFT_COLOR",
    "HOVER_COLOR",
    "MEASURE_COLOR",
    "SELECTED_COLOR",
    "Hit",
    "MeasurementOverlay",
    "Shape",
    "Stroke",
    "build_shape",
    "paint_draft",
    "paint_shape",
    "stroke_distance",
]

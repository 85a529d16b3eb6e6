"""Measurement tools for the slice views, and the editor that moves, renames and deletes measurements.

Tools: one per registered measurement kind (:mod:`imaging.measurement_kinds`; the kind's spec gives its
name, key, tooltip, icon and how its points are placed), one instance serving every view. The built-in kinds
are length (L), bidirectional (B), ellipse ROI (E), polygon ROI (P), freehand ROI (F), angle (A), Cobb angle
(Shift+A), probe (V) and CC extent (X)::

    tools = measurement_tools(session)            # one per kind, in toolbar order

How they draw (the active tool takes the left button):

* two-point tools (length, CC extent, bidirectional's long axis, ellipse's bounding box): press and drag,
  or click both ends; angle (3 points) and Cobb (2 lines) continue with further clicks or drags; a probe is
  one click (drag to aim);
* polygon ROI: click the vertices; double-click, Enter or a click on the first vertex closes it; Backspace
  removes the last vertex; freehand ROI: press and drag the outline, release closes it;
* Esc cancels the drawing in progress, and when nothing is being drawn returns to Navigate;
* the drawing previews live (amber, with its values) and becomes ONE undoable "Add ..." on completion,
  built with :func:`imaging.case.analysis.measurement_from_drawing` (series UID, SOPInstanceUID when the view
  shows the acquired slices, plane geometry, pixel_spacing_known, ROI statistics from the voxels).

`MeasurementEditor` is an event filter on every view. Whenever Navigate or a measurement tool is active (and
nothing is being drawn) it gives existing measurements precedence under the mouse, as OHIF does: hover
highlights, a press selects, dragging a handle reshapes (the bidirectional's short axis stays
perpendicular), dragging a line moves the whole measurement -- previewed live, committed as ONE undoable
update on release ("Move length handle", "Move bidirectional"); double-click or F2 edits the label in place
("Rename measurement"); Delete/Backspace removes the selected measurement ("Delete ellipse ROI"); the view's
context menu gets Rename, Delete and Assign to Finding. ROI statistics and probe values are recomputed from
the voxels whenever the points change.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QLineEdit, QMenu

from imaging import measure
from imaging.case.analysis import compute_stats, measurement_from_drawing
from imaging.case.findings import assignment_changes, dimension_marks, next_measurement_label
from imaging.case.model import Finding, Measurement, MeasurementPlane
from imaging.geometry import PlaneGeometry
from imaging.measure_edit import (
    drawing_problem,
    edit_handle,
    kind_name,
    kind_title,
    project_to_plane,
    translate,
    value_lines,
)
from imaging.measurement_kinds import (
    ICON_BOX,
    IconArc,
    IconCurve,
    IconEllipse,
    IconPolyline,
    MeasurementKind,
    kind_spec,
    registered_kinds,
)
from widgets.case_controller import CaseController
from widgets.measurement_overlay import MeasurementOverlay, paint_draft
from widgets.slice_view import SliceView
from widgets.tools import Tool, ViewEvent

_log = logging.getLogger(__name__)
READ_ONLY_MESSAGE = "This case is open read-only: measurements cannot be added or changed."
# Voxel statistics need every image of the series: none are computed from a series still loading.
LOADING_MESSAGE = "The series is still loading: wait until every image is in to place or change a {kind}."


@dataclass
class MeasureSession:
    """What the tools and the editor share: the case controller, the overlay, and the window's callbacks.

    ``notify(text, level)`` shows a message ("info", "warning" or "error"); ``set_tool(name)`` activates a
    tool (Esc returns to "navigate"); ``finding_for_new()`` gives the finding new measurements join (or
    None: the findings feature may set it).
    """

    controller: CaseController
    overlay: MeasurementOverlay
    notify: Callable[[str, str], None] = lambda _text, _level="info": None
    set_tool: Callable[[str], None] | None = None
    finding_for_new: Callable[[], str | None] | None = None

    def add_measurement(self, kind: str, points: Sequence[np.ndarray], view: SliceView, geometry: PlaneGeometry,
                        slice_index: int, orientation: str) -> Measurement | None:
        """Build the measurement drawn on ``view`` and add it as one undoable command; select it."""
        vol = view.volume()
        spec = view.plane_spec()
        if vol is None or spec is None:
            return None
        ctl = self.controller
        finding = self.joining_finding()
        try:
            m = measurement_from_drawing(kind, points, vol, geometry, orientation=orientation,
                                         slice_index=slice_index, acquired=spec.is_acquired, reader=ctl.reader,
                                         label=next_measurement_label(ctl.case, kind),
                                         finding_id=finding.id if finding is not None else None)
            ctl.add(m, f"Add {kind_name(kind)}" + (f" to {finding.label or 'finding'}" if finding else ""))
        except ValueError as exc:
            self.notify(f"The {kind_name(kind)} was not added: {exc}", "error")
            return None
        ctl.select(m.id)
        if finding is not None:  # joining a finding is said where it happens (the label on the image too)
            self.notify(f"{m.label} added to finding \u201c{finding.label or 'unnamed'}\u201d (untick \u201cAttach "
                        "new measurements\u201d in the Findings panel to stop).", "info")
        return m

    def joining_finding(self) -> Finding | None:
        """The finding a measurement drawn now would join (None: none)."""
        fid = self.finding_for_new() if self.finding_for_new is not None else None
        if not fid:
            return None
        try:
            return self.controller.case.finding(fid)
        except KeyError:
            return None


def _widget_distance(view: SliceView, a: np.ndarray, b: np.ndarray) -> float:
    pa, pb = view.display_to_widget(a), view.display_to_widget(b)
    return math.hypot(pa.x() - pb.x(), pa.y() - pb.y())


def _draft_measurement(kind: str, points: Sequence[np.ndarray], geometry: PlaneGeometry, orientation: str,
                       spacing_known: bool) -> Measurement:
    """An unvalidated measurement of the drawing in progress, for its live values."""
    plane = MeasurementPlane.model_construct(orientation=orientation, normal=tuple(float(c) for c in geometry.normal),
                                             geometry=None)
    return Measurement.model_construct(kind=kind, points=[tuple(float(c) for c in p) for p in points], plane=plane,
                                       pixel_spacing_known=spacing_known, label="", stats=None)


class MeasurementTool(Tool):
    """The tool that draws one measurement kind, from its spec (:mod:`imaging.measurement_kinds`): the
    drawing state machine of the "points" gesture (see the module docstring); :class:`PolygonTool` and
    :class:`FreehandTool` draw the "polygon" and "freehand" gestures. Name, label, key, tooltip, how many
    points it places and how they become the measurement's LPS points all come from the spec."""

    cursor = Qt.CrossCursor
    drag_px = 4.0  # a press-release further apart than this is a drag
    min_step_px = 3.0  # consecutive points closer than this (widget px) are one point

    def __init__(self, session: MeasureSession, spec: MeasurementKind) -> None:
        self.session = session
        self.spec = spec
        self.kind = spec.key
        self.name, self.label, self.shortcut, self.tooltip = spec.key, spec.tool_label, spec.shortcut, spec.tooltip
        self.points_needed: int | None = spec.points_to_place
        self._reset()

    # -- state -------------------------------------------------------------------------------------------
    def _reset(self) -> None:
        self._view: SliceView | None = None
        self._geometry: PlaneGeometry | None = None
        self._slice = -1
        self._orientation = ""
        self._volume = None
        self._placed: list[np.ndarray] = []  # display pixel (x, y) of the points placed so far
        self._float: np.ndarray | None = None  # where the mouse is
        self._press_xy: np.ndarray | None = None
        self._press_pos = QPointF()
        self._pressing = False

    @property
    def drawing(self) -> bool:
        """True while a measurement is being drawn."""
        return self._view is not None

    def cancel(self) -> None:
        """Drop the drawing in progress."""
        view = self._view
        self._reset()
        if view is not None:
            view.update()

    def deactivate(self) -> None:
        self.cancel()

    def refusal(self, e: ViewEvent) -> str | None:
        """Why this tool cannot start drawing on ``e.view`` (a message for the reader), or None."""
        if e.view.volume() is None:
            return "Open a series before measuring."
        if self.session.controller.read_only:
            return READ_ONLY_MESSAGE
        if self.spec.voxel_stats != "none" and e.view.volume().is_loading:
            return LOADING_MESSAGE.format(kind=self.spec.name)
        return self.spec.orientation_refusal(e.view.orientation())

    def _same_plane(self, e: ViewEvent) -> bool:
        return (e.view is self._view and e.view.slice_index() == self._slice
                and e.view.orientation() == self._orientation and e.view.volume() is self._volume)

    # -- events --------------------------------------------------------------------------------------------
    def mouse_press(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton:
            return False
        if self.drawing and not self._same_plane(e):
            self.cancel()  # another view or another slice: start again there
        if not self.drawing:
            reason = self.refusal(e)
            if reason:
                self.session.notify(reason, "warning")
                return True
            self._view, self._geometry, self._slice = e.view, e.geometry, e.view.slice_index()
            self._orientation, self._volume = e.view.orientation(), e.view.volume()
        self._press_xy = np.array(e.display, dtype=np.float64)
        self._press_pos = QPointF(e.pos)
        self._pressing = True
        self._float = self._press_xy.copy()
        self.on_press(e)
        e.view.update()
        return True

    def mouse_move(self, e: ViewEvent) -> bool:
        if not self.drawing or e.view is not self._view:
            return self._pressing
        self._float = np.array(e.display, dtype=np.float64)
        if self._pressing:
            self.on_drag(e)
        e.view.update()
        return True

    def hover(self, e: ViewEvent) -> bool:
        if self.drawing and self._same_plane(e):
            self._float = np.array(e.display, dtype=np.float64)
            e.view.update()
            return True
        return False

    def mouse_release(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton:
            return False
        if not self._pressing or not self.drawing:
            self._pressing = False
            return True
        self._pressing = False
        if e.view is not self._view:
            return True
        self._float = np.array(e.display, dtype=np.float64)
        moved = math.hypot(e.pos.x() - self._press_pos.x(), e.pos.y() - self._press_pos.y())
        self.on_release(e, moved >= self.drag_px)
        if self.drawing and self.ready():
            self.finish()
        if self._view is not None:
            self._view.update()
        e.view.update()
        return True

    def key_press(self, view: SliceView, event: QKeyEvent) -> bool:
        if event.key() == Qt.Key_Escape:
            if self.drawing:
                self.cancel()
            elif self.session.set_tool is not None:
                self.session.set_tool("navigate")
            return True
        return False

    def context_menu(self, e: ViewEvent, menu: QMenu) -> None:
        if self.drawing:
            menu.addAction("Cancel Drawing  (Esc)", self.cancel)
            menu.addSeparator()

    # -- the drawing, overridable ----------------------------------------------------------------------
    def on_press(self, e: ViewEvent) -> None:
        """A press (after the drawing has started)."""

    def on_drag(self, e: ViewEvent) -> None:
        """A move with the button down."""

    def _distinct_needed(self, index: int) -> bool:
        """Whether point ``index`` must differ from the one before it (the spec says; e.g. it ends a segment)."""
        return self.spec.distinct_needed(index)

    def _try_place(self, xy: np.ndarray) -> None:
        n = self.points_needed
        if n is not None and len(self._placed) >= n:
            return
        if (self._placed and self._distinct_needed(len(self._placed))
                and _widget_distance(self._view, self._placed[-1], xy) < self.min_step_px):
            return
        self._placed.append(np.array(xy, dtype=np.float64))

    def on_release(self, e: ViewEvent, dragged: bool) -> None:
        """Place points: a click places the press point; a drag places both ends (only the release point when
        that is all the tool still needs)."""
        n = self.points_needed or 0
        room = n - len(self._placed)
        candidates = [self._press_xy, self._float] if dragged else [self._press_xy]
        if dragged and room < 2:
            candidates = [self._float]
        for c in candidates:
            self._try_place(c)

    def ready(self) -> bool:
        return self.points_needed is not None and len(self._placed) >= self.points_needed

    def build_points(self, geometry: PlaneGeometry, placed: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The measurement's LPS points from the placed display points (the spec's rule)."""
        return self.spec.build_points(geometry, placed)

    def draft_display_points(self) -> list[np.ndarray]:
        """Display points of the drawing as it stands (placed points, then the one under the mouse)."""
        n = self.points_needed
        pending: list[np.ndarray] = []
        if self._float is not None:
            if self._pressing and self._press_xy is not None:
                room = (n - len(self._placed)) if n is not None else 1
                dragging = _widget_distance(self._view, self._press_xy, self._float) >= self.drag_px
                pending = [self._press_xy, self._float] if dragging and room >= 2 else [self._float]
            else:
                pending = [self._float]
        pts = self._placed + pending
        return pts[:n] if n is not None else pts

    def draft_label(self, points: list[np.ndarray], complete: bool) -> list[str]:
        """The live values beside the drawing: the voxel value under a point kind (probe), else the values of
        the complete drawing (of an outline with enough points)."""
        if self._volume is None or not points:
            return []
        if self.spec.voxel_stats == "point":
            value = measure.probe(self._volume, points[0])
            unit = measure.value_unit(self._volume)
            if value is None:
                return ["outside the image"]
            text = measure.format_value(value, unit)
            return [text if unit else f"Value {text}"]
        if not complete and (self.spec.gesture == "points" or len(points) < self.spec.point_count[0]):
            return []
        m = _draft_measurement(self.kind, points, self._geometry, self._orientation, self._volume.pixel_spacing_known)
        return value_lines(m)

    def draws_on(self, ctx) -> bool:  # noqa: ANN001 - OverlayContext
        """Whether the drawing in progress belongs on this view's current plane."""
        return (self.drawing and ctx.view is self._view and ctx.slice_index == self._slice
                and ctx.volume is self._volume and ctx.orientation == self._orientation)

    def paint(self, painter, ctx) -> None:  # noqa: ANN001 - QPainter, OverlayContext
        if not self.draws_on(ctx):
            return
        disp = self.draft_display_points()
        if not disp:
            return
        complete = self.points_needed is not None and len(disp) >= self.points_needed
        try:
            pts = self.build_points(self._geometry, disp) if complete else [self._geometry.to_lps(p) for p in disp]
        except ValueError:
            pts, complete = [self._geometry.to_lps(p) for p in disp], False
        paint_draft(painter, ctx, self.kind, pts, complete, self.draft_label(pts, complete) + self.joining_line())

    def joining_line(self) -> list[str]:
        """"\u2192 Lesion 1" under the values while drawing, when the measurement will join a finding."""
        f = self.session.joining_finding()
        return [f"\u2192 {f.label or 'unnamed finding'}"] if f is not None else []

    def finish(self) -> None:
        """Turn the drawing into a measurement (one undoable "Add ...") or explain why not."""
        view, geometry = self._view, self._geometry
        placed = list(self._placed)
        slice_index, orientation = self._slice, self._orientation
        self._reset()
        if view is None or geometry is None:
            return
        try:
            points = self.build_points(geometry, placed)
        except ValueError as exc:
            self.session.notify(f"The {kind_name(self.kind)} was not added: {exc}.", "warning")
            view.update()
            return
        vol = view.volume()
        problem = drawing_problem(self.kind, points, vol.pixel_spacing_known if vol is not None else True)
        if problem:
            self.session.notify(problem, "warning")
            view.update()
            return
        self.session.add_measurement(self.kind, points, view, geometry, slice_index, orientation)
        view.update()


class PolygonTool(MeasurementTool):
    """The "polygon" gesture (the polygon ROI): click the vertices; double-click, Enter or a click on the first
    vertex closes the outline; Backspace removes the last vertex."""

    close_px = 8.0

    def on_release(self, e: ViewEvent, dragged: bool) -> None:
        xy = self._float
        if (len(self._placed) >= 3
                and _widget_distance(self._view, self._placed[0], xy) <= self.close_px):
            self.finish()
            return
        self._try_place(xy)

    def mouse_double_click(self, e: ViewEvent) -> bool:
        if not self.drawing or e.view is not self._view:
            return False
        self._finish_polygon()
        return True

    def _finish_polygon(self) -> None:
        if len(self._placed) < 3:
            view = self._view
            self.session.notify(f"A {self.spec.name} needs at least 3 vertices.", "warning")
            self.cancel()
            if view is not None:
                view.update()
            return
        self.finish()

    def key_press(self, view: SliceView, event: QKeyEvent) -> bool:
        if self.drawing and event.key() in (Qt.Key_Return, Qt.Key_Enter):
            self._finish_polygon()
            return True
        if self.drawing and event.key() == Qt.Key_Backspace:
            if self._placed:
                self._placed.pop()
            if not self._placed:
                self.cancel()
            view.update()
            return True
        return super().key_press(view, event)

    def context_menu(self, e: ViewEvent, menu: QMenu) -> None:
        if self.drawing and len(self._placed) >= 3:
            menu.addAction("Close Polygon  (Enter)", self._finish_polygon)
        super().context_menu(e, menu)

    def paint(self, painter, ctx) -> None:  # noqa: ANN001
        if not self.draws_on(ctx):
            return
        disp = self.draft_display_points()
        pts = [self._geometry.to_lps(p) for p in disp]
        paint_draft(painter, ctx, self.kind, pts, False, self.draft_label(pts, False) + self.joining_line())


class FreehandTool(MeasurementTool):
    """The "freehand" gesture (the freehand ROI): press and drag around the region; releasing closes it."""

    sample_px = 2.5  # a new outline point every this many widget pixels

    def on_press(self, e: ViewEvent) -> None:
        self._placed = [self._press_xy.copy()]

    def on_drag(self, e: ViewEvent) -> None:
        xy = np.array(e.display, dtype=np.float64)
        if _widget_distance(self._view, self._placed[-1], xy) >= self.sample_px:
            self._placed.append(xy)

    def on_release(self, e: ViewEvent, dragged: bool) -> None:
        self._try_place(self._float)
        if len(self._placed) >= 3:
            self.finish()
        else:
            self.session.notify(f"Press and drag around the region to draw a {self.spec.name}.", "info")
            self.cancel()

    def draft_display_points(self) -> list[np.ndarray]:
        return list(self._placed)

    def paint(self, painter, ctx) -> None:  # noqa: ANN001
        if not self.draws_on(ctx):
            return
        pts = [self._geometry.to_lps(p) for p in self.draft_display_points()]
        paint_draft(painter, ctx, self.kind, pts, False, self.draft_label(pts, False))


ICON_COLOR = QColor(214, 220, 228)


def tool_icon(kind: str, size: int = 20) -> QIcon:
    """A small line-drawing icon for a measurement kind (toolbar buttons; names and keys in the tooltip),
    painted from the primitives of its spec (:attr:`MeasurementKind.icon`, a 20 x 20 box)."""
    dpr = 2.0
    pix = QPixmap(round(size * dpr), round(size * dpr))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing, True)
    p.scale(size / ICON_BOX, size / ICON_BOX)
    pen = QPen(ICON_COLOR, 1.6)
    pen.setCapStyle(Qt.RoundCap)
    pen.setJoinStyle(Qt.RoundJoin)
    dotted = QPen(pen)
    dotted.setStyle(Qt.DotLine)
    for prim in kind_spec(kind).icon:
        p.setPen(dotted if isinstance(prim, IconPolyline) and prim.dotted else pen)
        p.setBrush(Qt.NoBrush)
        if isinstance(prim, IconPolyline):
            pts = [QPointF(x, y) for x, y in prim.points]
            if prim.closed:
                p.drawPolygon(pts)
            else:
                p.drawPolyline(pts)
            if prim.vertex_dots:
                p.setBrush(ICON_COLOR)
                for q in pts:
                    p.drawEllipse(q, 1.1, 1.1)
        elif isinstance(prim, IconEllipse):
            p.drawEllipse(QPointF(prim.cx, prim.cy), prim.rx, prim.ry)
        elif isinstance(prim, IconArc):
            p.drawArc(QRectF(prim.x, prim.y, prim.width, prim.height), round(prim.start_deg * 16),
                      round(prim.span_deg * 16))
        elif isinstance(prim, IconCurve):
            path = QPainterPath(QPointF(*prim.start))
            for c1, c2, end in prim.segments:
                path.cubicTo(QPointF(*c1), QPointF(*c2), QPointF(*end))
            p.drawPath(path)
    p.end()
    return QIcon(pix)


_GESTURE_TOOLS: dict[str, type[MeasurementTool]] = {"points": MeasurementTool, "polygon": PolygonTool,
                                                   "freehand": FreehandTool}


def tool_for(spec: MeasurementKind, session: MeasureSession) -> MeasurementTool:
    """The tool that draws ``spec``'s kind (by its gesture), with its icon."""
    tool = _GESTURE_TOOLS[spec.gesture](session, spec)
    tool.icon = tool_icon(spec.key)
    return tool


def measurement_tools(session: MeasureSession) -> list[MeasurementTool]:
    """One tool per registered measurement kind, in toolbar order (each with its icon)."""
    return [tool_for(spec, session) for spec in registered_kinds()]


# ---------------------------------------------------------------------------------------------------------
# Editing existing measurements
# ---------------------------------------------------------------------------------------------------------
class LabelEditor(QLineEdit):
    """An in-place editor for a measurement's label, over its view: Enter keeps, Esc cancels."""

    def __init__(self, view: SliceView, text: str, anchor: QRect, commit: Callable[[str], None]) -> None:
        super().__init__(view)
        self.setObjectName("MeasurementLabelEditor")
        self._view = view
        self._commit = commit
        self._done = False
        self.setText(text)
        self.setPlaceholderText("Label, e.g. T6 lesion")
        self.setStyleSheet("QLineEdit { background: #1b1e22; color: #f2f4f7; border: 1px solid #ffaa3c; "
                           "border-radius: 3px; padding: 2px 4px; }")
        width = max(200, anchor.width() + 40)
        height = self.sizeHint().height()
        x = min(max(anchor.left(), 4), max(4, view.width() - width - 4))
        y = min(max(anchor.top() - height - 4, 4), max(4, view.height() - height - 4))
        self.setGeometry(x, y, width, height)
        self.selectAll()
        self.returnPressed.connect(lambda: self._close(True))
        self.show()
        self.setFocus(Qt.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key_Escape:
            event.accept()
            self._close(False)
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: ANN001
        super().focusOutEvent(event)
        if not self._done:
            self._close(True)

    def _close(self, keep: bool) -> None:
        if self._done:
            return
        self._done = True
        text = self.text()
        self.hide()
        self._view.setFocus(Qt.OtherFocusReason)
        self.deleteLater()
        if keep:
            self._commit(text)


@dataclass
class _Drag:
    view: SliceView
    original: Measurement
    handle: int | None
    part: str
    start_lps: np.ndarray
    press_pos: QPointF
    moved: bool = False


class MeasurementEditor(QObject):
    """Selects, moves, reshapes, renames and deletes measurements on the views (see the module docstring).
    ``attach(view)`` for every slice view."""

    def __init__(self, session: MeasureSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._views: list[SliceView] = []
        self._drag: _Drag | None = None
        self._cursor_views: set[int] = set()
        self.label_editor: LabelEditor | None = None
        ctl = session.controller
        ctl.changed.connect(self._on_changed)
        ctl.caseReplaced.connect(self.cancel_drag)

    @property
    def controller(self) -> CaseController:
        return self.session.controller

    @property
    def overlay(self) -> MeasurementOverlay:
        return self.session.overlay

    def attach(self, view: SliceView) -> None:
        if view in self._views:
            return
        self._views.append(view)
        view.installEventFilter(self)
        view.contextMenuRequested.connect(self.fill_context_menu)

    def views(self) -> list[SliceView]:
        return list(self._views)

    def update_views(self) -> None:
        for v in self._views:
            if v.isVisible():
                v.update()

    # -- helpers ---------------------------------------------------------------------------------------
    def enabled(self, view: SliceView) -> bool:
        """Existing measurements take the mouse in Navigate and measurement tools (not while drawing)."""
        tool = view.tool()
        if isinstance(tool, MeasurementTool):
            return not tool.drawing
        return tool.name == "navigate"

    def selected_measurement(self) -> Measurement | None:
        sel = self.controller.selected_id
        if not sel:
            return None
        return next((m for m in self.controller.case.measurements if m.id == sel), None)

    def view_showing(self, measurement_id: str, prefer: SliceView | None = None) -> SliceView | None:
        """A visible view that draws the measurement now (``prefer`` first)."""
        candidates = ([prefer] if prefer is not None else []) + [v for v in self._views if v is not prefer]
        for v in candidates:
            if v is not None and v.isVisible() and measurement_id in self.overlay.shown_ids(v):
                return v
        return None

    def _set_cursor(self, view: SliceView, shape: Qt.CursorShape | None) -> None:
        if shape is None:
            if id(view) in self._cursor_views:
                self._cursor_views.discard(id(view))
                view.setCursor(view.tool().cursor)
            return
        self._cursor_views.add(id(view))
        view.setCursor(shape)

    # -- event filter ------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if not isinstance(watched, SliceView) or watched not in self._views:
            return False
        t = event.type()
        try:
            if t == QEvent.MouseMove:
                return self._mouse_move(watched, event)
            if t == QEvent.MouseButtonPress:
                return self._mouse_press(watched, event)
            if t == QEvent.MouseButtonRelease:
                return self._mouse_release(watched, event)
            if t == QEvent.MouseButtonDblClick:
                return self._double_click(watched, event)
            if t == QEvent.ShortcutOverride:
                if self._key_wanted(watched, event):
                    event.accept()
                    return True
                return False
            if t == QEvent.KeyPress:
                return self._key_press(watched, event)
            if t == QEvent.Leave:
                if self.overlay.set_hover(None, None):
                    watched.update()
                self._set_cursor(watched, None)
        except Exception as exc:  # noqa: BLE001 - an editing error must never break the view
            _log.exception("measurement editing failed")
            self.cancel_drag()
            self.session.notify(f"Measurement edit failed: {exc}", "error")
            return True
        return False

    def _mouse_move(self, view: SliceView, event: QMouseEvent) -> bool:
        pos = event.position()
        d = self._drag
        if d is not None and d.view is view:
            if event.buttons() & Qt.LeftButton:
                self._drag_to(pos)
                return True
            self._finish_drag()
            return False
        if event.buttons() != Qt.NoButton or view.volume() is None:
            return False
        hit = self.overlay.hit_test(view, pos) if self.enabled(view) else None
        if self.overlay.set_hover(view, hit.measurement_id if hit else None, hit.handle if hit else None):
            view.update()
        if hit is None:
            self._set_cursor(view, None)
        else:
            self._set_cursor(view, Qt.SizeAllCursor if hit.part == "line" else Qt.PointingHandCursor)
        return False

    def _mouse_press(self, view: SliceView, event: QMouseEvent) -> bool:
        if event.button() != Qt.LeftButton or event.modifiers() & Qt.ShiftModifier:
            return False
        if view.volume() is None or not self.enabled(view):
            return False
        pos = event.position()
        hit = self.overlay.hit_test(view, pos)
        if hit is None:
            if self.selected_measurement() is not None:
                self.controller.select("")
            return False
        view.setFocus(Qt.MouseFocusReason)
        view.activated.emit(view)
        self.controller.select(hit.measurement_id)
        m = self.controller.case.measurement(hit.measurement_id)
        if kind_spec(m.kind).voxel_stats != "none" and view.volume().is_loading:
            self.session.notify(LOADING_MESSAGE.format(kind=kind_name(m.kind)), "warning")
            return True
        start = project_to_plane(view.widget_to_lps(pos), m.points[0], m.plane.normal)
        self._drag = _Drag(view, m, hit.handle, hit.part, start, QPointF(pos))
        self.update_views()
        return True

    def _mouse_release(self, view: SliceView, event: QMouseEvent) -> bool:
        d = self._drag
        if d is None or d.view is not view or event.button() != Qt.LeftButton:
            return False
        self._finish_drag()
        return True

    def _double_click(self, view: SliceView, event: QMouseEvent) -> bool:
        if event.button() != Qt.LeftButton or view.volume() is None or not self.enabled(view):
            return False
        hit = self.overlay.hit_test(view, event.position())
        if hit is None:
            return False
        self._drag = None
        self.controller.select(hit.measurement_id)
        self.rename(hit.measurement_id, view)
        return True

    def _key_wanted(self, view: SliceView, event: QKeyEvent) -> bool:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeypadModifier
        if key == Qt.Key_Escape and self._drag is not None:
            return True
        if mods or key not in (Qt.Key_Delete, Qt.Key_Backspace, Qt.Key_F2):
            return False
        return self.selected_measurement() is not None and self.enabled(view)

    def _key_press(self, view: SliceView, event: QKeyEvent) -> bool:
        if not self._key_wanted(view, event):
            return False
        key = event.key()
        if key == Qt.Key_Escape:
            self.cancel_drag()
        elif key == Qt.Key_F2:
            self.rename(self.controller.selected_id, view)
        else:
            self.delete(self.controller.selected_id)
        event.accept()
        return True

    # -- dragging --------------------------------------------------------------------------------------
    def _drag_to(self, pos: QPointF) -> None:
        d = self._drag
        if d is None:
            return
        if not d.moved and math.hypot(pos.x() - d.press_pos.x(), pos.y() - d.press_pos.y()) < 2.0:
            return
        d.moved = True
        if d.part == "label" or self.controller.read_only:
            return
        m = d.original
        p = project_to_plane(d.view.widget_to_lps(pos), m.points[0], m.plane.normal)
        if d.handle is None:
            pts = translate(m.points, p - d.start_lps)
        else:
            pts = edit_handle(m.kind, m.points, d.handle, p, m.plane.normal)
        self.overlay.set_preview(self._with_points(m, pts, d.view))
        self.update_views()

    def _with_points(self, m: Measurement, points: Sequence[np.ndarray], view: SliceView) -> Measurement:
        new = m.model_copy(update={"points": [tuple(float(c) for c in p) for p in points]})
        vol = view.volume()
        if kind_spec(m.kind).voxel_stats != "none" and vol is not None:
            with contextlib.suppress(ValueError):  # an oblique plane: keep the old statistics
                new = new.model_copy(update={"stats": compute_stats(new, vol)})
        return new

    def _finish_drag(self) -> None:
        d = self._drag
        self._drag = None
        if d is None:
            return
        preview = self.overlay.preview(d.original.id)
        self.overlay.clear_preview(d.original.id)
        if d.moved and d.part != "label":
            if self.controller.read_only:
                self.session.notify(READ_ONLY_MESSAGE, "warning")
            elif preview is not None and preview.points != d.original.points:
                name = kind_name(d.original.kind)
                text = f"Move {name} handle" if d.handle is not None else f"Move {name}"
                try:
                    self.controller.update(d.original.id, text, points=list(preview.points), stats=preview.stats)
                except ValueError as exc:
                    self.session.notify(f"The {name} was not changed: {exc}", "warning")
        self.update_views()

    def cancel_drag(self) -> None:
        """Esc during a drag: the measurement goes back to where it was (nothing is recorded)."""
        if self._drag is not None:
            self.overlay.clear_preview(self._drag.original.id)
            self._drag = None
        self.update_views()

    def _on_changed(self, collection: str, obj_id: str) -> None:
        if (collection == "measurements" and self._drag is not None and self._drag.original.id == obj_id
                and all(m.id != obj_id for m in self.controller.case.measurements)):
            self.cancel_drag()

    # -- commands --------------------------------------------------------------------------------------
    def delete(self, measurement_id: str) -> bool:
        """Remove a measurement (one undoable "Delete <kind>")."""
        try:
            m = self.controller.case.measurement(measurement_id)
        except KeyError:
            return False
        try:
            self.controller.remove(measurement_id, f"Delete {kind_name(m.kind)}")
        except ValueError as exc:
            self.session.notify(f"The {kind_name(m.kind)} was not deleted: {exc}", "warning")
            return False
        self.update_views()
        return True

    def set_label(self, measurement_id: str, text: str) -> bool:
        """Relabel a measurement (one undoable "Rename measurement"); nothing happens when unchanged."""
        try:
            m = self.controller.case.measurement(measurement_id)
        except KeyError:
            return False
        text = text.strip()
        if text == m.label:
            return False
        try:
            self.controller.update(measurement_id, "Rename measurement", label=text)
        except ValueError as exc:
            self.session.notify(f"The label was not changed: {exc}", "warning")
            return False
        return True

    def rename(self, measurement_id: str, view: SliceView | None = None) -> LabelEditor | None:
        """Edit a measurement's label in place on a view that shows it (None when no view shows it)."""
        if self.controller.read_only:
            self.session.notify(READ_ONLY_MESSAGE, "warning")
            return None
        try:
            m = self.controller.case.measurement(measurement_id)
        except KeyError:
            return None
        target = self.view_showing(measurement_id, view)
        if target is None:
            return None
        shape = self.overlay.shape_of(target, measurement_id)
        rect = shape.label_rect.toAlignedRect() if shape is not None else QRect(target.width() // 3,
                                                                               target.height() // 3, 200, 20)
        if self.label_editor is not None:
            with contextlib.suppress(RuntimeError):  # already deleted
                self.label_editor._close(False)
        self.label_editor = LabelEditor(target, m.label, rect, lambda text: self.set_label(measurement_id, text))
        return self.label_editor

    def assign_finding(self, measurement_id: str, finding_id: str | None) -> bool:
        try:
            m = self.controller.case.measurement(measurement_id)
        except KeyError:
            return False
        if m.finding_id == finding_id:
            return False
        try:
            self.controller.update(measurement_id, "Assign measurement to finding",
                                   **assignment_changes(m, finding_id))
        except ValueError as exc:
            self.session.notify(f"The finding was not changed: {exc}", "warning")
            return False
        return True

    def set_dimension(self, measurement_id: str, on: bool) -> bool:
        """Mark (or unmark) a bidirectional or CC extent as its finding's dimensions: one undo step; the
        finding's other measurement of that kind is unmarked in the same step."""
        case = self.controller.case
        try:
            m = case.measurement(measurement_id)
            edits = dimension_marks(case, measurement_id, on)
        except (KeyError, ValueError) as exc:
            self.session.notify(f"The dimensions were not changed: {exc}", "warning")
            return False
        if not edits:
            return False
        finding = case.finding(m.finding_id) if m.finding_id else None
        name = finding.label if finding is not None and finding.label else "the finding"
        text = (f"Use {kind_name(m.kind)} as dimensions of {name}" if on
                else f"Stop using {kind_name(m.kind)} as dimensions of {name}")
        try:
            with self.controller.macro(text):
                for mid, changes in edits:
                    self.controller.update(mid, text, **changes)
        except ValueError as exc:
            self.session.notify(f"The dimensions were not changed: {exc}", "warning")
            return False
        return True

    def dimension_action(self, measurement_id: str, parent: QObject) -> QAction | None:
        """"Use as AP x LR Dimensions of Lesion 1" (checkable) for a bidirectional or CC extent in a finding."""
        m = self.controller.case.measurement(measurement_id)
        if m.spec.finding_dimension is None or m.finding_id is None:
            return None
        f = self.controller.case.finding(m.finding_id)
        what = "AP x LR" if m.spec.finding_dimension == "ap_lr" else "CC"
        action = QAction(f"Use as {what} Dimensions of {f.label or 'the Finding'}", parent)
        action.setObjectName("measurement_dimension")
        action.setCheckable(True)
        action.setChecked(m.finding_dimension)
        action.setEnabled(not self.controller.read_only)
        action.triggered.connect(lambda on: self.set_dimension(measurement_id, bool(on)))
        return action

    def fill_context_menu(self, ev: ViewEvent, menu: QMenu) -> None:
        """Measurement actions at the top of a view's context menu when one is under the mouse."""
        view = ev.view
        if view.volume() is None or not self.enabled(view):
            return
        hit = self.overlay.hit_test(view, ev.pos)
        if hit is None:
            return
        self.controller.select(hit.measurement_id)
        self.measurement_actions(hit.measurement_id, menu, view)

    def measurement_actions(self, measurement_id: str, menu: QMenu, view: SliceView | None = None,
                            at_top: bool = True) -> None:
        """Title, Rename, Delete and Assign to Finding for ``measurement_id`` (the view and panel menus)."""
        m = self.controller.case.measurement(measurement_id)
        first = menu.actions()[0] if at_top and menu.actions() else None

        def put(action: QAction) -> None:
            if first is not None:
                menu.insertAction(first, action)
            else:
                menu.addAction(action)

        title = QAction(f"{kind_title(m.kind)}: {value_lines(m)[0]}", menu)
        title.setEnabled(False)
        put(title)
        rename = QAction("Rename\u2026", menu)
        rename.setShortcut(QKeySequence(Qt.Key_F2))
        rename.setShortcutVisibleInContextMenu(True)
        rename.setShortcutContext(Qt.WidgetShortcut)
        rename.setObjectName("measurement_rename")
        rename.triggered.connect(lambda: self.rename(measurement_id, view))
        put(rename)
        delete = QAction("Delete", menu)
        delete.setShortcut(QKeySequence(QKeySequence.Delete))
        delete.setShortcutVisibleInContextMenu(True)
        delete.setShortcutContext(Qt.WidgetShortcut)
        delete.setObjectName("measurement_delete")
        delete.triggered.connect(lambda: self.delete(measurement_id))
        put(delete)
        findings = self.controller.case.findings
        sub = QMenu("Assign to Finding", menu)
        sub.setObjectName("measurement_assign")
        none = sub.addAction("No finding", lambda: self.assign_finding(measurement_id, None))
        none.setCheckable(True)
        none.setChecked(m.finding_id is None)
        if findings:
            sub.addSeparator()
        for i, f in enumerate(findings):
            text = (f.label or f"Finding {i + 1}") + (f"  ({f.levels_text})" if f.levels_text else "")
            a = sub.addAction(text, lambda fid=f.id: self.assign_finding(measurement_id, fid))
            a.setCheckable(True)
            a.setChecked(m.finding_id == f.id)
        sub.setEnabled(bool(findings) or m.finding_id is not None)
        dims = self.dimension_action(measurement_id, menu)
        if first is not None:
            menu.insertMenu(first, sub)
            if dims is not None:
                menu.insertAction(first, dims)
            menu.insertSeparator(first)
        else:
            menu.addMenu(sub)
            if dims is not None:
                menu.addAction(dims)
        if self.controller.read_only:
            for a in (rename, delete):
                a.setEnabled(False)
            sub.setEnabled(False)


__all__ = [
    "FreehandTool",
    "LabelEditor",
    "MeasureSession",
    "MeasurementEditor",
    "MeasurementTool",
    "PolygonTool",
    "measurement_tools",
    "tool_for",
    "tool_icon",
]

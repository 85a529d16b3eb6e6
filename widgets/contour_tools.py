"""Contour tools of the Bilsky assistant: outline the bony canal, thecal sac, spinal cord and tumour on the
axial slice of worst compression, and a brush that pushes an outline's edge in or out.

Tools (one instance serves every view; keys fixed by issue 7)::

    ContourTool("canal") Alt+1   ContourTool("sac") Alt+2   ContourTool("cord") Alt+3
    ContourTool("tumour") Alt+4  ContourBrushTool Alt+B
    tools = contour_tools(session)          # the five, in toolbar order

Drawing an outline (the active tool takes the left button):

* **polygon**: click the vertices; double-click, Enter, or a click on the first vertex closes it; Backspace
  removes the last vertex; a drag with the button held between clicks adds a freehand stretch;
* **freehand**: press and drag the outline; releasing the button closes it;
* Esc cancels the outline in progress, and when nothing is being drawn returns to Navigate; Delete (nothing
  being drawn) deletes the current finding's outline of the tool's kind on the slice shown.

The **brush** (Alt+B) edits the current finding's outline of the *brush kind* (the kind last drawn, or
chosen in the assistant panel or the brush's context menu) on the slice shown — of several tumour outlines,
the one whose edge is nearest the press. It pushes the edge with a disc drawn as a circle around the mouse:
**press inside the outline and drag against its edge to push it out; press outside and drag to push it in**
(as OHIF's sculptor tool: the vertices under the disc move to its rim). ``[`` and ``]`` shrink and grow the
radius (0.5-20 mm; status bar shows it). One drag is one undo entry.

Outlines are refused with a status message on a view that is not axial, a series without pixel spacing
(the assistant's thresholds are in millimetres) and a read-only case. They belong to the current finding
(``FindingFocus``); when the case has no finding at all the reader is offered to create "Finding 1".

Every edit is an undoable command named "Draw canal contour", "Brush sac contour", "Delete cord contour"
(through the `CaseController`): the `Contour` (LPS polygon, series UID, SOPInstanceUID of the acquired axial
slice — None on a reformat — and slice index) is added, replaced or removed, and in the same undo step the
finding's stored suggestion (``BilskyAssessment.with_suggestion``: suggested grade, reasons, summary) is
recomputed from that slice's outlines on the view's pixel grid, or cleared when the canal, sac or cord is
missing. The reader's final grade is never touched. A canal, sac or cord outline replaces the finding's
previous one of that kind on the slice; tumour outlines add up (their union is the tumour).

Research software, not a diagnostic device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeyEvent, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from imaging import measure
from imaging.case.findings import next_finding_label
from imaging.case.model import BilskyAssessment, Contour, Finding
from imaging.geometry import PlaneGeometry
from imaging.spine.contour_masks import (
    CONTOUR_KINDS,
    CONTOUR_NAMES,
    SINGLE_KINDS,
    brush_stroke,
    contours_on_plane,
    plane_mm,
    plane_mm_to_lps,
    point_in_outline,
    suggest_from_contours,
)
from widgets.case_controller import CaseController
from widgets.contour_overlay import ContourOverlay, kind_color, paint_outline
from widgets.findings_panel import FindingFocus
from widgets.overlays import OverlayContext, draw_text, overlay_font
from widgets.slice_view import SliceView
from widgets.tools import Tool, ViewEvent

__all__ = ["BRUSH_RADIUS_RANGE", "KIND_KEYS", "ContourBrushTool", "ContourSession", "ContourTool",
           "ask_new_finding", "cleared_suggestion", "contour_tools", "tool_name"]

KIND_KEYS: dict[str, str] = {"canal": "Alt+1", "sac": "Alt+2", "cord": "Alt+3", "tumour": "Alt+4"}
BRUSH_KEY = "Alt+B"
BRUSH_RADIUS_RANGE = (0.5, 20.0)
BRUSH_STEP = 1.25
READ_ONLY_MESSAGE = "This case is open read-only: contours cannot be drawn or changed."
NEW_FINDING_LABEL = "Finding"


def tool_name(kind: str) -> str:
    """The tool name of a contour kind ("contour_canal"), or the brush's ("contour_brush")."""
    return f"contour_{kind}"


def ask_new_finding(parent: QWidget | None, label: str) -> bool:
    """Ask the reader (a question box) whether to create the finding ``label`` for new contours."""
    answer = QMessageBox.question(
        parent, "New finding",
        f"Bilsky contours belong to a finding, and this case has none yet.\n\nCreate \u201c{label}\u201d for them?",
        QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
    return answer == QMessageBox.Yes


class ContourSession(QObject):
    """What the contour tools, the overlay and the assistant panel share: the case controller, the current
    finding, the brush settings, and the window's callbacks.

    ``notify(text, level)`` shows a message ("info", "warning", "error"); ``set_tool(name)`` activates a tool
    (Esc returns to "navigate"); ``confirm_new_finding(label) -> bool`` asks whether to create a finding
    (default: a question box). Signals: ``brushChanged()`` (kind or radius).
    """

    brushChanged = Signal()

    def __init__(self, controller: CaseController, focus: FindingFocus, overlay: ContourOverlay | None = None,
                 notify: Callable[[str, str], None] | None = None, set_tool: Callable[[str], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.focus = focus
        self.overlay = overlay if overlay is not None else ContourOverlay(controller, focus.current_id)
        self.notify: Callable[[str, str], None] = notify or (lambda _t, _l="info": None)
        self.set_tool = set_tool
        self.confirm_new_finding: Callable[[str], bool] = lambda label: ask_new_finding(None, label)
        self._brush_kind = "sac"
        self._brush_radius = 2.0

    # -- brush settings ------------------------------------------------------------------------------------
    @property
    def brush_kind(self) -> str:
        return self._brush_kind

    def set_brush_kind(self, kind: str) -> None:
        if kind not in CONTOUR_KINDS:
            raise ValueError(f"unknown contour kind {kind!r}")
        if kind != self._brush_kind:
            self._brush_kind = kind
            self.brushChanged.emit()

    @property
    def brush_radius(self) -> float:
        """The brush radius, mm."""
        return self._brush_radius

    def set_brush_radius(self, radius: float) -> None:
        r = float(min(max(radius, BRUSH_RADIUS_RANGE[0]), BRUSH_RADIUS_RANGE[1]))
        if r != self._brush_radius:
            self._brush_radius = r
            self.brushChanged.emit()

    # -- where contours may go -----------------------------------------------------------------------------
    def refusal(self, view: SliceView) -> str | None:
        """Why contours cannot be drawn or edited on ``view`` now (a sentence for the reader), or None."""
        vol = view.volume()
        if vol is None or view.plane_spec() is None:
            return "Open a series before drawing Bilsky contours."
        if self.controller.read_only:
            return READ_ONLY_MESSAGE
        if view.orientation() != "axial":
            return (f"Bilsky contours are drawn on an axial slice; this view shows the {view.orientation()} "
                    "plane. Use an axial view (right-click > Orientation > Axial).")
        if not vol.pixel_spacing_known:
            return ("This series has no pixel spacing: Bilsky contours need millimetres, so they cannot be "
                    "drawn on it.")
        return None

    def finding_for_contours(self) -> Finding | None:
        """The finding new contours join: the current one when the reader chose it in this session; when the
        case has no finding, one named "Finding 1" is created (one undo step "New finding") if the reader
        agrees. None with a message otherwise."""
        f = self.focus.current()
        if f is not None and self.focus.chosen():
            return f
        case = self.controller.case
        if case.findings:  # shown first after opening is not chosen: never join a finding by default
            self.notify("Choose the finding these contours belong to (click it in the Findings list or pick it "
                        "in the Bilsky panel's selector).", "warning")
            return None
        label = next_finding_label(case, NEW_FINDING_LABEL)
        if not self.confirm_new_finding(label):
            self.notify("No contour drawn: contours belong to a finding.", "info")
            return None
        finding = Finding(label=label, reader=self.controller.reader)
        try:
            self.controller.add(finding, "New finding")
        except ValueError as exc:
            self.notify(f"The finding was not created: {exc}", "error")
            return None
        self.focus.set_current(finding.id, chosen=True)
        self.notify(f"Created \u201c{label}\u201d for the Bilsky contours.", "info")
        return finding

    def finding_contours_on(self, view: SliceView, finding: Finding | None = None,
                            kind: str | None = None) -> list[Contour]:
        """The current finding's (or ``finding``'s) contours on the plane ``view`` shows."""
        f = finding if finding is not None else self.focus.current()
        g, vol = view.plane_geometry(), view.volume()
        if f is None or g is None or vol is None:
            return []
        found = contours_on_plane(f.contours, g, vol.metadata.series_instance_uid or None)
        return [c for c in found if kind is None or c.kind == kind]

    # -- edits (each one undo step; the stored suggestion follows in the same step) -------------------------
    def draw_contour(self, view: SliceView, kind: str, points_lps: Sequence[np.ndarray],
                     geometry: PlaneGeometry, slice_index: int) -> Contour | None:
        """Add an outline drawn on ``view``'s plane ``slice_index`` ("Draw canal contour")."""
        if view.orientation() != "axial" or view.slice_index() != slice_index:
            self.notify("The view moved while drawing: draw the outline again.", "warning")
            return None
        problem = _outline_problem(points_lps, geometry)
        if problem:
            self.notify(f"The {CONTOUR_NAMES[kind]} outline was not added: {problem}", "warning")
            return None
        finding = self.finding_for_contours()
        if finding is None:
            return None
        vol, spec = view.volume(), view.plane_spec()
        sop = vol.sop_instance_uid(slice_index) if spec.is_acquired else None
        contour = Contour(kind=kind, points=[tuple(float(v) for v in p) for p in points_lps],
                          series_instance_uid=vol.metadata.series_instance_uid or None, sop_instance_uid=sop or None,
                          slice_index=int(slice_index), reader=self.controller.reader)
        replaced = self.finding_contours_on(view, finding, kind) if kind in SINGLE_KINDS else []
        ctl = self.controller
        try:
            with ctl.macro(f"Draw {kind} contour"):
                for old in replaced:
                    ctl.remove(old.id, f"Delete {kind} contour")
                ctl.add(contour, f"Draw {kind} contour", parent_id=finding.id)
                self._store_suggestion(finding.id, view)
        except ValueError as exc:
            self.notify(f"The {CONTOUR_NAMES[kind]} outline was not added: {exc}", "error")
            return None
        self.set_brush_kind(kind)
        return contour

    def brush_contour(self, view: SliceView, contour_id: str, points_lps: Sequence[np.ndarray]) -> bool:
        """Replace an outline's points after a brush stroke ("Brush sac contour")."""
        case = self.controller.case
        try:
            contour = case.get(contour_id)
            finding = case.contour_parent(contour_id)
        except KeyError:
            return False
        problem = _outline_problem(points_lps, view.plane_geometry())
        if problem:
            self.notify(f"The brush stroke was not kept: {problem}", "warning")
            return False
        ctl = self.controller
        try:
            with ctl.macro(f"Brush {contour.kind} contour"):
                ctl.update(contour_id, f"Brush {contour.kind} contour",
                           points=[tuple(float(v) for v in p) for p in points_lps])
                self._store_suggestion(finding.id, view)
        except ValueError as exc:
            self.notify(f"The brush stroke was not kept: {exc}", "error")
            return False
        return True

    def delete_contour(self, contour_id: str, view: SliceView | None = None) -> bool:
        """Remove an outline ("Delete cord contour"); the suggestion is recomputed on ``view`` when it shows
        the outline's slice."""
        case = self.controller.case
        try:
            contour = case.get(contour_id)
            finding = case.contour_parent(contour_id)
        except KeyError:
            return False
        if self.controller.read_only:
            self.notify(READ_ONLY_MESSAGE, "warning")
            return False
        shows = view is not None and view.plane_geometry() is not None and any(
            c.id == contour_id for c in self.finding_contours_on(view, finding))
        ctl = self.controller
        try:
            with ctl.macro(f"Delete {contour.kind} contour"):
                ctl.remove(contour_id, f"Delete {contour.kind} contour")
                if shows:
                    self._store_suggestion(finding.id, view)
        except ValueError as exc:
            self.notify(f"The contour was not deleted: {exc}", "error")
            return False
        return True

    def _store_suggestion(self, finding_id: str, view: SliceView) -> None:
        """Inside an edit's macro: set the finding's stored suggestion from the outlines on ``view``'s plane
        (or clear it when there is none); the final grade is left alone."""
        finding = self.controller.case.finding(finding_id)
        spec, g = view.plane_spec(), view.plane_geometry()
        result = suggest_from_contours(self.finding_contours_on(view, finding), g, (spec.height, spec.width))
        old = finding.bilsky
        if result.suggestion is not None:
            new = old.with_suggestion(result.suggestion)
            if (old.suggested_grade == new.suggested_grade and old.suggestion_reasons == new.suggestion_reasons
                    and old.suggestion_summary == new.suggestion_summary):
                return
            text = f"Suggest Bilsky grade {result.suggestion.grade}"
        elif old.suggested_grade is not None or old.suggestion_reasons:
            new = cleared_suggestion(old)
            text = "Clear suggested Bilsky grade"
        else:
            return
        self.controller.update(finding_id, text, bilsky=new)


def cleared_suggestion(old: BilskyAssessment) -> BilskyAssessment:
    """``old`` without the assistant's suggestion (the final grade kept)."""
    return old.model_copy(update={"suggested_grade": None, "suggestion_reasons": [], "suggestion_summary": "",
                                  "suggested_utc": None})


def _outline_problem(points_lps: Sequence[np.ndarray], geometry: PlaneGeometry | None) -> str | None:
    pts = np.asarray(points_lps, dtype=np.float64)
    if pts.ndim != 2 or len(pts) < 3:
        return "an outline needs at least three points."
    if not np.all(np.isfinite(pts)):
        return "the outline has points outside the image."
    if measure.polygon_area(pts) < 0.25:
        return "the outline encloses almost no area (less than 0.25 mm\u00b2)."
    if geometry is not None and not np.all(geometry.contains(pts)):
        return "the outline does not lie on the slice shown."
    return None


def _widget_distance(view: SliceView, a: np.ndarray, b: np.ndarray) -> float:
    pa, pb = view.display_to_widget(a), view.display_to_widget(b)
    return math.hypot(pa.x() - pb.x(), pa.y() - pb.y())


# ==========================================================================================================
# Drawing an outline
# ==========================================================================================================
class ContourTool(Tool):
    """Outline one structure: polygon clicks and freehand drags (see the module docstring)."""

    cursor = Qt.CrossCursor
    drag_px = 4.0  # a press and release further apart than this is a drag
    min_step_px = 3.0  # polygon vertices closer than this (widget px) are one vertex
    freehand_step_px = 2.0  # freehand points are taken at least this far apart
    close_px = 7.0  # a click this near the first vertex closes the polygon

    def __init__(self, session: ContourSession, kind: str) -> None:
        if kind not in CONTOUR_KINDS:
            raise ValueError(f"unknown contour kind {kind!r}")
        self.session = session
        self.kind = kind
        self.name = tool_name(kind)
        title = CONTOUR_NAMES[kind]
        self.label = {"canal": "Canal", "sac": "Sac", "cord": "Cord", "tumour": "Tumour"}[kind]
        self.shortcut = KIND_KEYS[kind]
        self.tooltip = (f"Bilsky contour: {title} ({self.shortcut}). Click vertices (double-click or Enter "
                        "closes) or drag a freehand outline; axial slice of worst compression.")
        self._reset()

    # -- state -------------------------------------------------------------------------------------------
    def _reset(self) -> None:
        self._view: SliceView | None = None
        self._geometry: PlaneGeometry | None = None
        self._slice = -1
        self._volume = None
        self._points: list[np.ndarray] = []  # display pixels
        self._mode: str | None = None  # None (first press undecided), "polygon", "freehand"
        self._pressing = False
        self._press_pos = QPointF()
        self._float: np.ndarray | None = None

    @property
    def drawing(self) -> bool:
        return self._view is not None

    def points(self) -> list[np.ndarray]:
        """The display points placed so far (a copy)."""
        return [p.copy() for p in self._points]

    def cancel(self) -> None:
        view = self._view
        self._reset()
        if view is not None:
            view.update()

    def activate(self) -> None:
        self.session.set_brush_kind(self.kind)

    def deactivate(self) -> None:
        self.cancel()

    def _same_plane(self, e: ViewEvent) -> bool:
        return (e.view is self._view and e.view.slice_index() == self._slice and e.view.volume() is self._volume
                and e.view.orientation() == "axial")

    # -- events --------------------------------------------------------------------------------------------
    def mouse_press(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton:
            return False
        if self.drawing and not self._same_plane(e):
            self.cancel()
        xy = np.array(e.display, dtype=np.float64)
        if not self.drawing:
            reason = self.session.refusal(e.view)
            if reason:
                self.session.notify(reason, "warning")
                return True
            self._view, self._geometry, self._slice = e.view, e.geometry, e.view.slice_index()
            self._volume = e.view.volume()
            self._points = [xy]
        elif (len(self._points) >= 3 and self._mode == "polygon"
              and _widget_distance(e.view, self._points[0], xy) <= self.close_px):
            self.finish()
            return True
        else:
            self._add(xy, self.min_step_px)
        self._pressing = True
        self._press_pos = QPointF(e.pos)
        self._float = xy
        e.view.update()
        return True

    def mouse_move(self, e: ViewEvent) -> bool:
        if not self.drawing or e.view is not self._view:
            return self._pressing
        xy = np.array(e.display, dtype=np.float64)
        self._float = xy
        if self._pressing:
            moved = math.hypot(e.pos.x() - self._press_pos.x(), e.pos.y() - self._press_pos.y())
            if self._mode is None and moved >= self.drag_px:
                self._mode = "freehand"
            if self._mode is not None:
                self._add(xy, self.freehand_step_px)
        e.view.update()
        return True

    def mouse_release(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton:
            return False
        was_pressing, self._pressing = self._pressing, False
        if not self.drawing or not was_pressing:
            return True
        if self._mode is None:
            self._mode = "polygon"
        elif self._mode == "freehand":
            self._add(np.array(e.display, dtype=np.float64), self.freehand_step_px)
            self.finish()
        e.view.update()
        return True

    def mouse_double_click(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton or not self.drawing or not self._same_plane(e):
            return False
        self._add(np.array(e.display, dtype=np.float64), self.min_step_px)
        self._pressing = False
        self.finish()
        return True

    def hover(self, e: ViewEvent) -> bool:
        if self.drawing and self._same_plane(e):
            self._float = np.array(e.display, dtype=np.float64)
            e.view.update()
            return True
        return False

    def key_press(self, view: SliceView, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key_Escape:
            if self.drawing:
                self.cancel()
            elif self.session.set_tool is not None:
                self.session.set_tool("navigate")
            return True
        if self.drawing and key in (Qt.Key_Return, Qt.Key_Enter):
            self.finish()
            return True
        if self.drawing and key == Qt.Key_Backspace:
            if len(self._points) > 1:
                self._points.pop()
            else:
                self.cancel()
            view.update()
            return True
        if not self.drawing and key in (Qt.Key_Delete, Qt.Key_Backspace):
            found = self.session.finding_contours_on(view, kind=self.kind)
            if found:
                self.session.delete_contour(found[-1].id, view)
            else:
                self.session.notify(f"No {CONTOUR_NAMES[self.kind]} outline of the current finding on this "
                                    "slice.", "info")
            return True
        return False

    def context_menu(self, e: ViewEvent, menu: QMenu) -> None:
        if self.drawing:
            menu.addAction("Cancel Outline  (Esc)", self.cancel)
            if len(self._points) >= 3:
                menu.addAction("Close Outline  (Enter)", self.finish)
            menu.addSeparator()
        found = self.session.finding_contours_on(e.view, kind=self.kind) if e.view.orientation() == "axial" else []
        if found:
            menu.addAction(f"Delete {CONTOUR_NAMES[self.kind].capitalize()} Outline",
                           lambda cid=found[-1].id, v=e.view: self.session.delete_contour(cid, v))
            menu.addSeparator()

    # -- the outline ---------------------------------------------------------------------------------------
    def _add(self, xy: np.ndarray, min_px: float) -> None:
        if self._points and _widget_distance(self._view, self._points[-1], xy) < min_px:
            return
        self._points.append(np.array(xy, dtype=np.float64))

    def finish(self) -> Contour | None:
        """Close the outline in progress and add it (one undo step), or say why not."""
        view, geometry, k, pts = self._view, self._geometry, self._slice, list(self._points)
        self._reset()
        if view is None or geometry is None:
            return None
        # a closing vertex on top of the first one is the same vertex
        if len(pts) > 3 and _widget_distance(view, pts[0], pts[-1]) < self.min_step_px:
            pts.pop()
        contour = self.session.draw_contour(view, self.kind, [geometry.to_lps(p) for p in pts], geometry, k)
        view.update()
        return contour

    def draws_on(self, ctx: OverlayContext) -> bool:
        return self.drawing and ctx.view is self._view and ctx.slice_index == self._slice and \
            ctx.volume is self._volume and ctx.orientation == "axial"

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        if not self.draws_on(ctx) or not self._points:
            return
        pts = [ctx.to_widget(p) for p in self._points]
        if self._float is not None and not (self._mode == "freehand" and self._pressing):
            pts_open = [*pts, ctx.to_widget(self._float)]
        else:
            pts_open = pts
        paint_outline(painter, QPolygonF(pts_open), self.kind, closed=False)
        if len(pts_open) >= 3:  # the closing edge, dashed
            painter.setPen(QPen(kind_color(self.kind), 1.2, Qt.DashLine))
            painter.drawLine(pts_open[-1], pts_open[0])
        painter.setPen(QPen(QColor(0, 0, 0, 200), 1))
        painter.setBrush(kind_color(self.kind))
        if self._mode != "freehand":
            for p in pts:
                painter.drawEllipse(p, 2.5, 2.5)
        first = pts[0]
        near_first = (self._float is not None and len(self._points) >= 3
                      and _widget_distance(ctx.view, self._points[0], self._float) <= self.close_px)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(QPen(QColor(255, 255, 255) if near_first else kind_color(self.kind), 1.5))
        painter.drawEllipse(first, self.close_px if near_first else 4.0, self.close_px if near_first else 4.0)
        painter.setFont(overlay_font(9.0))
        draw_text(painter, QRectF(first.x() + 8, first.y() - 22, 200, 16), Qt.AlignLeft | Qt.AlignVCenter,
                  CONTOUR_NAMES[self.kind], kind_color(self.kind))


# ==========================================================================================================
# The brush
# ==========================================================================================================
class ContourBrushTool(Tool):
    """Push an outline's edge out (press inside it) or in (press outside it); ``[`` / ``]`` change the
    radius (see the module docstring)."""

    name = tool_name("brush")
    label = "Brush"
    shortcut = BRUSH_KEY
    cursor = Qt.CrossCursor

    def __init__(self, session: ContourSession) -> None:
        self.session = session
        self.tooltip = ("Bilsky contour brush (Alt+B): press inside an outline and drag to push its edge out, "
                        "outside to push it in; [ and ] change the radius")
        self._hover: tuple[SliceView, np.ndarray] | None = None  # view, display point under the mouse
        self._reset()

    def _reset(self) -> None:
        self._view: SliceView | None = None
        self._geometry: PlaneGeometry | None = None
        self._target: Contour | None = None
        self._outline_mm: np.ndarray | None = None  # the edited outline (plane mm), live
        self._last_mm: np.ndarray | None = None

    @property
    def stroking(self) -> bool:
        return self._view is not None

    def cancel(self) -> None:
        view = self._view
        if self._target is not None:
            self.session.overlay.previews.pop(self._target.id, None)
        self._reset()
        if view is not None:
            view.update()

    def deactivate(self) -> None:
        self.cancel()
        if self._hover is not None:
            self._hover[0].update()
        self._hover = None

    def _mm(self, geometry: PlaneGeometry, display: np.ndarray) -> np.ndarray:
        return np.array([display[0] * geometry.x_spacing, display[1] * geometry.y_spacing])

    def target_for(self, view: SliceView, point_mm: np.ndarray) -> Contour | None:
        """The outline a stroke pressed at ``point_mm`` edits: the current finding's outline of the brush
        kind on the slice, the nearest edge first."""
        found = self.session.finding_contours_on(view, kind=self.session.brush_kind)
        if not found:
            return None
        g = view.plane_geometry()

        def edge_distance(c: Contour) -> float:
            p = plane_mm(g, c.points)
            if point_in_outline(point_mm, p):
                return 0.0
            d = np.hypot(*(p - point_mm).T)
            return float(d.min())

        return min(found, key=edge_distance)

    # -- events --------------------------------------------------------------------------------------------
    def mouse_press(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton:
            return False
        self.cancel()
        reason = self.session.refusal(e.view)
        if reason:
            self.session.notify(reason, "warning")
            return True
        if self.session.focus.current() is None:
            self.session.notify("Select the finding whose outline you want to brush.", "warning")
            return True
        point = self._mm(e.geometry, e.display)
        target = self.target_for(e.view, point)
        kind = self.session.brush_kind
        if target is None:
            self.session.notify(f"No {CONTOUR_NAMES[kind]} outline of the current finding on this slice to "
                                f"brush: draw one first ({KIND_KEYS[kind]}), or choose another kind for the "
                                "brush.", "warning")
            return True
        self._view, self._geometry, self._target = e.view, e.geometry, target
        self._outline_mm = plane_mm(e.geometry, target.points)
        self._last_mm = point
        self._dab(point)
        return True

    def _dab(self, point: np.ndarray) -> None:
        path = np.array([self._last_mm, point])
        self._outline_mm = brush_stroke(self._outline_mm, path, self.session.brush_radius)
        self._last_mm = point
        self.session.overlay.previews[self._target.id] = plane_mm_to_lps(self._geometry, self._outline_mm)
        self._view.update()

    def mouse_move(self, e: ViewEvent) -> bool:
        self._hover = (e.view, np.array(e.display, dtype=np.float64))
        if not self.stroking or e.view is not self._view:
            return self.stroking
        self._dab(self._mm(self._geometry, e.display))
        return True

    def mouse_release(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton:
            return False
        if not self.stroking:
            return True
        view, target, outline, g = self._view, self._target, self._outline_mm, self._geometry
        self.session.overlay.previews.pop(target.id, None)
        self._reset()
        before = plane_mm(g, target.points)
        if outline is not None and (len(outline) != len(before) or not np.allclose(outline, before)):
            self.session.brush_contour(view, target.id, plane_mm_to_lps(g, outline))
        view.update()
        return True

    def hover(self, e: ViewEvent) -> bool:
        self._hover = (e.view, np.array(e.display, dtype=np.float64))
        e.view.update()
        return True

    def key_press(self, view: SliceView, event: QKeyEvent) -> bool:
        key = event.key()
        if key == Qt.Key_Escape:
            if self.stroking:
                self.cancel()
            elif self.session.set_tool is not None:
                self.session.set_tool("navigate")
            return True
        if key in (Qt.Key_BracketLeft, Qt.Key_BracketRight):
            r = self.session.brush_radius
            self.session.set_brush_radius(r * BRUSH_STEP if key == Qt.Key_BracketRight else r / BRUSH_STEP)
            self.session.notify(f"Brush radius {self.session.brush_radius:.1f} mm", "info")
            view.update()
            return True
        return False

    def context_menu(self, e: ViewEvent, menu: QMenu) -> None:
        sub = menu.addMenu("Brush Edits")
        group = QActionGroup(sub)
        for kind in CONTOUR_KINDS:
            a = QAction(CONTOUR_NAMES[kind].capitalize(), sub)
            a.setCheckable(True)
            a.setChecked(kind == self.session.brush_kind)
            a.triggered.connect(lambda _=False, k=kind: self.session.set_brush_kind(k))
            group.addAction(a)
            sub.addAction(a)
        r = self.session.brush_radius
        menu.addAction(f"Smaller Brush  ([)  {r:.1f} mm",
                       lambda: self.session.set_brush_radius(self.session.brush_radius / BRUSH_STEP))
        menu.addAction("Larger Brush  (])",
                       lambda: self.session.set_brush_radius(self.session.brush_radius * BRUSH_STEP))
        menu.addSeparator()

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        if self._hover is None or self._hover[0] is not ctx.view or ctx.orientation != "axial":
            return
        centre = ctx.to_widget(self._hover[1])
        radius_px = self.session.brush_radius * ctx.widget_px_per_mm
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        color = kind_color(self.session.brush_kind)
        # white rim (readable on the kind's own fill) with a dark halo, the kind's colour just inside it
        painter.setPen(QPen(QColor(0, 0, 0, 170), 3.2))
        painter.drawEllipse(centre, radius_px, radius_px)
        painter.setPen(QPen(QColor(255, 255, 255, 235), 1.4))
        painter.drawEllipse(centre, radius_px, radius_px)
        if radius_px > 4:
            painter.setPen(QPen(color, 1.2))
            painter.drawEllipse(centre, radius_px - 2.0, radius_px - 2.0)
        painter.setPen(QPen(QColor(255, 255, 255, 200), 1.0))
        painter.drawLine(centre + QPointF(-3, 0), centre + QPointF(3, 0))
        painter.drawLine(centre + QPointF(0, -3), centre + QPointF(0, 3))
        painter.setFont(overlay_font(9.0))
        draw_text(painter, QRectF(centre.x() + radius_px + 4, centre.y() - radius_px - 16, 220, 16),
                  Qt.AlignLeft | Qt.AlignVCenter,
                  f"Brush: {CONTOUR_NAMES[self.session.brush_kind]} \u00b7 {self.session.brush_radius:.1f} mm")


def contour_tools(session: ContourSession) -> list[Tool]:
    """The four outline tools and the brush, in toolbar order."""
    return [*(ContourTool(session, k) for k in CONTOUR_KINDS), ContourBrushTool(session)]

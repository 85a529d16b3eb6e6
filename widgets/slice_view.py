"""`SliceView`: one plane (axial, sagittal or coronal) of a `Volume`, drawn with its true physical shape.

A thin Qt view over Qt-free logic (imaging/display.py): ``plane_spec`` cuts the plane (numpy views),
``Windower`` maps it to uint8 through a lookup table, ``view_transform`` fits its millimetre shape into the
widget (non-square pixels and thick-slice reformats are not distorted; gantry-tilt reformats are drawn
sheared, as they are). The uint8 buffer becomes a QImage without a copy.

Navigation API (for tools, panels and the main window)::

    view.set_volume(volume, "sagittal", window_level)   # WindowLevel is shared per series
    view.volume(); view.orientation(); view.plane_spec()
    view.slice_index(); view.slice_count(); view.set_slice(k); view.step_slice(+1)
    view.next_image(+1)                  # the next image in the series' own order (wheel down, Down key)
    view.image_number_text()             # "Im 60/146": the DICOM InstanceNumber, as PACS viewers show it
    view.show_lps(point)                 # go to the plane through an LPS point (no pan)
    view.plane_geometry()                # PlaneGeometry of the current plane (display px <-> LPS mm)
    view.display_to_widget((x, y)); view.widget_to_display(pos); view.widget_to_lps(pos)
    view.display_transform()             # QTransform display px -> widget px
    view.set_tool(tool); view.add_overlay(overlay); view.remove_overlay(overlay)
    view.corner_providers.append(("bottom_left", fn))   # extra corner text: fn(ctx) -> str | None
    view.request_cursor(lps)             # ask the MPR group to move the shared cursor there
    view.set_turn(turn); view.turn       # flip/rotate on screen (imaging/viewer/screen.py); R resets it

Signals: ``sliceChanged(int)``, ``planeChanged()`` (volume/orientation), ``viewChanged()`` (pan, zoom,
slice: peers repaint reference lines), ``hoverChanged(object)`` (a `HoverInfo` or None),
``cursorRequested(object)`` (LPS point; Shift+click / crosshair tool), ``activated(object)`` (clicked or
focused: the main window's "active view"), ``contextMenuRequested(object, object)`` (ViewEvent, QMenu:
add actions before it shows), ``maximiseRequested()`` (a double-click no tool took: maximise / restore).

Events: see widgets/tools.py for the order (Shift+click crosshair, active tool, navigation fallback).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QRegion,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from imaging.display import PlaneSpec, Windower, plane_spec, sample, screen_matrix, view_transform
from imaging.geometry import PlaneGeometry
from imaging.viewer import screen
from imaging.volume import Volume
from widgets.overlays import PLANE_COLORS, Overlay, OverlayContext, default_overlays, draw_text, overlay_font
from widgets.series_browser import SERIES_MIME
from widgets.tools import NavigateTool, Tool, ViewEvent
from widgets.window_level import WindowLevel

_log = logging.getLogger(__name__)
BACKGROUND = QColor(0, 0, 0)
ZOOM_MIN, ZOOM_MAX = 0.1, 40.0
SETTLE_MS = 150  # after the last slice/window/zoom/pan change, redraw with interpolation
MAXIMISE_TOOLS = ("navigate", "crosshair")  # tools during which a double-click maximises the view


@dataclass(frozen=True)
class HoverInfo:
    """What is under the mouse: for the status bar."""

    view: SliceView
    lps: np.ndarray
    voxel: tuple[int, int, int] | None  # (column, row, slice)
    value: float | None
    unit: str  # "HU" for CT, "" otherwise

    def text(self) -> str:
        parts = []
        if self.value is not None:
            v = f"{self.value:.0f}" if float(self.value).is_integer() else f"{self.value:.4g}"
            parts.append(f"{self.unit or 'Value'} {v}" if self.unit else f"Value {v}")
        else:
            parts.append("outside the image")
        vol = self.view.volume()
        if vol is not None and not vol.orientation_known:
            parts.append("orientation unknown (no ImageOrientationPatient): no patient position")
        else:
            x, y, z = self.lps
            parts.append(f"LPS ({x:.1f}, {y:.1f}, {z:.1f}) mm")
        if self.voxel is not None:
            c, r, s = self.voxel
            parts.append(f"voxel (col {c}, row {r}, slice {s})")
        return "   |   ".join(parts)


class SliceView(QWidget):
    """One plane of a volume with navigation, tools and overlays. See the module docstring."""

    sliceChanged = Signal(int)
    planeChanged = Signal()
    viewChanged = Signal()
    hoverChanged = Signal(object)
    cursorRequested = Signal(object)
    activated = Signal(object)
    contextMenuRequested = Signal(object, object)
    maximiseRequested = Signal()  # double-click that no tool used
    seriesDropped = Signal(str)  # a series key dragged from the browser onto this view
    pathsDropped = Signal(list)  # files/folders dropped on this view

    def __init__(self, parent: QWidget | None = None, name: str = "") -> None:
        super().__init__(parent)
        self.setObjectName(name or "SliceView")
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(120, 120)
        self.setAcceptDrops(True)
        self._volume: Volume | None = None
        self._spec: PlaneSpec | None = None
        self._k = 0
        self._next = 1  # slice-index step to the next image in the series' own order (see next_image)
        self._wl: WindowLevel | None = None
        self._windower: Windower | None = None
        self._frame_key: tuple | None = None
        self._frame: np.ndarray | None = None  # uint8 buffer owned by the windower
        self._qimage: QImage | None = None
        self._geometry_cache: tuple[int, PlaneGeometry] | None = None
        self._transform_cache: tuple | None = None
        self._zoom = 1.0
        self._pan = (0.0, 0.0)
        self.turn: tuple[int, int, int, int] = screen.IDENTITY  # flip/rotation on screen
        self._tool: Tool = NavigateTool()
        self._overlays: list[Overlay] = default_overlays()
        self._peers: Callable[[], list[SliceView]] = lambda: []
        self._drag: str | None = None  # "tool", "pan", "zoom", "cursor", "menu"
        self._press_pos = QPointF()
        self._last_pos = QPointF()
        self._zoom_anchor = QPointF()
        self._wheel_accum = 0.0
        self.cursor_lps: np.ndarray | None = None
        self.show_patient_info = True
        self.show_reference_lines = True
        self.show_cursor = True  # the shared MPR cursor's ring (View > MPR Cursor)
        self.show_overlays = True
        self.smooth = True  # bilinear interpolation when drawing (as OHIF/Slicer)
        # Interactive rendering (as VTK/3D Slicer do): while the slice, window, zoom or pan is changing,
        # frames are drawn without interpolation (about half the cost); SETTLE_MS after the last change the
        # view redraws smoothed. Scrolling stays fluid and a still image is always interpolated.
        self._interactive = False
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_MS)
        self._settle_timer.timeout.connect(self._settle)
        self.active = False  # drawn with a highlighted border when it is the main window's active view
        self.placeholder = "Open a folder or drop DICOM files here"
        self.corner_providers: list[tuple[str, Callable[[OverlayContext], str | None]]] = []

    # ------------------------------------------------------------------------------------------------
    # Content
    # ------------------------------------------------------------------------------------------------
    def set_volume(self, volume: Volume | None, orientation: str = "axial",
                   window_level: WindowLevel | None = None, slice_index: int | None = None) -> None:
        """Show ``orientation`` of ``volume``; ``window_level`` is shared with the series' other views (a
        new one is made when None). Starts on the middle plane unless ``slice_index`` is given."""
        if self._wl is not None:
            self._wl.changed.disconnect(self._on_window_changed)
        if volume is not self._volume:
            self.turn = screen.IDENTITY  # a new series starts unflipped, as in OHIF
        self._volume = volume
        self._spec = plane_spec(volume, orientation) if volume is not None else None
        self._wl = (window_level or WindowLevel(volume)) if volume is not None else None
        if self._wl is not None:
            self._wl.changed.connect(self._on_window_changed)
        self._windower = Windower(volume.array.dtype) if volume is not None else None
        self._frame_key = None
        self._geometry_cache = None
        self._zoom, self._pan = 1.0, (0.0, 0.0)
        if self._spec is not None:
            self._k = self._spec.count // 2 if slice_index is None else self._clamp(slice_index)
        else:
            self._k = 0
        self._next = self._series_order_step()
        self.cursor_lps = None
        self.planeChanged.emit()
        self.sliceChanged.emit(self._k)
        self.viewChanged.emit()
        self.update()

    def set_orientation(self, orientation: str) -> None:
        """Show another plane of the same volume (keeps the window)."""
        if self._volume is not None:
            centre = self.cursor_lps
            self.set_volume(self._volume, orientation, self._wl)
            if centre is not None:
                self.show_lps(centre)
                self.cursor_lps = centre

    def volume(self) -> Volume | None:
        return self._volume

    def orientation(self) -> str:
        return self._spec.orientation if self._spec is not None else ""

    def plane_spec(self) -> PlaneSpec | None:
        return self._spec

    def window_level(self) -> WindowLevel | None:
        return self._wl

    def slice_index(self) -> int:
        return self._k

    def slice_count(self) -> int:
        return self._spec.count if self._spec is not None else 0

    def plane_geometry(self) -> PlaneGeometry | None:
        """The `PlaneGeometry` of the plane shown (display pixel <-> LPS mm), or None when empty."""
        if self._spec is None:
            return None
        if self._geometry_cache is None or self._geometry_cache[0] != self._k:
            self._geometry_cache = (self._k, self._spec.geometry(self._k))
        return self._geometry_cache[1]

    # ------------------------------------------------------------------------------------------------
    # Navigation
    # ------------------------------------------------------------------------------------------------
    def _clamp(self, k: int) -> int:
        return int(min(max(int(k), 0), self.slice_count() - 1)) if self._spec is not None else 0

    def set_slice(self, k: int) -> None:
        if self._spec is None:
            return
        k = self._clamp(k)
        if k != self._k:
            self._k = k
            self._interacting()
            self.sliceChanged.emit(k)
            self.viewChanged.emit()
            self.update()

    def step_slice(self, n: int) -> None:
        """Move ``n`` planes in slice-index order (see :meth:`next_image` for the reader's order)."""
        self.set_slice(self._k + n)

    def next_image(self, n: int = 1) -> None:
        """Move ``n`` images on in the series' own order (negative: back), as the wheel and Up/Down do:
        OHIF and Weasis scroll an axial series acquired head first towards the feet on wheel down."""
        self.set_slice(self._k + n * self._next)

    def next_step(self) -> int:
        """+1 or -1: the slice-index step from one image to the next in the series' own order."""
        return self._next

    def _series_order_step(self) -> int:
        """The series' own order: on the acquired plane, the DICOM InstanceNumber's; else (reformats, or no
        InstanceNumber) the order such series are usually acquired in -- axial head to feet, sagittal right
        to left, coronal front to back."""
        spec, vol = self._spec, self._volume
        if spec is None or vol is None or spec.count < 2:
            return 1
        if spec.is_acquired:
            known = [(k, n) for k, n in enumerate(vol.metadata.instance_numbers[:spec.count]) if n is not None]
            if len(known) >= 2 and known[0][1] != known[-1][1]:
                return 1 if (known[-1][1] - known[0][1]) > 0 else -1
        step = np.asarray(spec.geometry(1).origin, dtype=float) - np.asarray(spec.geometry(0).origin, dtype=float)
        axis = int(np.argmax(np.abs(spec.geometry(0).normal)))
        towards = {0: 1.0, 1: 1.0, 2: -1.0}[axis]  # +L (right to left), +P (front to back), -S (head to feet)
        return 1 if step[axis] * towards > 0 else -1

    def image_position(self, k: int | None = None) -> int:
        """1-based position of plane ``k`` (default: the one shown) in the series' own order."""
        k = self._k if k is None else k
        return k + 1 if self._next > 0 else self.slice_count() - k

    def image_number_text(self) -> str:
        """The image number as PACS viewers show it: ``"Im 60/146"`` (the DICOM InstanceNumber of the acquired
        image; ``"Im 1060 (60/146)"`` when the numbers do not run 1..N) or, on a reformat, ``"Slice 87/200"``
        (the position in the scroll order)."""
        if self._spec is None or self._volume is None:
            return ""
        count, pos = self._spec.count, self.image_position()
        if not self._spec.is_acquired:
            return f"Slice {pos}/{count}"
        number = self._volume.instance_number(self._k)
        if number is None:
            gap = self._k < len(self._volume.metadata.sop_instance_uids) and \
                not self._volume.metadata.sop_instance_uids[self._k]
            return f"Im \u2014 ({pos}/{count}{', missing image' if gap else ''})"
        return f"Im {number}/{count}" if number == pos else f"Im {number} ({pos}/{count})"

    def show_lps(self, point: np.ndarray | tuple[float, float, float]) -> None:
        """Go to the plane through ``point`` (LPS mm)."""
        if self._spec is not None:
            self.set_slice(self._spec.nearest_slice(point))

    def set_cursor(self, point: np.ndarray | None, navigate: bool = True) -> None:
        """Show the shared MPR cursor at ``point`` (and go to its plane when ``navigate``)."""
        if navigate and point is not None:
            self.show_lps(point)
        self.cursor_lps = None if point is None else np.asarray(point, dtype=float)
        self.update()

    def request_cursor(self, lps: np.ndarray) -> None:
        """Ask whoever manages the MPR cursor to move it to ``lps`` (emits ``cursorRequested``)."""
        self.cursorRequested.emit(np.asarray(lps, dtype=float))

    def set_peers(self, peers: Callable[[], list[SliceView]]) -> None:
        """The views whose planes this view draws as reference lines (set by the MPR group)."""
        self._peers = peers

    def peers(self) -> list[SliceView]:
        return [p for p in self._peers() if p is not self and p.isVisible() and p.plane_geometry() is not None
                and self._same_frame(p)]

    def _same_frame(self, other: SliceView) -> bool:
        a, b = self._volume, other.volume()
        if a is None or b is None:
            return False
        if a is b:
            return True
        fa, fb = a.metadata.frame_of_reference_uid, b.metadata.frame_of_reference_uid
        return bool(fa) and fa == fb

    def zoom_factor(self) -> float:
        """Screen pixels per image (x) pixel."""
        t = self._transform_matrix()
        return float(np.hypot(t[0, 0], t[1, 0])) if t is not None else 1.0

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom (1 = fit) keeping the point under ``anchor`` (widget px; default the centre) fixed."""
        zoom = min(max(zoom, ZOOM_MIN), ZOOM_MAX)
        if self._spec is None:
            self._zoom = zoom
            return
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        before = self.widget_to_display(anchor)
        self._zoom = zoom
        after = self.display_to_widget(before)
        self._pan = (self._pan[0] + anchor.x() - after.x(), self._pan[1] + anchor.y() - after.y())
        self._interacting()
        self.viewChanged.emit()
        self.update()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self._zoom * factor, anchor)

    def pan_by(self, dx: float, dy: float) -> None:
        self._pan = (self._pan[0] + dx, self._pan[1] + dy)
        self._interacting()
        self.viewChanged.emit()
        self.update()

    def set_turn(self, turn: screen.Turn) -> None:
        """Flip/rotate the image on screen (`imaging.viewer.screen`); the letters follow, the pan resets."""
        turn = screen.as_turn(turn)
        if turn != self.turn:
            self.turn = turn
            self._pan = (0.0, 0.0)
            self.viewChanged.emit()
            self.update()

    def reset_view(self) -> None:
        """R: fit to the view, centre it, undo flips and rotations, and restore the series' default window."""
        self._zoom, self._pan = 1.0, (0.0, 0.0)
        self.turn = screen.IDENTITY
        if self._wl is not None:
            self._wl.reset()
        self.viewChanged.emit()
        self.update()

    # ------------------------------------------------------------------------------------------------
    # Coordinate maps
    # ------------------------------------------------------------------------------------------------
    def _transform_matrix(self) -> np.ndarray | None:
        g = self.plane_geometry()
        if g is None:
            return None
        # The display->widget map depends on the plane's pixel shape (not on the slice), size, zoom and pan.
        key = (id(self._spec), self.width(), self.height(), self._zoom, self._pan, self.turn)
        if self._transform_cache is None or self._transform_cache[0] != key:
            t = view_transform(screen_matrix(g, self.turn), (self._spec.width, self._spec.height),
                               (float(self.width()), float(self.height())), self._zoom, self._pan, margin=4.0)
            qt = QTransform(t[0, 0], t[1, 0], t[0, 1], t[1, 1], t[0, 2], t[1, 2])
            self._transform_cache = (key, t, qt)
        return self._transform_cache[1]

    def display_transform(self) -> QTransform:
        """Display pixel -> widget pixel (identity when empty)."""
        if self._transform_matrix() is None:
            return QTransform()
        return QTransform(self._transform_cache[2])

    def display_to_widget(self, xy: tuple[float, float] | np.ndarray) -> QPointF:
        return self.display_transform().map(QPointF(float(xy[0]), float(xy[1])))

    def widget_to_display(self, pos: QPointF) -> np.ndarray:
        inv, _ = self.display_transform().inverted()
        p = inv.map(QPointF(pos))
        return np.array([p.x(), p.y()])

    def widget_to_lps(self, pos: QPointF) -> np.ndarray | None:
        g = self.plane_geometry()
        return None if g is None else g.to_lps(self.widget_to_display(pos))

    def lps_to_widget(self, lps: np.ndarray) -> QPointF | None:
        g = self.plane_geometry()
        if g is None:
            return None
        x, y, _ = g.from_lps(np.asarray(lps, dtype=float))
        return self.display_to_widget((x, y))

    # ------------------------------------------------------------------------------------------------
    # Tools and overlays
    # ------------------------------------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self._tool = tool
        self.setCursor(tool.cursor)

    def tool(self) -> Tool:
        return self._tool

    def add_overlay(self, overlay: Overlay) -> None:
        if overlay not in self._overlays:
            self._overlays.append(overlay)
            self.update()

    def remove_overlay(self, overlay: Overlay) -> None:
        if overlay in self._overlays:
            self._overlays.remove(overlay)
            self.update()

    def overlays(self) -> list[Overlay]:
        return list(self._overlays)

    def overlay_context(self) -> OverlayContext | None:
        g = self.plane_geometry()
        if g is None:
            return None
        return OverlayContext(self, self.display_transform(), g, self._spec, self._k)

    # ------------------------------------------------------------------------------------------------
    # Painting (hot path)
    # ------------------------------------------------------------------------------------------------
    def _on_window_changed(self) -> None:
        self._interacting()
        self.update()

    def _interacting(self) -> None:
        """Something the user drives changed: draw without interpolation until it settles."""
        self._interactive = True
        self._settle_timer.start()

    def _settle(self) -> None:
        self._interactive = False
        if self.smooth:
            self.update()

    def is_settled(self) -> bool:
        """True when the view is drawn at full quality (no change in the last ``SETTLE_MS``)."""
        return not self._interactive

    def frame(self) -> QImage | None:
        """The current plane as an RGB32 QImage over the windower's buffer (valid until the next frame)."""
        if self._volume is None or self._spec is None or self._wl is None:
            return None
        wl = self._wl
        # pixel_generation: a volume still loading gains slices (and may widen to float32) after it is shown
        key = (self._k, wl.generation, id(wl), self._volume.pixel_generation)
        if key != self._frame_key or self._qimage is None:
            if self._windower.dtype != self._volume.array.dtype:
                self._windower = Windower(self._volume.array.dtype)
            self._windower.set_window(wl.center, wl.width, wl.invert)
            plane = self._spec.extract(self._volume.array, self._k)
            self._frame = self._windower.apply_rgb32(plane)
            h, w = self._frame.shape
            # No copy: the QImage reads the windower's buffer, which lives until the next frame.
            # Opaque 0xFFgggggg pixels are also valid premultiplied ARGB, the raster engine's native format:
            # drawn scaled without a per-frame conversion.
            self._qimage = QImage(self._frame.data, w, h, 4 * w, QImage.Format_ARGB32_Premultiplied)
            self._frame_key = key
        return self._qimage

    def paintEvent(self, event) -> None:  # noqa: ANN001
        p = QPainter(self)
        img = self.frame()
        if img is None:
            p.fillRect(self.rect(), BACKGROUND)
            p.setFont(overlay_font(11))
            draw_text(p, QRectF(self.rect()), Qt.AlignCenter | Qt.TextWordWrap, self.placeholder,
                      QColor(140, 146, 156))
            self._paint_border(p)
            p.end()
            return
        t = self.display_transform()
        self._fill_background(p, t, img)
        p.setTransform(t)
        p.setRenderHint(QPainter.SmoothPixmapTransform, self.smooth and not self._interactive)
        p.drawImage(QRectF(-0.5, -0.5, img.width(), img.height()), img)
        p.resetTransform()
        p.setRenderHint(QPainter.SmoothPixmapTransform, False)
        if self.show_overlays:
            ctx = OverlayContext(self, t, self.plane_geometry(), self._spec, self._k)
            painters = [ov.paint for ov in sorted(self._overlays, key=lambda o: getattr(o, "z", 0))
                        if getattr(ov, "visible", True)]
            for paint in [*painters, self._tool.paint]:
                p.save()
                try:
                    paint(p, ctx)
                except Exception:  # noqa: BLE001 - one broken overlay must not blank the image
                    _log.exception("overlay %r failed", paint)
                finally:
                    p.restore()
        self._paint_border(p)
        p.end()

    def _fill_background(self, p: QPainter, t: QTransform, img: QImage) -> None:
        """Black outside the image only (the image is opaque): saves a full-widget fill per frame."""
        full = QRegion(self.rect())
        if t.type().value <= QTransform.TxScale.value:  # axis-aligned: the image covers a rectangle
            inner = t.mapRect(QRectF(-0.5, -0.5, img.width(), img.height())).adjusted(1, 1, -1, -1)
            if inner.width() > 0 and inner.height() > 0:
                full = full.subtracted(QRegion(inner.toAlignedRect().adjusted(1, 1, -1, -1)))
        for r in full:
            p.fillRect(r, BACKGROUND)

    def _paint_border(self, p: QPainter) -> None:
        color = PLANE_COLORS.get(self.orientation(), QColor(90, 96, 106)) if self.active else QColor(40, 44, 52)
        w, h = self.width(), self.height()
        for r in ((0, 0, w, 1), (0, h - 1, w, 1), (0, 0, 1, h), (w - 1, 0, 1, h)):
            p.fillRect(*r, color)

    # ------------------------------------------------------------------------------------------------
    # Events
    # ------------------------------------------------------------------------------------------------
    def _view_event(self, pos: QPointF, qt_event, button=Qt.NoButton, buttons=Qt.NoButton,
                    modifiers=Qt.NoModifier, wheel_steps: float = 0.0) -> ViewEvent | None:
        g = self.plane_geometry()
        if g is None:
            return None
        disp = self.widget_to_display(pos)
        return ViewEvent(self, QPointF(pos), disp, g.to_lps(disp), g, button, buttons, modifiers,
                         wheel_steps, qt_event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.MouseFocusReason)
        self.activated.emit(self)
        pos = event.position()
        self._press_pos = QPointF(pos)
        self._last_pos = QPointF(pos)
        ev = self._view_event(pos, event, event.button(), event.buttons(), event.modifiers())
        if ev is None:
            return
        if event.button() == Qt.LeftButton and event.modifiers() & Qt.ShiftModifier:
            self._drag = "cursor"
            self.request_cursor(ev.lps)
        elif self._tool.mouse_press(ev):
            self._drag = "tool"
        elif event.button() == Qt.MiddleButton:
            self._drag = "pan"
        elif event.button() == Qt.RightButton:
            self._drag = "zoom"
            self._zoom_anchor = QPointF(pos)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        ev = self._view_event(pos, event, Qt.NoButton, event.buttons(), event.modifiers())
        if ev is None:
            return
        if self._drag == "cursor":
            self.request_cursor(ev.lps)
        elif self._drag == "tool":
            self._tool.mouse_move(ev)
        elif self._drag == "pan":
            self.pan_by(pos.x() - self._last_pos.x(), pos.y() - self._last_pos.y())
        elif self._drag == "zoom":
            dy = pos.y() - self._last_pos.y()
            self.zoom_by(math.exp(-dy / 150.0), self._zoom_anchor)
        elif event.buttons() == Qt.NoButton:
            self._tool.hover(ev)
        self._last_pos = QPointF(pos)
        self._emit_hover(ev)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        ev = self._view_event(pos, event, event.button(), event.buttons(), event.modifiers())
        drag, self._drag = self._drag, None
        if ev is None:
            return
        if drag == "tool":
            self._tool.mouse_release(ev)
        elif drag == "zoom" and event.button() == Qt.RightButton:
            moved = math.hypot(pos.x() - self._press_pos.x(), pos.y() - self._press_pos.y())
            if moved < 4:
                self._show_context_menu(ev, event.globalPosition().toPoint())
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        ev = self._view_event(event.position(), event, event.button(), event.buttons(), event.modifiers())
        if ev is not None and self._tool.mouse_double_click(ev):
            return
        # only while navigating: a double-click while measuring or outlining must not change the layout
        if event.button() == Qt.LeftButton and not event.modifiers() \
                and getattr(self._tool, "name", "") in MAXIMISE_TOOLS:
            self.maximiseRequested.emit()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        # Right button is zoom-drag; the menu opens on a right click without a drag (mouseReleaseEvent)
        # or from the keyboard's menu key.
        if event.reason() == QContextMenuEvent.Keyboard:
            ev = self._view_event(QPointF(self.width() / 2, self.height() / 2), event)
            if ev is not None:
                self._show_context_menu(ev, self.mapToGlobal(self.rect().center()))
        event.accept()

    def _show_context_menu(self, ev: ViewEvent, global_pos) -> None:  # noqa: ANN001
        menu = QMenu(self)
        self._tool.context_menu(ev, menu)
        self.contextMenuRequested.emit(ev, menu)
        if not menu.isEmpty():
            menu.popup(global_pos)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            steps = event.angleDelta().x() / 120.0
        pos = event.position()
        ev = self._view_event(pos, event, Qt.NoButton, event.buttons(), event.modifiers(), steps)
        if ev is None:
            return
        if event.modifiers() & Qt.ControlModifier:
            self.zoom_by(1.15 ** steps, QPointF(pos))
        elif not self._tool.wheel(ev):
            # wheel towards the user (negative) = next image, as OHIF / Weasis
            self._wheel_accum -= steps
            n = int(self._wheel_accum)  # fractional high-resolution deltas accumulate
            if n:
                self._wheel_accum -= n
                self.next_image(n)
            self._emit_hover(self._view_event(pos, event))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._spec is None:
            super().keyPressEvent(event)
            return
        if self._tool.key_press(self, event):
            return
        key = event.key()
        mods = event.modifiers() & ~Qt.KeypadModifier
        steps = {Qt.Key_Down: 1, Qt.Key_Up: -1, Qt.Key_PageDown: 10, Qt.Key_PageUp: -10}
        if key in steps and not mods:
            self.next_image(steps[key])
        elif key == Qt.Key_Home and not mods:  # the first image of the series
            self.set_slice(0 if self._next > 0 else self.slice_count() - 1)
        elif key == Qt.Key_End and not mods:
            self.set_slice(self.slice_count() - 1 if self._next > 0 else 0)
        elif Qt.Key_1 <= key <= Qt.Key_5 and not mods:
            if self._wl is not None:
                self._wl.apply_preset(key - Qt.Key_1)
        elif key == Qt.Key_R and not mods:
            self.reset_view()
        elif key == Qt.Key_I and not mods:
            if self._wl is not None:
                self._wl.toggle_invert()
        elif key == Qt.Key_H and not mods:
            self.toggle_patient_info()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- drag and drop: series from the browser, files/folders from the desktop ------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: ANN001
        md = event.mimeData()
        if md.hasFormat(SERIES_MIME) or md.hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: ANN001
        md = event.mimeData()
        if md.hasFormat(SERIES_MIME):
            self.activated.emit(self)
            self.seriesDropped.emit(bytes(md.data(SERIES_MIME)).decode())
            event.acceptProposedAction()
        elif md.hasUrls():
            paths = [u.toLocalFile() for u in md.urls() if u.isLocalFile()]
            if paths:
                self.activated.emit(self)
                self.pathsDropped.emit(paths)
                event.acceptProposedAction()

    def toggle_patient_info(self) -> None:
        self.show_patient_info = not self.show_patient_info
        self.update()

    def focusInEvent(self, event) -> None:  # noqa: ANN001
        self.activated.emit(self)
        super().focusInEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: ANN001
        self.hoverChanged.emit(None)
        super().leaveEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        self.viewChanged.emit()

    def _emit_hover(self, ev: ViewEvent | None) -> None:
        if ev is None or self._volume is None:
            self.hoverChanged.emit(None)
            return
        s = sample(self._volume, self._spec, self._k, float(ev.display[0]), float(ev.display[1]))
        unit = self._volume.metadata.rescale_units or ("HU" if self._volume.is_ct else "")
        self.hoverChanged.emit(HoverInfo(self, s.lps, s.voxel, s.value, unit))

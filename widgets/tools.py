"""Slice-view interaction: pluggable tools receiving view-space events.

How a mouse/key event travels through a `SliceView` (widgets/slice_view.py):

1. **Shift + left click/drag** always moves the shared MPR cursor (crosshair), whatever the tool.
2. The **active tool** gets the event as a `ViewEvent` (widget position, display-pixel position, LPS mm,
   the plane's `PlaneGeometry`, buttons, modifiers). It returns True when it consumed the event.
3. Unconsumed events fall back to **navigation**: middle-drag pans, right-drag zooms (a right click without
   a drag opens the view's context menu), Ctrl+wheel zooms, the wheel changes the slice; keys Up/Down,
   PgUp/PgDn, Home/End, 1..5, R, I, H are handled by the view.

One tool instance serves every view (the event says which view). A measurement tool typically::

    class LengthTool(Tool):
        name, label, shortcut = "length", "Length", "L"
        cursor = Qt.CrossCursor
        def mouse_press(self, e):          # e.lps is the LPS point (mm) under the mouse, on e.geometry
            if e.button != Qt.LeftButton: return False
            self.start = e.lps; return True
        def mouse_move(self, e): ...; e.view.update(); return True
        def mouse_release(self, e): push an undo command that adds the measurement to the Case; return True
        def key_press(self, view, event): Esc cancels: return True when handled
        def paint(self, painter, ctx): draw the in-progress line (ctx: an OverlayContext)

Register it from a feature module: ``window.add_tool(LengthTool())`` (toolbar button, Tools menu entry,
shortcut, exclusive with the others). Tools are plain Python objects (no QObject needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QPointF, Qt

from imaging.geometry import PlaneGeometry

if TYPE_CHECKING:  # pragma: no cover
    from PySide6.QtGui import QKeyEvent, QMenu, QPainter

    from widgets.overlays import OverlayContext
    from widgets.slice_view import SliceView


@dataclass
class ViewEvent:
    """A mouse or wheel event in a slice view, with its position in every coordinate system."""

    view: SliceView
    pos: QPointF  # widget pixels (logical)
    display: np.ndarray  # (x, y) display pixels of the plane image (pixel centres at integers)
    lps: np.ndarray  # (L, P, S) mm; on the plane
    geometry: PlaneGeometry  # of the plane shown when the event happened
    button: Qt.MouseButton = Qt.NoButton
    buttons: Qt.MouseButton = Qt.NoButton
    modifiers: Qt.KeyboardModifier = Qt.NoModifier
    wheel_steps: float = 0.0  # wheel notches (+ = away from the user); 0 for mouse events
    qt_event: Any = None

    @property
    def slice_index(self) -> int:
        return self.view.slice_index()

    @property
    def volume(self):  # -> Volume | None
        return self.view.volume()

    def widget_distance(self, other_display: tuple[float, float] | np.ndarray) -> float:
        """Distance in widget pixels from this event to a display-pixel position (for handle hit tests)."""
        p = self.view.display_to_widget(other_display)
        return math.hypot(p.x() - self.pos.x(), p.y() - self.pos.y())


class Tool:
    """Base class of slice-view tools. Override what you need; return True when an event is consumed."""

    name = "tool"
    label = "Tool"
    shortcut = ""  # e.g. "L"; the main window binds it
    tooltip = ""
    cursor = Qt.ArrowCursor
    icon = None  # optional QIcon

    def activate(self) -> None:
        """Called when the tool becomes active."""

    def deactivate(self) -> None:
        """Called when another tool becomes active (cancel anything in progress)."""

    def mouse_press(self, e: ViewEvent) -> bool:
        return False

    def mouse_move(self, e: ViewEvent) -> bool:
        """A move with a button down (after this tool consumed the press)."""
        return False

    def mouse_release(self, e: ViewEvent) -> bool:
        return False

    def mouse_double_click(self, e: ViewEvent) -> bool:
        return False

    def hover(self, e: ViewEvent) -> bool:
        """A move with no button down (hover highlight). Returning True does not block the status bar."""
        return False

    def wheel(self, e: ViewEvent) -> bool:
        return False

    def key_press(self, view: SliceView, event: QKeyEvent) -> bool:
        """Esc, Delete, Enter... Return True when handled."""
        return False

    def context_menu(self, e: ViewEvent, menu: QMenu) -> None:
        """Add actions to the view's context menu (right click without a drag)."""

    def paint(self, painter: QPainter, ctx: OverlayContext) -> None:
        """Draw in-progress state on a view (widget coordinates; ``ctx`` maps display/LPS to widget)."""


class NavigateTool(Tool):
    """The default tool: left-drag adjusts window (horizontal: width) and level (vertical: center)."""

    name = "navigate"
    label = "Navigate"
    shortcut = "N"
    tooltip = "Navigate: left-drag window/level, middle-drag pan, right-drag zoom, wheel slices (N)"
    cursor = Qt.ArrowCursor

    #: fraction of the current width per widget pixel (multiplicative feel across narrow and wide windows)
    sensitivity = 1.0 / 200.0

    def __init__(self) -> None:
        self._last: QPointF | None = None

    def mouse_press(self, e: ViewEvent) -> bool:
        if e.button == Qt.LeftButton and e.view.window_level() is not None:
            self._last = QPointF(e.pos)
            return True
        return False

    def mouse_move(self, e: ViewEvent) -> bool:
        wl = e.view.window_level()
        if self._last is None or wl is None:
            return False
        dx, dy = e.pos.x() - self._last.x(), e.pos.y() - self._last.y()
        self._last = QPointF(e.pos)
        step = max(wl.width, 10.0) * self.sensitivity
        # drag right: wider (less contrast); drag down: higher level (darker) -- as OHIF/cornerstone
        wl.set_window(wl.center + dy * step, max(1.0, wl.width + dx * step))
        return True

    def mouse_release(self, e: ViewEvent) -> bool:
        if self._last is None:
            return False
        self._last = None
        return True

    def deactivate(self) -> None:
        self._last = None


class CrosshairTool(Tool):
    """Left click/drag moves the shared MPR cursor to the point under the mouse (as Shift+click does)."""

    name = "crosshair"
    label = "Crosshair"
    shortcut = "C"
    tooltip = "Crosshair: click to put every view on that point (also Shift+click in any mode) (C)"
    cursor = Qt.CrossCursor

    def mouse_press(self, e: ViewEvent) -> bool:
        if e.button != Qt.LeftButton:
            return False
        e.view.request_cursor(e.lps)
        return True

    def mouse_move(self, e: ViewEvent) -> bool:
        if e.buttons & Qt.LeftButton:
            e.view.request_cursor(e.lps)
            return True
        return False

    def mouse_release(self, e: ViewEvent) -> bool:
        return e.button == Qt.LeftButton


class ToolRegistry:
    """Named tools, in toolbar order, and which one is active (the main window drives it)."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}
        self.active: Tool | None = None

    def add(self, tool: Tool) -> Tool:
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __iter__(self):
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return list(self._tools)

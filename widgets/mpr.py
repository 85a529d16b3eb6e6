"""MPR: views of one volume sharing a cursor point, and the view grid with its layouts.

`MprGroup` links slice views: a Shift+click (or the crosshair tool) in any view emits
``cursorRequested(lps)``; the group stores that LPS point and sends every view to the plane through it
(``SliceView.set_cursor``), so the same patient point is under the cursor everywhere. Scrolling a view moves
the cursor with its plane (projected onto it) without moving the other views. Each view draws the other
views' planes as reference lines (``ReferenceLinesOverlay``) -- for any views in the same frame of
reference, so a CT and an MR of the same FoR cross-reference too.

`ViewGrid` owns four persistent `SliceView`s and arranges them (in splitters the reader can drag) as:

* ``1x1``  -- one view (the series' acquired plane);
* ``1x2``  -- sagittal | axial;
* ``2x2``  -- axial, sagittal / coronal, and a fourth view (another series, or empty);
* ``spine`` -- a large sagittal on the left, axial over coronal on the right.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from widgets.slice_view import SliceView

LAYOUTS = ("1x1", "1x2", "2x2", "spine")

#: orientation of each view slot per layout; None = the series' acquired plane; "" = left for another series
LAYOUT_ORIENTATIONS: dict[str, list[str | None]] = {
    "1x1": [None],
    "1x2": ["sagittal", "axial"],
    "2x2": ["axial", "sagittal", "coronal", ""],
    "spine": ["sagittal", "axial", "coronal"],
}


class MprGroup(QObject):
    """A shared LPS cursor for a set of views (see the module docstring)."""

    cursorChanged = Signal(object)

    def __init__(self, views: list[SliceView], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.views = list(views)
        self.cursor: np.ndarray | None = None
        self._busy = False
        for v in self.views:
            v.set_peers(lambda: self.views)
            v.cursorRequested.connect(self.set_cursor)
            v.sliceChanged.connect(lambda _k, view=v: self._on_slice(view))
            v.viewChanged.connect(lambda view=v: self._repaint_others(view))

    def set_cursor(self, lps: np.ndarray | None) -> None:
        """Put the shared cursor at ``lps`` and send every view to the plane through it."""
        self.cursor = None if lps is None else np.asarray(lps, dtype=float)
        self._busy = True
        try:
            for v in self.views:
                if v.volume() is not None:
                    v.set_cursor(self.cursor, navigate=True)
        finally:
            self._busy = False
        for v in self.views:
            v.update()
        self.cursorChanged.emit(self.cursor)

    def _on_slice(self, view: SliceView) -> None:
        if self._busy or self.cursor is None:
            return
        g = view.plane_geometry()
        if g is None:
            return
        d = float((self.cursor - g.origin) @ g.normal)
        self.cursor = self.cursor - d * g.normal
        for v in self.views:
            v.set_cursor(self.cursor, navigate=False)
        self.cursorChanged.emit(self.cursor)

    def _repaint_others(self, view: SliceView) -> None:
        for v in self.views:
            if v is not view:
                v.update()


class ViewGrid(QWidget):
    """Four persistent slice views arranged by layout name; emits ``layoutChanged(str)``."""

    layoutChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = [SliceView(self, name=f"view{i}") for i in range(4)]
        self.mpr = MprGroup(self.views, self)
        self._layout_name = ""
        self._root: QWidget | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self._box = box
        self.set_layout("1x1")

    def layout_name(self) -> str:
        return self._layout_name

    def visible_views(self) -> list[SliceView]:
        return self.views[:len(LAYOUT_ORIENTATIONS[self._layout_name])]

    def set_layout(self, name: str) -> None:
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; expected one of {', '.join(LAYOUTS)}")
        v = self.views
        old = self._root

        def split(orientation: Qt.Orientation, *widgets: QWidget, sizes: list[int] | None = None) -> QSplitter:
            s = QSplitter(orientation)
            s.setChildrenCollapsible(False)
            s.setHandleWidth(3)
            for w in widgets:
                s.addWidget(w)
            if sizes:
                s.setSizes([n * 10000 for n in sizes])
            for i, stretch in enumerate(sizes or [1] * len(widgets)):
                s.setStretchFactor(i, stretch)
            return s

        if name == "1x1":
            root = split(Qt.Horizontal, v[0])
        elif name == "1x2":
            root = split(Qt.Horizontal, v[0], v[1], sizes=[1, 1])
        elif name == "2x2":
            root = split(Qt.Vertical, split(Qt.Horizontal, v[0], v[1], sizes=[1, 1]),
                         split(Qt.Horizontal, v[2], v[3], sizes=[1, 1]), sizes=[1, 1])
        else:  # spine
            root = split(Qt.Horizontal, v[0], split(Qt.Vertical, v[1], v[2], sizes=[1, 1]), sizes=[3, 2])
        used = len(LAYOUT_ORIENTATIONS[name])
        for i, view in enumerate(v):
            if i >= used:
                view.setParent(self)
                view.hide()
            else:
                view.show()
        self._box.addWidget(root)
        if self.isVisible():
            root.show()  # QLayout would only show it from a queued call
        self._root = root
        if old is not None:
            old.setParent(None)
            old.deleteLater()
        self._layout_name = name
        self.layoutChanged.emit(name)
        self.update()

"""MPR: views of one volume sharing a cursor point, and the view grid with its layouts.

`MprGroup` links slice views: a Shift+click (or the crosshair tool) in any view emits
``cursorRequested(lps)``; the group stores that LPS point (in the clicked view's frame) and sends every
*linked* view to the plane through it (``SliceView.set_cursor``), so the same anatomy is under the cursor
everywhere. Scrolling a linked view moves the cursor with its plane (projected onto it) and the other linked
views follow: views of one series or one frame of reference by patient position (a second sagittal scrolls
along, an axial stays at the cursor's level), views of another frame of reference or study by vertebral
level where both have levels labelled, else by an offset the reader sets once by linking the view
(`imaging.viewer.links`: the Qt-free rules; ``MprGroup.links`` holds them). Each view's link can be switched
off (``set_linked``). Each view draws the other views' planes as reference lines (``ReferenceLinesOverlay``)
-- for any views in the same frame of reference, so a CT and an MR of the same FoR cross-reference too.

`ViewGrid` owns four persistent `SliceView`s, each under a header bar (`widgets.view_header`: what it
shows, cine, the link toggle), and arranges them (in splitters the reader can drag) as below;
``maximise(view)`` shows one view alone (double-click) until ``maximise(None)``; ``cine`` plays views:

* ``1x1``  -- one view (the series' acquired plane);
* ``1x2``  -- sagittal | axial;
* ``1x3``  -- three views side by side (sagittal | axial | coronal; hanging protocols put e.g. sag T2 |
  sag T1 | ax T2 there);
* ``2x2``  -- axial, sagittal / coronal, and a fourth view (another series, or empty);
* ``spine`` -- a large sagittal on the left, axial over coronal on the right.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from imaging.viewer.links import ViewLinks, frame_key
from widgets.cine import CinePlayer
from widgets.slice_view import SliceView
from widgets.view_header import ViewFrame

LAYOUTS = ("1x1", "1x2", "1x3", "2x2", "spine")

#: orientation of each view slot per layout; None = the series' acquired plane; "" = left for another series
LAYOUT_ORIENTATIONS: dict[str, list[str | None]] = {
    "1x1": [None],
    "1x2": ["sagittal", "axial"],
    "1x3": ["sagittal", "axial", "coronal"],
    "2x2": ["axial", "sagittal", "coronal", ""],
    "spine": ["sagittal", "axial", "coronal"],
}


class MprGroup(QObject):
    """A shared LPS cursor for a set of views, followed by the linked ones (see the module docstring)."""

    cursorChanged = Signal(object)
    linksChanged = Signal()

    def __init__(self, views: list[SliceView], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.views = list(views)
        self.cursor: np.ndarray | None = None
        self.cursor_frame: str | None = None  # the frame the cursor's coordinates are in
        self.links = ViewLinks()
        #: the view whose frame a cursor set without a source view is in (the main window: the active view)
        self.source_hint: Callable[[], SliceView | None] | None = None
        #: the views of the current layout (the grid sets it; default: every view)
        self.layout_views: Callable[[], list[SliceView]] = lambda: self.views
        self._busy = False
        for v in self.views:
            v.set_peers(lambda: self.views)
            v.cursorRequested.connect(lambda lps, view=v: self.set_cursor(lps, view))
            v.sliceChanged.connect(lambda _k, view=v: self._on_slice(view))
            v.viewChanged.connect(lambda view=v: self._repaint_others(view))

    # -- frames and links --------------------------------------------------------------------------------
    @staticmethod
    def frame_of(view: SliceView) -> str | None:
        """The frame of the series ``view`` shows (`imaging.viewer.links.frame_key`); None when empty."""
        vol = view.volume()
        if vol is None:
            return None
        md = vol.metadata
        return frame_key(md.frame_of_reference_uid, md.series_instance_uid or f"volume-{id(vol)}")

    def _frames(self) -> dict[str, str]:
        return {v.objectName(): f for v in self.views if (f := self.frame_of(v)) is not None}

    def is_linked(self, view: SliceView) -> bool:
        return self.links.is_linked(view.objectName())

    def link_kind(self, view: SliceView) -> str:
        """How ``view`` follows the other linked views showing a series: "off" (its link is off), "alone"
        (no other linked view), "same frame", "level", "offset" or "none" (some linked view does not map);
        the weakest link wins."""
        if not self.is_linked(view):
            return "off"
        mine = self.frame_of(view)
        others = [self.frame_of(v) for v in self.layout_views()
                  if v is not view and self.is_linked(v) and v.volume() is not None]
        if mine is None or not others:
            return "alone"
        kinds = {self.links.model.kind(mine, f) for f in others if f is not None}
        for kind in ("none", "offset", "level", "same frame"):
            if kind in kinds:
                return kind
        return "alone"

    def set_linked(self, view: SliceView, linked: bool) -> None:
        """Switch ``view``'s link. Linking a view whose frame does not map to the cursor's (no shared frame
        of reference, no shared labelled level) keeps it where it is: the offset between its point and the
        cursor is stored and used from then on (set once, as in OHIF and Weasis)."""
        self.links.set_linked(view.objectName(), linked)
        frame = self.frame_of(view)
        if linked and frame is not None:
            if self.cursor is None or self.cursor_frame is None:
                self.cursor, self.cursor_frame = self._view_point(view), frame
            else:
                self.links.link_with_offset(frame, self._view_point(view), self.cursor_frame, self.cursor)
            self.sync_view(view)
        self.linksChanged.emit()
        for v in self.views:
            v.update()

    @staticmethod
    def _view_point(view: SliceView) -> np.ndarray:
        """Where ``view`` is: its cursor when on its plane, else the centre of its image."""
        g = view.plane_geometry()
        if view.cursor_lps is not None and g is not None and g.contains(view.cursor_lps):
            return np.asarray(view.cursor_lps, dtype=float)
        spec = view.plane_spec()
        return g.to_lps(((spec.width - 1) / 2.0, (spec.height - 1) / 2.0))

    def point_in(self, view: SliceView) -> np.ndarray | None:
        """The cursor in ``view``'s coordinates; None when there is no cursor or ``view`` does not follow."""
        if self.cursor is None or self.cursor_frame is None:
            return None
        frame = self.frame_of(view)
        if frame is None:
            return None
        if frame == self.cursor_frame:
            return self.cursor.copy()
        if not self.is_linked(view):
            return None
        return self.links.model.map_point(self.cursor, self.cursor_frame, frame)

    def sync_view(self, view: SliceView) -> None:
        """Bring one view to the cursor (after it got a new series), when it follows."""
        p = self.point_in(view) if self.is_linked(view) else None
        if p is not None:
            self._busy = True
            try:
                view.set_cursor(p, navigate=True)
            finally:
                self._busy = False

    # -- the cursor --------------------------------------------------------------------------------------
    def _default_source(self) -> SliceView | None:
        hint = self.source_hint() if self.source_hint is not None else None
        if hint is not None and hint.volume() is not None:
            return hint
        return next((v for v in self.views if v.volume() is not None), None)

    def set_cursor(self, lps: np.ndarray | None, source: SliceView | None = None) -> None:
        """Put the shared cursor at ``lps`` (in the frame of ``source``, by default the hinted view) and send
        every view that follows to the plane through it."""
        if lps is None:
            self.cursor, self.cursor_frame = None, None
            for v in self.views:
                v.set_cursor(None, navigate=False)
            self.cursorChanged.emit(None)
            return
        src = source if source is not None and source.volume() is not None else self._default_source()
        self.cursor = np.asarray(lps, dtype=float)
        self.cursor_frame = self.frame_of(src) if src is not None else None
        if src is None or self.cursor_frame is None:
            return
        targets = self.links.targets(src.objectName(), self.cursor, self.cursor_frame, self._frames())
        self._busy = True
        try:
            for v in self.views:
                p = targets.get(v.objectName())
                if p is not None:
                    v.set_cursor(p, navigate=True)
        finally:
            self._busy = False
        for v in self.views:
            v.update()
        self.cursorChanged.emit(self.cursor)

    def _on_slice(self, view: SliceView) -> None:
        if self._busy:
            return
        g = view.plane_geometry()
        frame = self.frame_of(view)
        if g is None or frame is None:
            return
        here = self.point_in(view) if self.is_linked(view) else (
            None if view.cursor_lps is None else np.asarray(view.cursor_lps, dtype=float))
        if here is None:
            here = self._view_point(view)
        here = here - float((here - g.origin) @ g.normal) * g.normal  # onto the new plane
        if not self.is_linked(view):
            view.set_cursor(here, navigate=False)  # an unlinked view moves alone
            return
        self.cursor, self.cursor_frame = here, frame
        targets = self.links.targets(view.objectName(), here, frame, self._frames())
        self._busy = True
        try:
            for v in self.views:
                p = targets.get(v.objectName())
                if p is not None:
                    v.set_cursor(p, navigate=v is not view)
        finally:
            self._busy = False
        self.cursorChanged.emit(self.cursor)

    def _repaint_others(self, view: SliceView) -> None:
        for v in self.views:
            if v is not view:
                v.update()


class ViewGrid(QWidget):
    """Four persistent slice views arranged by layout name; emits ``layoutChanged(str)`` and
    ``maximisedChanged(object)`` (the maximised view, or None when the layout is back)."""

    layoutChanged = Signal(str)
    maximisedChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = [SliceView(self, name=f"view{i}") for i in range(4)]
        self.frames = [ViewFrame(v, self) for v in self.views]
        self.mpr = MprGroup(self.views, self)
        self.mpr.layout_views = self.layout_views
        self.cine = CinePlayer(self.views, self)
        for f in self.frames:
            v = f.view
            v.maximiseRequested.connect(lambda view=v: self.toggle_maximise(view))
            f.header.linkToggled.connect(lambda on, view=v: self.mpr.set_linked(view, on))
            f.header.cineClicked.connect(lambda view=v: self.cine.toggle(view))
            v.planeChanged.connect(self.refresh_links)
        self.mpr.linksChanged.connect(self.refresh_links)
        self.cine.changed.connect(self._on_cine)
        self._layout_name = ""
        self._maximised: SliceView | None = None
        self._root: QWidget | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self._box = box
        self.set_layout("1x1")

    def layout_name(self) -> str:
        return self._layout_name

    def frame(self, view: SliceView) -> ViewFrame:
        """The frame (header and view) of ``view``."""
        return self.frames[self.views.index(view)]

    def refresh_links(self) -> None:
        """Show every view's link state and rule on its header."""
        for f in self.frames:
            f.header.set_link(self.mpr.link_kind(f.view), self._link_tip(f.view))

    def _link_tip(self, view: SliceView) -> str:
        if not self.mpr.is_linked(view):
            return ("Unlinked: this view scrolls alone. Click to link it: if no shared frame of reference or "
                    "labelled level maps it to the others, it keeps its present offset from them.")
        mine = self.mpr.frame_of(view)
        lines = ["Linked: this view follows the others and leads them. Click to unlink."]
        for v in self.layout_views():
            other = self.mpr.frame_of(v)
            if v is view or other is None or mine is None or not self.mpr.is_linked(v):
                continue
            name = v.volume().metadata.series_description or v.objectName()
            lines.append(f"\u2022 {name}: {self.mpr.links.model.describe(mine, other)}")
        return "\n".join(lines)

    def _on_cine(self, view: SliceView) -> None:
        c = self.cine.state(view)
        self.frame(view).header.set_cine(c.playing, c.fps)

    def layout_views(self) -> list[SliceView]:
        """The views of the layout, maximised or not."""
        return self.views[:len(LAYOUT_ORIENTATIONS[self._layout_name])]

    def visible_views(self) -> list[SliceView]:
        """The views on screen: the layout's, or only the maximised one."""
        return [self._maximised] if self._maximised is not None else self.layout_views()

    def maximised_view(self) -> SliceView | None:
        return self._maximised

    def maximise(self, view: SliceView | None) -> None:
        """Show ``view`` alone (it keeps its series, plane, zoom and links); None brings the layout back."""
        if view is not None and view not in self.layout_views():
            return
        if view is self._maximised:
            return
        self._maximised = view
        self._arrange(self._layout_name)
        self.maximisedChanged.emit(view)

    def toggle_maximise(self, view: SliceView) -> None:
        self.maximise(None if self._maximised is view else view)

    def set_layout(self, name: str) -> None:
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}; expected one of {', '.join(LAYOUTS)}")
        was_maximised = self._maximised is not None
        self._maximised = None
        self._arrange(name)
        self._layout_name = name
        if was_maximised:
            self.maximisedChanged.emit(None)
        self.refresh_links()
        self.layoutChanged.emit(name)
        self.update()

    def _arrange(self, name: str) -> None:
        v = self.frames
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

        if self._maximised is not None:
            root = split(Qt.Horizontal, self.frame(self._maximised))
        elif name == "1x1":
            root = split(Qt.Horizontal, v[0])
        elif name == "1x2":
            root = split(Qt.Horizontal, v[0], v[1], sizes=[1, 1])
        elif name == "1x3":
            root = split(Qt.Horizontal, v[0], v[1], v[2], sizes=[1, 1, 1])
        elif name == "2x2":
            root = split(Qt.Vertical, split(Qt.Horizontal, v[0], v[1], sizes=[1, 1]),
                         split(Qt.Horizontal, v[2], v[3], sizes=[1, 1]), sizes=[1, 1])
        else:  # spine
            root = split(Qt.Horizontal, v[0], split(Qt.Vertical, v[1], v[2], sizes=[1, 1]), sizes=[3, 2])
        shown = ([self.frame(self._maximised)] if self._maximised is not None
                 else v[:len(LAYOUT_ORIENTATIONS[name])])
        for frame in v:
            if frame not in shown:
                frame.setParent(self)
                frame.hide()
            else:
                frame.show()
        self._box.addWidget(root)
        if self.isVisible():
            root.show()  # QLayout would only show it from a queued call
        self._root = root
        if old is not None:
            # hidden and kept as a child until deleted: an old splitter never becomes a top-level window
            self._box.removeWidget(old)
            old.hide()
            old.deleteLater()

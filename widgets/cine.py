"""Cine: a view plays through its images (forward, looping) at a chosen speed.

The speeds and the loop are Qt-free (`imaging.viewer.state.Cine`); this module only runs one QTimer per view.
A playing view steps with ``set_slice`` as the wheel does, so linked views follow it.

    player = CinePlayer(views)
    player.toggle(view); player.faster(view); player.slower(view); player.stop_all()
    player.changed -> (view): the header shows "Cine 10/s"
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from imaging.viewer.state import Cine
from widgets.slice_view import SliceView

__all__ = ["CinePlayer"]


class CinePlayer(QObject):
    """One cine per view (see the module docstring)."""

    changed = Signal(object)  # the view whose cine started, stopped or changed speed

    def __init__(self, views: list[SliceView], parent: QObject | None = None,
                 cines: list[Cine] | None = None) -> None:
        super().__init__(parent)
        self._cine: dict[SliceView, Cine] = dict(zip(views, cines or [Cine() for _ in views], strict=True))
        self._timers: dict[SliceView, QTimer] = {}
        for v in views:
            t = QTimer(self)
            t.timeout.connect(lambda view=v: self._step(view))
            self._timers[v] = t
            v.planeChanged.connect(lambda view=v: self._on_plane(view))

    def state(self, view: SliceView) -> Cine:
        return self._cine[view]

    def states(self) -> list[Cine]:
        """The cine state of each view, in view order (shared with `imaging.viewer.state.ViewerState`)."""
        return list(self._cine.values())

    def is_playing(self, view: SliceView) -> bool:
        return self._cine[view].playing

    def toggle(self, view: SliceView) -> bool:
        """Play or pause ``view`` (nothing to play in an empty or one-image view). Returns playing."""
        c = self._cine[view]
        if not c.playing and view.slice_count() < 2:
            return False
        c.toggle()
        self._apply(view)
        return c.playing

    def stop(self, view: SliceView) -> None:
        if self._cine[view].playing:
            self._cine[view].playing = False
            self._apply(view)

    def stop_all(self) -> None:
        for v in self._cine:
            self.stop(v)

    def faster(self, view: SliceView) -> float:
        fps = self._cine[view].faster()
        self._apply(view)
        return fps

    def slower(self, view: SliceView) -> float:
        fps = self._cine[view].slower()
        self._apply(view)
        return fps

    def _apply(self, view: SliceView) -> None:
        c, t = self._cine[view], self._timers[view]
        if c.playing:
            t.start(c.interval_ms)
        else:
            t.stop()
        self.changed.emit(view)

    def _step(self, view: SliceView) -> None:
        if not view.isVisible() or view.slice_count() < 2:
            self.stop(view)
            return
        view.set_slice(Cine.next_index(view.slice_index(), view.slice_count()))

    def _on_plane(self, view: SliceView) -> None:
        if view.volume() is None:
            self.stop(view)

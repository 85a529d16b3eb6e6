"""The reading state of the view grid (Qt-free): which series each view shows, in which plane, which view is
maximised, which views are linked and how (`imaging.viewer.links`), cine per view, and the hanging protocol
that arranged them. The Qt views (widgets/) render this state; tests drive it without a display.

    state = ViewerState()
    state.apply_hanging(hanging)             # layout + a series and plane per view (imaging.protocols.hanging)
    state.toggle_maximise(0)                 # double-click: one view fills the grid, again: back
    state.links.set_linked("view2", False)   # the view's link toggle
    state.next_series(order, "key", +1)      # next/previous series in the browser's order
    state.cine(1).faster()                   # cine speed steps
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from imaging.protocols.hanging import Hanging, PaneFill
from imaging.protocols.protocol import LAYOUT_PANES
from imaging.viewer.links import ViewLinks

__all__ = ["CINE_SPEEDS", "Cine", "ViewSlot", "ViewerState", "view_id"]

VIEW_COUNT = 4
CINE_SPEEDS = (1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)
"""Cine frame rates offered (images per second)."""
DEFAULT_CINE_FPS = 10.0


def view_id(index: int) -> str:
    """The id of view ``index`` (the widgets' object names: "view0".."view3")."""
    return f"view{index}"


@dataclass
class Cine:
    """Cine of one view: playing or not, and the speed in images per second. Plays forward and loops."""

    playing: bool = False
    fps: float = DEFAULT_CINE_FPS

    def toggle(self) -> bool:
        self.playing = not self.playing
        return self.playing

    def faster(self) -> float:
        self.fps = next((s for s in CINE_SPEEDS if s > self.fps + 1e-9), CINE_SPEEDS[-1])
        return self.fps

    def slower(self) -> float:
        self.fps = next((s for s in reversed(CINE_SPEEDS) if s < self.fps - 1e-9), CINE_SPEEDS[0])
        return self.fps

    @property
    def interval_ms(self) -> int:
        return max(int(round(1000.0 / self.fps)), 1)

    @staticmethod
    def next_index(index: int, count: int) -> int:
        """The image after ``index`` in a cine loop of ``count`` images."""
        return 0 if count <= 0 else (index + 1) % count


@dataclass
class ViewSlot:
    """What one view shows: a series (its `SeriesInfo.key`) in a plane, or a placeholder saying why not."""

    series_key: str | None = None
    orientation: str = ""
    reformat: bool = False
    window: str | None = None
    label: str = ""
    placeholder: str = ""


class ViewerState:
    """See the module docstring."""

    def __init__(self) -> None:
        self.layout = "1x1"
        self.slots = [ViewSlot() for _ in range(VIEW_COUNT)]
        self.cines = [Cine() for _ in range(VIEW_COUNT)]  # per view, kept when the view gets another series
        self.maximised: int | None = None
        self.active = 0
        self.links = ViewLinks()
        self.protocol_id: str | None = None
        self.study_uid: str | None = None

    # -- hanging ---------------------------------------------------------------------------------------
    def apply_hanging(self, hanging: Hanging) -> None:
        """Take a protocol's layout and put each pane's series in its view (empty panes say what is missing).
        Cine stops; links stay as the reader set them."""
        self.layout = hanging.protocol.layout
        self.protocol_id = hanging.protocol.id
        self.study_uid = hanging.study_uid
        self.maximised = None
        for i in range(VIEW_COUNT):
            fill = hanging.panes[i] if i < len(hanging.panes) else None
            self.slots[i] = self._slot_from(fill)
        if self.active >= self.view_count():
            self.active = 0

    def apply_fills(self, layout: str, fills: Sequence[PaneFill]) -> None:
        """A plain layout filled around one series (`imaging.protocols.hanging.fill_layout`)."""
        self.layout = layout
        self.protocol_id = None
        self.maximised = None
        for i in range(VIEW_COUNT):
            self.slots[i] = self._slot_from(fills[i] if i < len(fills) else None)

    @staticmethod
    def _slot_from(fill: PaneFill | None) -> ViewSlot:
        if fill is None:
            return ViewSlot()
        placeholder = ""
        if fill.series_key is None and fill.missing:
            placeholder = f"{fill.label or fill.orientation}: {fill.missing}"
        return ViewSlot(fill.series_key, fill.orientation, fill.reformat, fill.window, fill.label, placeholder)

    def view_count(self) -> int:
        """Views in the layout (all of them, maximised or not)."""
        return LAYOUT_PANES.get(self.layout, 1)

    # -- maximise --------------------------------------------------------------------------------------
    def toggle_maximise(self, index: int) -> int | None:
        """Maximise view ``index`` (it fills the grid), or restore the layout when it is maximised already.
        Returns the maximised view (None when restored)."""
        if not 0 <= index < self.view_count():
            return self.maximised
        self.maximised = None if self.maximised == index else index
        return self.maximised

    def visible_views(self) -> list[int]:
        return [self.maximised] if self.maximised is not None else list(range(self.view_count()))

    # -- series order ----------------------------------------------------------------------------------
    @staticmethod
    def next_series(order: Sequence[str], current: str | None, step: int) -> str | None:
        """The series ``step`` places after ``current`` in ``order`` (the browser's order), stopping at the
        ends (no wrap: the reader knows when the list ends). The first (or last) when ``current`` is not
        in the list; None for an empty list."""
        if not order:
            return None
        if current not in order:
            return order[0] if step >= 0 else order[-1]
        i = order.index(current) + step
        return order[min(max(i, 0), len(order) - 1)]

    # -- cine ------------------------------------------------------------------------------------------
    def cine(self, index: int) -> Cine:
        return self.cines[index]

    def stop_all_cine(self) -> None:
        for c in self.cines:
            c.playing = False

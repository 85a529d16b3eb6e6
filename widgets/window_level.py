"""`WindowLevel`: the window (center, width), invert flag and presets of ONE series, shared by its views.

Design decision (documented in the README): window/level and invert belong to the series, not to a view.
Every view showing the same `Volume` (axial, sagittal and coronal MPR) holds the same `WindowLevel`, so a
W/L drag or preset key in one view updates all of them -- as 3D Slicer (one display node per volume) and
OHIF's MPR (window-level synchroniser) behave. Pan, zoom, slice and cursor stay per view.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from imaging.display import default_invert, default_window, window_presets
from imaging.volume import Volume, WindowPreset


class WindowLevel(QObject):
    """Window center/width (modality units), invert flag and the 1..5 presets of one series."""

    changed = Signal()

    def __init__(self, volume: Volume | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.center = 40.0
        self.width = 400.0
        self.invert = False
        self.name = ""  # preset name, "" after a manual change
        self.presets: list[WindowPreset] = []
        self._default = WindowPreset("Default", 40.0, 400.0)
        self._default_invert = False
        self.generation = 0  # bumped on every change (frame caches key on it)
        if volume is not None:
            self.presets = window_presets(volume)
            self._default = default_window(volume)
            self._default_invert = default_invert(volume)
            self.reset()

    def set_window(self, center: float, width: float, name: str = "") -> None:
        width = max(float(width), 1.0)
        if (float(center), width, name) == (self.center, self.width, self.name):
            return
        self.center, self.width, self.name = float(center), width, name
        self._emit()

    def set_invert(self, invert: bool) -> None:
        if bool(invert) != self.invert:
            self.invert = bool(invert)
            self._emit()

    def toggle_invert(self) -> None:
        self.set_invert(not self.invert)

    def apply_preset(self, index: int) -> bool:
        """Apply preset ``index`` (0-based: key 1 is preset 0). False when there is no such preset."""
        if 0 <= index < len(self.presets):
            p = self.presets[index]
            self.set_window(p.center, p.width, p.name)
            return True
        return False

    def reset(self) -> None:
        """Back to the series' default window and invert flag."""
        self.center, self.width, self.name = self._default.center, max(self._default.width, 1.0), self._default.name
        self.invert = self._default_invert
        self._emit()

    def _emit(self) -> None:
        self.generation += 1
        self.changed.emit()

    def label(self) -> str:
        text = f"W {self.width:.0f} L {self.center:.0f}" if self.width >= 10 else \
            f"W {self.width:.3g} L {self.center:.3g}"
        if self.name:
            text += f" ({self.name})"
        if self.invert:
            text += " inv"
        return text

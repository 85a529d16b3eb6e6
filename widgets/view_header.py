"""A thin bar above each slice view (as OHIF's viewport action bar): what the view shows, and its controls.

* left: the pane's label from the hanging protocol ("sag T2"), the series and its study date -- so a
  current | prior comparison always says which image is which;
* right: a flip/rotation note when the image is turned, the cine button (play/pause, speed while playing) and
  the view's link toggle: "Linked" (by patient position: same frame of reference), "Linked: level" (by
  vertebral level), "Linked: offset" (an offset the reader set), "Not linked" (its link is on but no rule
  maps it: switch it off and on to keep the present offset) or "Unlinked". The tooltip says the rule in
  words, for each other view.

`ViewFrame` stacks the header over its view; `widgets.mpr.ViewGrid` arranges the frames.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from imaging.viewer import screen
from widgets.overlays import format_date
from widgets.slice_view import SliceView

__all__ = ["LINK_TEXT", "ViewFrame", "ViewHeader"]

HEADER_HEIGHT = 20
LINK_TEXT = {"same frame": "Linked", "level": "Linked: level", "offset": "Linked: offset",
             "alone": "Linked", "none": "Not linked", "off": "Unlinked"}
_STYLE = """
QWidget#ViewHeader { background: #15171b; border-bottom: 1px solid #2a2e36; }
QLabel { color: #b8bec8; font-size: 11px; padding: 0 4px; }
QLabel#ViewTurn { color: #f0c060; }
QToolButton { color: #b8bec8; font-size: 11px; border: 1px solid #2f343d; border-radius: 3px; padding: 0 6px;
              background: #1d2026; }
QToolButton:checked { color: #e8f4ff; background: #24507a; border-color: #3c78b0; }
QToolButton[kind="none"]:checked { background: #6a4a1a; border-color: #b07a2c; }
"""


class ViewHeader(QWidget):
    """The bar (see the module docstring). ``linkToggled(bool)`` and ``cineClicked()`` are the reader's."""

    linkToggled = Signal(bool)
    cineClicked = Signal()

    def __init__(self, view: SliceView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.setObjectName("ViewHeader")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)
        self.setFixedHeight(HEADER_HEIGHT)
        self.pane_label = ""
        box = QHBoxLayout(self)
        box.setContentsMargins(2, 1, 2, 1)
        box.setSpacing(4)
        self.title = QLabel("")
        self.title.setObjectName("ViewTitle")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.turn_label = QLabel("")
        self.turn_label.setObjectName("ViewTurn")
        self.cine_button = QToolButton()
        self.cine_button.setObjectName(f"cine_{view.objectName()}")
        self.cine_button.setCheckable(True)
        self.cine_button.setToolTip("Cine: play/pause (Space); faster Ctrl+] and slower Ctrl+[")
        self.cine_button.clicked.connect(lambda _=False: self.cineClicked.emit())
        self.link_button = QToolButton()
        self.link_button.setObjectName(f"link_{view.objectName()}")
        self.link_button.setCheckable(True)
        self.link_button.setChecked(True)
        self.link_button.toggled.connect(self.linkToggled.emit)
        box.addWidget(self.title, 1)
        box.addWidget(self.turn_label)
        box.addWidget(self.cine_button)
        box.addWidget(self.link_button)
        self.set_cine(False, 10.0)
        self.set_link("alone", "")
        view.planeChanged.connect(self.refresh_title)
        view.viewChanged.connect(self.refresh_turn)

    def set_pane_label(self, label: str) -> None:
        self.pane_label = label
        self.refresh_title()

    def refresh_title(self) -> None:
        vol = self.view.volume()
        parts = [self.pane_label] if self.pane_label else []
        if vol is not None:
            md = vol.metadata
            # the series description is in the view's corner; the date says which study (current | prior)
            parts += [x for x in ("" if self.pane_label else md.series_description, format_date(md.study_date))
                      if x]
        elif self.view.placeholder and self.pane_label:
            parts.append("(empty)")
        text = "  \u00b7  ".join(parts)
        self.title.setToolTip(text)
        fm = QFontMetrics(self.title.font())
        self.title.setText(fm.elidedText(text, Qt.TextElideMode.ElideRight, max(self.title.width() - 8, 40)))

    def refresh_turn(self) -> None:
        text = screen.describe(self.view.turn)
        self.turn_label.setText(text)
        self.turn_label.setVisible(bool(text))

    def set_cine(self, playing: bool, fps: float) -> None:
        self.cine_button.blockSignals(True)
        self.cine_button.setChecked(playing)
        self.cine_button.blockSignals(False)
        self.cine_button.setText(f"\u275a\u275a {fps:g}/s" if playing else "\u25b6")

    def set_link(self, kind: str, tip: str) -> None:
        """Show the link state (`widgets.mpr.MprGroup.link_kind`) and its rule in words."""
        self.link_button.blockSignals(True)
        self.link_button.setChecked(kind != "off")
        self.link_button.blockSignals(False)
        self.link_button.setText(LINK_TEXT.get(kind, "Linked"))
        self.link_button.setProperty("kind", kind)
        self.link_button.style().unpolish(self.link_button)
        self.link_button.style().polish(self.link_button)
        self.link_button.setToolTip(tip or "Link this view's navigation to the other views")

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        self.refresh_title()


class ViewFrame(QWidget):
    """A slice view under its header."""

    def __init__(self, view: SliceView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"frame_{view.objectName()}")
        self.view = view
        self.header = ViewHeader(view, self)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.header)
        box.addWidget(view, 1)

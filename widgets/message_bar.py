"""`MessageBar`: a non-modal strip above the views for load failures and `Volume.warnings`.

Plain words only (never a traceback); details, when given, go in an expandable text. Messages stack; each
has a close button.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

LEVEL_STYLE = {
    "info": ("#1d3347", "#8cc4f0", "i"),
    "warning": ("#3d3416", "#f0c75e", "!"),
    "error": ("#47201f", "#f08a84", "\u00d7"),
}


class _Message(QFrame):
    closed = Signal(object)

    def __init__(self, text: str, level: str, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        bg, fg, mark = LEVEL_STYLE.get(level, LEVEL_STYLE["info"])
        self.level = level
        self.text = text
        self.setObjectName("MessageBarItem")
        self.setStyleSheet(f"#MessageBarItem {{ background: {bg}; border-bottom: 1px solid #101214; }}"
                           f" QLabel {{ color: {fg}; }}")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 4, 4)
        icon = QLabel(mark)
        icon.setStyleSheet("font-weight: bold;")
        row.addWidget(icon)
        col = QVBoxLayout()
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        col.addWidget(self.label)
        self.details = QLabel(details)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.details.setVisible(False)
        col.addWidget(self.details)
        row.addLayout(col, 1)
        if details:
            more = QToolButton()
            more.setText("Details")
            more.setCheckable(True)
            more.toggled.connect(self.details.setVisible)
            row.addWidget(more)
        close = QToolButton()
        close.setText("\u2715")
        close.setToolTip("Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(lambda: self.closed.emit(self))
        row.addWidget(close, 0, Qt.AlignTop)


class MessageBar(QWidget):
    """Stacked dismissable messages (see the module docstring)."""

    MAX_MESSAGES = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self._box = QVBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)
        self._box.setSpacing(0)
        self._items: list[_Message] = []
        self.setVisible(False)

    def show_message(self, text: str, level: str = "info", details: str = "") -> None:
        """Show ``text`` ("info", "warning" or "error"); ``details`` goes behind a Details button."""
        item = _Message(text, level, details, self)
        item.closed.connect(self._remove)
        self._items.append(item)
        self._box.addWidget(item)
        while len(self._items) > self.MAX_MESSAGES:
            self._remove(self._items[0])
        self.setVisible(True)

    def messages(self) -> list[tuple[str, str]]:
        """``(level, text)`` of the messages shown (tests and automation)."""
        return [(m.level, m.text) for m in self._items]

    def clear(self) -> None:
        for m in list(self._items):
            self._remove(m)

    def _remove(self, item: _Message) -> None:
        if item in self._items:
            self._items.remove(item)
            item.setParent(None)
            item.deleteLater()
        self.setVisible(bool(self._items))

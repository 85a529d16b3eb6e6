"""`MessageBar`: one non-modal line above the views for load failures, `Volume.warnings` and refusals.

Plain words only (never a traceback); details, when given, go behind a Details button. The bar never grows
into a stack of banners pushing the views down: it shows ONE message -- the newest one that applies to what
is on screen -- on one line (the whole text in its tooltip and Details), and a "+N" button lists the others.

A message belongs to what it is about and leaves with it (``scope``):

* ``"series:<key>"`` -- a series' load warnings: shown only while that series is in a view (they come back
  when it is shown again);
* ``"case"`` -- the open case (missing data, recovery, read-only): cleared when another case is opened;
* ``"action:<name>"`` -- a step-by-step action (e.g. a labelling hint): the action clears it when it ends
  (:meth:`MessageBar.clear_scope`);
* ``""`` -- anything else; dismissed by the reader (or pushed out by newer messages, at most
  ``MAX_MESSAGES``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QSizePolicy, QToolButton, QVBoxLayout, QWidget

LEVEL_STYLE = {
    "info": ("#1d3347", "#8cc4f0", "i"),
    "warning": ("#3d3416", "#f0c75e", "!"),
    "error": ("#47201f", "#f08a84", "\u00d7"),
}


class _ElidedLabel(QLabel):
    """One line of text, elided at the right when it does not fit (the whole text is the tooltip)."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.setToolTip(text)

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt API
        p = QPainter(self)
        fm = QFontMetrics(self.font())
        p.setPen(self.palette().color(self.foregroundRole()))
        p.drawText(self.rect(), Qt.AlignLeft | Qt.AlignVCenter,
                   fm.elidedText(" ".join(self.text().split()), Qt.ElideRight, self.width()))
        p.end()


class _Message(QFrame):
    closed = Signal(object)

    def __init__(self, text: str, level: str, details: str, scope: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        bg, fg, mark = LEVEL_STYLE.get(level, LEVEL_STYLE["info"])
        self.level = level
        self.text = text
        self.scope = scope
        self.setObjectName("MessageBarItem")
        self.setStyleSheet(f"#MessageBarItem {{ background: {bg}; border-bottom: 1px solid #101214; }}"
                           f" QLabel {{ color: {fg}; }}")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 2, 4, 2)
        icon = QLabel(mark)
        icon.setStyleSheet("font-weight: bold;")
        row.addWidget(icon)
        col = QVBoxLayout()
        col.setSpacing(0)
        self.label = _ElidedLabel(text)
        col.addWidget(self.label)
        self.details = QLabel(details or text)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.details.setVisible(False)
        col.addWidget(self.details)
        row.addLayout(col, 1)
        self.more = QToolButton()
        self.more.setObjectName("MessageBarMore")
        self.more.setAutoRaise(True)
        self.more.setPopupMode(QToolButton.InstantPopup)
        self.more.setVisible(False)
        row.addWidget(self.more, 0, Qt.AlignTop)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self.details.setVisible)
        row.addWidget(self.details_button, 0, Qt.AlignTop)
        close = QToolButton()
        close.setText("\u2715")
        close.setToolTip("Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(lambda: self.closed.emit(self))
        row.addWidget(close, 0, Qt.AlignTop)


class MessageBar(QWidget):
    """One line of messages, each belonging to a scope (see the module docstring)."""

    MAX_MESSAGES = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self._box = QVBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)
        self._box.setSpacing(0)
        self._items: list[_Message] = []
        self._shown_series: set[str] | None = None  # None: no view state known yet (every series applies)
        self.setVisible(False)

    # -- API ----------------------------------------------------------------------------------------------
    def show_message(self, text: str, level: str = "info", details: str = "", scope: str = "") -> None:
        """Show ``text`` ("info", "warning" or "error") about ``scope``; ``details`` go behind Details. The same
        text in the same scope replaces the older one."""
        for old in [m for m in self._items if m.text == text and m.scope == scope]:
            self._drop(old)
        item = _Message(text, level, details, scope, self)
        item.closed.connect(self._remove)
        self._items.append(item)
        self._box.addWidget(item)
        while len(self._items) > self.MAX_MESSAGES:
            self._drop(self._items[0])
        self._refresh()

    def messages(self) -> list[tuple[str, str]]:
        """``(level, text)`` of the messages that apply to what is on screen, oldest first (the last one is
        shown; the others are behind "+N")."""
        return [(m.level, m.text) for m in self._applicable()]

    def all_messages(self) -> list[tuple[str, str, str]]:
        """``(scope, level, text)`` of every message kept, including those of series not on screen."""
        return [(m.scope, m.level, m.text) for m in self._items]

    def shown(self) -> tuple[str, str] | None:
        """The message on the bar now, as ``(level, text)``."""
        items = self._applicable()
        return (items[-1].level, items[-1].text) if items else None

    def clear(self) -> None:
        for m in list(self._items):
            self._drop(m)
        self._refresh()

    def clear_scope(self, scope: str) -> None:
        """Remove the messages about ``scope`` (the action ended, the case was closed...)."""
        for m in [m for m in self._items if m.scope == scope]:
            self._drop(m)
        self._refresh()

    def set_shown_series(self, keys: set[str]) -> None:
        """The series in the views now: messages of other series step back until they are shown again."""
        self._shown_series = set(keys)
        self._refresh()

    # -- internals ------------------------------------------------------------------------------------------
    def _applies(self, m: _Message) -> bool:
        if m.scope.startswith("series:") and self._shown_series is not None:
            return m.scope[len("series:"):] in self._shown_series
        return True

    def _applicable(self) -> list[_Message]:
        return [m for m in self._items if self._applies(m)]

    def _refresh(self) -> None:
        items = self._applicable()
        front = items[-1] if items else None
        for m in self._items:
            m.setVisible(m is front)
        if front is not None:
            others = items[:-1]
            front.more.setVisible(bool(others))
            if others:
                front.more.setText(f"+{len(others)}")
                front.more.setToolTip(f"{len(others)} more message(s)")
                menu = QMenu(front.more)
                for m in reversed(others):
                    mark = LEVEL_STYLE.get(m.level, LEVEL_STYLE["info"])[2]
                    menu.addAction(f"{mark}  {m.text[:140]}", lambda m=m: self._bring_forward(m))
                front.more.setMenu(menu)
        self.setVisible(front is not None)

    def _bring_forward(self, m: _Message) -> None:
        if m in self._items:
            self._items.remove(m)
            self._items.append(m)
            self._refresh()

    def _drop(self, item: _Message) -> None:
        if item in self._items:
            self._items.remove(item)
            item.setParent(None)
            item.deleteLater()

    def _remove(self, item: _Message) -> None:
        self._drop(item)
        self._refresh()

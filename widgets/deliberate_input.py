"""Form controls that change a value only by a deliberate act of the reader.

Qt's stock controls change their value on keys and wheel turns that a reader gives for something else: a
closed combo box jumps to the first item starting with a typed letter ("L" -> "Lipomatous") and steps on
Up/Down and on the wheel; a focused radio button checks its neighbour on an arrow key; a spin box steps
on the wheel while the panel is being scrolled. In a form that records clinical data each of those is a
value nobody chose. The controls here keep the deliberate ways and drop the accidental ones:

* `ChoiceComboBox`: choose from the open list (click, or Space / F4 / Alt+Down to open it, then Enter);
  letters, Up/Down, PgUp/PgDn, Home/End and the wheel never change a closed combo (the wheel scrolls the
  panel instead).
* `ChoiceRadioButton`: click or Space checks it; arrow keys only move the focus between the answers.
* `ChoiceDoubleSpinBox`: the wheel steps it only while it has the focus (the reader clicked into it).
* `ChoiceTreeWidget`: no type-ahead search (a letter does not jump to another row).
* `ActionButton`: a button that edits the case (Clear grade, Delete finding...) keeps no keyboard focus after
  a mouse click, so a later Space or Enter meant for something else cannot press it again; keyboard users
  reach it with Tab.

:func:`is_text_entry` tells whether a widget takes typed text (the key router in :mod:`widgets.key_router`
leaves the keys to it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTextEdit,
    QTreeWidget,
    QWidget,
)

__all__ = ["ActionButton", "ChoiceComboBox", "ChoiceDoubleSpinBox", "ChoiceRadioButton", "ChoiceTreeWidget",
           "is_text_entry"]

_OPEN_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_F4)


class ChoiceComboBox(QComboBox):
    """A combo box whose value changes only through its open list (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # no focus from the wheel

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        key = event.key()
        alt_down = key == Qt.Key.Key_Down and event.modifiers() & Qt.KeyboardModifier.AltModifier
        if key in _OPEN_KEYS or alt_down:
            self.showPopup()
            event.accept()
            return
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Escape):
            super().keyPressEvent(event)
            return
        event.ignore()  # letters, arrows, paging: not a choice; let the window have them

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        event.ignore()  # scroll the panel, not the value


class ChoiceRadioButton(QRadioButton):
    """A radio button that arrow keys never check (they move the focus to the next answer only)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        key = event.key()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right) and not event.modifiers():
            buttons = self._siblings()
            if len(buttons) > 1 and self in buttons:
                step = -1 if key in (Qt.Key.Key_Up, Qt.Key.Key_Left) else 1
                i = buttons.index(self)
                target = buttons[(i + step) % len(buttons)]
                target.setFocus(Qt.FocusReason.TabFocusReason)
            event.accept()
            return
        super().keyPressEvent(event)

    def _siblings(self) -> list[QAbstractButton]:
        group = self.group()
        if group is not None:
            return [b for b in group.buttons() if b.isEnabled() and b.isVisible()]
        parent = self.parentWidget()
        if parent is None:
            return [self]
        return [b for b in parent.findChildren(QRadioButton) if b.autoExclusive() and b.isEnabled()]


class ChoiceDoubleSpinBox(QDoubleSpinBox):
    """A spin box that the wheel steps only while it has the focus."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        if not self.hasFocus():
            event.ignore()
            return
        super().wheelEvent(event)


class ActionButton(QPushButton):
    """A push button that takes the keyboard focus from Tab only (see the module docstring)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)


class ChoiceTreeWidget(QTreeWidget):
    """A tree without type-ahead search: a letter never moves the current row."""

    def keyboardSearch(self, search: str) -> None:  # noqa: N802 - Qt API
        return


def is_text_entry(widget: QWidget | None) -> bool:
    """Whether ``widget`` takes typed text (line and text edits, spin boxes, editable combo boxes)."""
    if widget is None:
        return False
    if isinstance(widget, QLineEdit | QTextEdit | QPlainTextEdit | QAbstractSpinBox):
        return not (isinstance(widget, QLineEdit) and widget.isReadOnly())
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    # the viewport of a text edit gets the focus proxy's keys
    parent = widget.parentWidget()
    return isinstance(parent, QTextEdit | QPlainTextEdit)
